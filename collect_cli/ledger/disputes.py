"""The credit bureau's dispute file (CASE-1): one row per dispute of a borrower's credit
information the bureau forwards, read whole before anything is written.

Columns (matched case-insensitively after trimming, Chinese aliases as the bureau's export
names them): loan_id (借据号, 贷款编号, 合同号, 业务号), received_on (异议日期, 受理日期,
提出日期), reference (异议编号, 异议流水号, 受理编号, 业务流水号: the bureau's own, which makes a
second import of the same dispute a no-op), summary (异议内容, 异议事项, 异议描述; optional).
Encodings as ledger files (UTF-8, with BOM, GB18030/GBK).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from collect_cli.errors import UnusableInput
from collect_cli.ledger.reader import sniff
from collect_cli.ledger.values import parse_date

COLUMNS = {
    "loan_id": ("loan_id", "借据号", "贷款编号", "合同号", "业务号"),
    "received_on": ("received_on", "异议日期", "受理日期", "提出日期"),
    "reference": ("reference", "dispute_id", "异议编号", "异议流水号", "受理编号", "业务流水号"),
    "summary": ("summary", "description", "异议内容", "异议事项", "异议描述"),
}
REQUIRED = ("loan_id", "received_on", "reference")
_ALIASES = {alias.casefold(): name for name, aliases in COLUMNS.items() for alias in aliases}


@dataclass(frozen=True)
class DisputeRow:
    line: int
    loan_id: str
    received_on: date
    reference: str
    summary: str | None


def read_disputes(path: Path, *, today: date) -> list[DisputeRow]:
    """Every row, or UnusableInput naming the file, the line and the column of the first bad one."""
    sniffed = sniff(path)
    try:
        with path.open("rb") as fh:
            text = io.TextIOWrapper(fh, encoding=sniffed.encoding, newline="")
            reader = csv.reader(text, strict=True)
            header = next(reader, None)
            if not header or not any(h.strip() for h in header):
                raise UnusableInput(f"{path}: line 1: no header row (the file is empty)")
            index = {}
            for pos, h in enumerate(header):
                name = _ALIASES.get(h.strip().casefold())
                if name is not None:
                    if name in index:
                        raise UnusableInput(f"{path}: line 1: two columns mean {name}; keep one")
                    index[name] = pos
            missing = [c for c in REQUIRED if c not in index]
            if missing:
                raise UnusableInput(f"{path}: line 1: a bureau dispute file needs the column(s) "
                                    f"{', '.join(missing)}; nothing was imported")
            rows, line, lines = [], reader.line_num, {}
            for fields in reader:
                start, line = line + 1, reader.line_num
                if "".join(fields).strip():
                    row = _row(path, start, fields, index, today)
                    if row.reference in lines:
                        raise UnusableInput(f"{path}: line {start}: reference: {row.reference!r} is on line "
                                            f"{lines[row.reference]} too: one dispute, one reference; nothing was "
                                            "imported")
                    lines[row.reference] = start
                    rows.append(row)
    except csv.Error as exc:
        raise UnusableInput(f"{path}: broken CSV: {exc}; nothing was imported") from None
    except OSError as exc:
        raise UnusableInput(f"{path}: cannot read: {exc.strerror}") from None
    return rows


def _row(path: Path, line: int, fields: list[str], index: dict[str, int], today: date) -> DisputeRow:
    def value(name: str) -> str:
        pos = index.get(name)
        return fields[pos].strip() if pos is not None and pos < len(fields) else ""

    def bad(column: str, why: str) -> UnusableInput:
        return UnusableInput(f"{path}: line {line}: {column}: {why}; nothing was imported")

    loan_id, reference = value("loan_id"), value("reference")
    if not loan_id or len(loan_id) > 64:
        raise bad("loan_id", "required, at most 64 characters")
    if not reference or len(reference) > 100:
        raise bad("reference", "required (the bureau's own reference), at most 100 characters")
    try:
        received_on = parse_date(value("received_on"))
    except ValueError as exc:
        raise bad("received_on", str(exc)) from None
    if received_on > today:
        raise bad("received_on", f"{received_on.isoformat()} is after today")
    summary = value("summary")[:2000] or None
    return DisputeRow(line, loan_id, received_on, reference, summary)
