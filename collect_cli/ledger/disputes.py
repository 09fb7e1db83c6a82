"""The credit bureau's dispute file (CASE-1): one row per dispute of a borrower's credit
information the bureau forwards, read whole before anything is written.

Columns (matched case-insensitively after trimming, Chinese aliases as the bureau's export
names them): loan_id (借据号, 贷款编号, 合同号, 业务号), received_on (异议日期, 受理日期,
提出日期), reference (异议编号, 异议流水号, 受理编号, 业务流水号: the bureau's own, which makes a
second import of the same dispute a no-op), summary (异议内容, 异议事项, 异议描述; optional).
Encodings as ledger files (UTF-8, with BOM, GB18030/GBK).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from collect_cli.ledger.records import bad_row, read_rows
from collect_cli.ledger.values import parse_date

COLUMNS = {
    "loan_id": ("loan_id", "借据号", "贷款编号", "合同号", "业务号"),
    "received_on": ("received_on", "异议日期", "受理日期", "提出日期"),
    "reference": ("reference", "dispute_id", "异议编号", "异议流水号", "受理编号", "业务流水号"),
    "summary": ("summary", "description", "异议内容", "异议事项", "异议描述"),
}
REQUIRED = ("loan_id", "received_on", "reference")


@dataclass(frozen=True)
class DisputeRow:
    line: int
    loan_id: str
    received_on: date
    reference: str
    summary: str | None


def read_disputes(path: Path, *, today: date) -> list[DisputeRow]:
    """Every row, or UnusableInput naming the file, the line and the column of the first bad one."""
    rows, lines = [], {}
    for line, values in read_rows(path, COLUMNS, REQUIRED, "a bureau dispute file"):
        row = _row(path, line, values, today)
        if row.reference in lines:
            raise bad_row(path, line, "reference", f"{row.reference!r} is on line {lines[row.reference]} too: one "
                                                   "dispute, one reference")
        lines[row.reference] = line
        rows.append(row)
    return rows


def _row(path: Path, line: int, values: dict[str, str], today: date) -> DisputeRow:
    loan_id, reference = values.get("loan_id", ""), values.get("reference", "")
    if not loan_id or len(loan_id) > 64:
        raise bad_row(path, line, "loan_id", "required, at most 64 characters")
    if not reference or len(reference) > 100:
        raise bad_row(path, line, "reference", "required (the bureau's own reference), at most 100 characters")
    try:
        received_on = parse_date(values.get("received_on", ""))
    except ValueError as exc:
        raise bad_row(path, line, "received_on", str(exc)) from None
    if received_on > today:
        raise bad_row(path, line, "received_on", f"{received_on.isoformat()} is after today")
    return DisputeRow(line, loan_id, received_on, reference, values.get("summary", "")[:2000] or None)
