"""Every table, progress display, JSON and CSV output of the CLI lives here."""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from collect_cli.domain.money import fmt, fmt_grouped
from collect_cli.errors import UsageError, unwritable


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def out_console() -> Console:
    console = Console(highlight=False)
    if not console.is_terminal:  # cron, pipes: no colours, and no wrapping of wide tables
        console = Console(highlight=False, no_color=True, width=max(console.width, 200))
    return console


err = Console(stderr=True, highlight=False)


def error(message: str) -> None:
    err.print(f"Error: {message}", markup=False, soft_wrap=True, style="red" if err.is_terminal else None)


def note(message: str) -> None:
    err.print(message, markup=False, soft_wrap=True, style="dim" if err.is_terminal else None)


def summary(message: str, fmt: Format) -> None:
    """A command's one-line summary: data, on stdout after its table (so `… | tail -1` is the
    summary); with --format json or csv on stderr, which keeps stdout the document."""
    if fmt is Format.table:
        out_console().print(message, markup=False, soft_wrap=True)
    else:
        note(message)


def table(title: str | None, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]],
          footer: Sequence[Any] | None = None) -> None:
    """columns: (header, justify); footer: a total row, set apart."""
    t = Table(title=title, show_footer=footer is not None, title_justify="left")
    for i, (header, justify) in enumerate(columns):
        t.add_column(header, justify=justify, footer=str(footer[i]) if footer is not None else "",
                     no_wrap=justify == "right")
    for row in rows:
        t.add_row(*(str(c) for c in row))
    out_console().print(t)


def panel(title: str, lines: Sequence[str]) -> None:
    from rich.panel import Panel
    from rich.text import Text

    out_console().print(Panel(Text("\n".join(lines)), title=title, title_align="left", expand=False))


def json_out(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def csv_out(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)


def utc(moment, timespec: str = "seconds") -> str | None:
    """A naive UTC moment as the records print it: 2026-11-20 02:00:00 UTC."""
    return moment.isoformat(sep=" ", timespec=timespec) + " UTC" if moment is not None else None


def excel_safe(value: Any) -> str:
    """A cell starting with = + - @ is written with a leading ' so Excel never runs it as a formula;
    a number (a negative one too: days past a deadline) stays a number."""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def export_csv(path: Path, header: Sequence[str], records: Iterable[dict[str, Any]]) -> None:
    """A file handed outside (bureau, agency): owner-only, UTF-8 with BOM for Excel, Excel-safe.

    Written beside `path` and moved into place when complete, so a failure leaves what was
    there; and it replaces only an earlier file of the same layout (a rerun), never the store,
    a ledger file or anything else that happens to have that name."""
    _replaceable(path, header)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # personal data: owner only
        with open(fd, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")  # as --format csv prints it
            w.writerow(header)
            w.writerows([excel_safe(r[h]) for h in header] for r in records)
        os.replace(tmp, path)
    except OSError as exc:
        raise unwritable(path, exc) from None
    finally:
        tmp.unlink(missing_ok=True)


def _replaceable(path: Path, header: Sequence[str]) -> None:
    if not path.exists():
        return
    if not path.is_file():
        raise UsageError(f"{path}: not a file")
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            first = next(csv.reader([fh.readline(65536)]), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        first = []
    if first != list(header):
        raise UsageError(f"{path} exists and is not an earlier file of this export: it is left as it is; "
                         "choose another name or remove it")


def records_out(fmt: Format, records: Iterable[dict[str, Any]], header: Sequence[str]) -> None:
    """json or csv of plain records, streamed: a million accounts never sit in memory at once."""
    if fmt is Format.csv:  # Excel-safe: a name like "=cmd|…" from a ledger is never a formula
        csv_out(header, ([excel_safe(r[h]) for h in header] for r in records))
        return
    out = sys.stdout
    out.write("[")
    for i, record in enumerate(records):
        out.write(",\n  " if i else "\n  ")
        out.write(json.dumps(record, ensure_ascii=False, default=str))
    out.write("\n]\n")


@contextmanager
def file_progress() -> Iterator:
    """A callback (path, done, total) showing a bar on a terminal and one line per file otherwise."""
    if err.is_terminal:
        with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                      TimeRemainingColumn(), console=err, transient=True) as progress:
            tasks: dict[Path, Any] = {}

            def update(path: Path, done: int, total: int) -> None:
                if path not in tasks:
                    tasks[path] = progress.add_task(path.name, total=total)
                progress.update(tasks[path], completed=done)

            yield update
    else:
        started: set[Path] = set()

        def update(path: Path, done: int, total: int) -> None:
            if path not in started:
                started.add(path)
                note(f"importing {path} ({total:,} bytes)")

        yield update


# --- analyst reports (services/analyst.Report) ----------------------------------------------------

def cell(value: Any, kind: str, for_people: bool) -> Any:
    """A report value for a table (people) or for JSON/CSV (machines: money "1234.50",
    shares as percent "12.34", nothing as null/empty)."""
    if value is None:
        return "" if for_people else None
    if kind == "money":
        return fmt_grouped(value) if for_people else fmt(value)
    if kind == "pct":
        return f"{value * 100:.2f}"
    if kind == "int" and for_people:
        return f"{value:,}"
    return value


def report_out(rep, fmt_: Format, output: Path | None = None) -> None:
    """A report as Rich tables, JSON or CSV; with `output`, CSV to that file (UTF-8 with BOM for
    Excel, Excel-safe cells)."""
    if output is not None:
        header, rows = _report_csv(rep)
        export_csv(output, header, rows)
        note(f"{rep.title}: written to {output}")
        return
    if fmt_ is Format.json:
        json_out({"report": rep.name, "title": rep.title, "notes": rep.notes,
                  **{s.name: [{c.key: cell(r.get(c.key), c.kind, False) for c in s.columns} for r in s.rows]
                     for s in rep.sections}})
        return
    if fmt_ is Format.csv:
        header, rows = _report_csv(rep)
        csv_out(header, ([excel_safe(r[h]) for h in header] for r in rows))
        return
    for s in rep.sections:
        table(f"{rep.title}: {s.title}", [(c.header, "left" if c.kind == "text" else "right") for c in s.columns],
              ([cell(r.get(c.key), c.kind, True) for c in s.columns] for r in s.rows))
    for line in rep.notes:
        note(line)


def _report_csv(rep) -> tuple[list[str], list[dict]]:
    """One CSV: a single section as it is; several in long form with a `table` column."""
    if len(rep.sections) == 1:
        s = rep.sections[0]
        return [c.key for c in s.columns], [{c.key: cell(r.get(c.key), c.kind, False) for c in s.columns}
                                            for r in s.rows]
    header = ["table"]
    for s in rep.sections:
        header += [c.key for c in s.columns if c.key not in header]
    rows = [{"table": s.name, **dict.fromkeys(header[1:]), **{c.key: cell(r.get(c.key), c.kind, False)
                                                             for c in s.columns}}
            for s in rep.sections for r in s.rows]
    return header, rows
