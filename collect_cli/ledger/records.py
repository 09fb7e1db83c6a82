"""Small record files others send (the bureau's disputes, an agency's activity): read whole,
header aliases matched case-insensitively after trimming, encodings as ledger files (UTF-8,
with BOM, GB18030/GBK); a bad file or row is an error naming the file, the line and the
column, and nothing of it is written."""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from collect_cli.errors import UnusableInput
from collect_cli.ledger.reader import sniff


def read_rows(path: Path, columns: dict[str, tuple[str, ...]], required: tuple[str, ...],
              what: str) -> list[tuple[int, dict[str, str]]]:
    """(line, {column: trimmed value}) for every row that is not blank."""
    aliases = {alias.casefold(): name for name, names in columns.items() for alias in names}
    sniffed = sniff(path)
    try:
        with path.open("rb") as fh:
            reader = csv.reader(io.TextIOWrapper(fh, encoding=sniffed.encoding, newline=""), strict=True)
            header = next(reader, None)
            if not header or not any(h.strip() for h in header):
                raise UnusableInput(f"{path}: line 1: no header row (the file is empty)")
            index: dict[str, int] = {}
            for pos, h in enumerate(header):
                name = aliases.get(h.strip().casefold())
                if name is not None:
                    if name in index:
                        raise UnusableInput(f"{path}: line 1: two columns mean {name}; keep one")
                    index[name] = pos
            missing = [c for c in required if c not in index]
            if missing:
                raise UnusableInput(f"{path}: line 1: {what} needs the column(s) {', '.join(missing)}; nothing "
                                    "was imported")
            rows, line = [], reader.line_num
            for fields in reader:
                start, line = line + 1, reader.line_num
                if "".join(fields).strip():
                    rows.append((start, {name: fields[pos].strip() if pos < len(fields) else ""
                                         for name, pos in index.items()}))
    except csv.Error as exc:
        raise UnusableInput(f"{path}: broken CSV: {exc}; nothing was imported") from None
    except OSError as exc:
        raise UnusableInput(f"{path}: cannot read: {exc.strerror}") from None
    return rows


def moment_of(text: str, zone: ZoneInfo, now: datetime) -> datetime:
    """A row's date and time as naive UTC (in `zone` unless it carries an offset); ValueError
    "why" for a day alone (it says nothing of the contact window), no date and time, or one
    still to come at `now`."""
    value = text.replace("/", "-")
    try:
        if len(value) <= 10:
            raise ValueError
        t = datetime.fromisoformat(value)
        at = (t if t.tzinfo else t.replace(tzinfo=zone)).astimezone(UTC).replace(tzinfo=None)
        if not 1900 <= at.year <= 9000:
            raise ValueError
    except (ValueError, OverflowError):
        raise ValueError(f"{text!r} is not a date and time such as 2026-11-21 15:30") from None
    if at > now:
        raise ValueError(f"{text} is still to come")
    return at


def bad_row(path: Path, line: int, column: str, why: str) -> UnusableInput:
    return UnusableInput(f"{path}: line {line}: {column}: {why}; nothing was imported")


@dataclass(frozen=True)
class Rejected:
    """A row of a record file that was not taken in, and why ("column: why")."""

    line: int
    values: dict[str, str]
    reason: str


def write_rejects(path: Path, rejected: list[Rejected], columns: list[str]) -> Path:
    """<file>.rejects.csv beside the file: each row with its line, its columns and why
    (owner-only: such files hold numbers and what people said)."""
    target = path.with_name(f"{path.stem}.rejects.csv")
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["line", *columns, "reason"])
        for x in sorted(rejected, key=lambda x: x.line):
            w.writerow([x.line, *(x.values.get(c, "") for c in columns), x.reason])
    return target
