"""`collect import`: thin wrapper over services.importer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from collect_cli.cli import render
from collect_cli.cli.options import date_option
from collect_cli.cli.render import Format
from collect_cli.errors import EXIT_OK, EXIT_REJECTED_ROWS, EXIT_UNUSABLE
from collect_cli.ledger.kinds import KIND_ORDER
from collect_cli.services import listings
from collect_cli.services.importer import (
    FileResult,
    ImportOptions,
    import_files,
    name_check,
)
from collect_cli.services.numbers import count_shared

HELP = """Import ledger CSV files (loans, installments, payments, reversals, loan events) into
the store.

The kind of each file is recognised from its header (Chinese headers accepted); loans are
imported first whatever the order given, then schedules, payments, reversals and events.
One file is one transaction. Importing the same file again changes nothing. Rejected rows
go to FILE.rejects.csv beside the input, with `line` and `reason` columns.

Exit codes: 0 all rows imported; 3 some rows rejected; 2 a file unusable (nothing of it
written); 1 any other failure.

`collect import history` lists the files imported so far (latest first), with their hash,
counts and operator (as does `collect audit --action import`).

With --complete-schedule an installments file is the whole schedule of each loan it holds
(an early settlement or a reschedule exported by the core system): rows it lacks are
retired to history, and from --effective-on (default today) the loan has the new schedule;
a replay of an earlier day still sees the old one.

Example: collect import loans.csv installments.csv payments.csv
"""


HISTORY_FIELDS = ["batch", "started_at", "file", "kind", "encoding", "sha256", "read", "inserted", "updated",
                  "unchanged", "rejected", "operator"]


def _history(app, fmt: Format) -> None:
    with app.engine().connect() as conn:
        rows = listings.import_history(conn)
    records = [{"batch": r.id, "started_at": r.started_at.isoformat(sep=" ", timespec="seconds") + " UTC",
                "file": r.file_name, "kind": r.kind, "encoding": r.encoding, "sha256": r.sha256, "read": r.rows_read,
                "inserted": r.inserted, "updated": r.updated, "unchanged": r.unchanged, "rejected": r.rejected,
                "operator": r.operator} for r in rows]
    if fmt is not Format.table:
        render.records_out(fmt, records, HISTORY_FIELDS)
        return
    shown = [f for f in HISTORY_FIELDS if f != "sha256"]
    render.table(f"Imports ({len(records)})",
                 [(f, "right" if f in ("batch", "read", "inserted", "updated", "unchanged", "rejected") else "left")
                  for f in shown + ["sha256"]],
                 ([*(f"{r[f]:,}" if isinstance(r[f], int) and f != "batch" else str(r[f]) for f in shown),
                   r["sha256"][:12] + "…"] for r in records))


def import_command(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="CSV files to import.")],
    kind: Annotated[str | None, typer.Option(
        help="Force the kind of every file: loans, installments, payments, reversals or loan_events.")] = None,
    encoding: Annotated[str | None, typer.Option(
        help="Force the encoding: utf-8, utf-8-sig, gbk or gb18030 (default: detected).")] = None,
    date_format: Annotated[str | None, typer.Option(
        "--date-format", help="How to read day-first/month-first dates: dmy, mdy or a strptime "
                               "pattern such as %d.%m.%Y.")] = None,
    rejects: Annotated[Path | None, typer.Option(
        help="Where rejected rows go: a file (one input) or a folder.")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Import a file again even if the same content was imported before.")] = False,
    complete_schedule: Annotated[bool, typer.Option(
        "--complete-schedule", help="The installments files hold the whole schedule of each of their loans "
                                    "(an early settlement, a reschedule): rows they lack are retired, kept in "
                                    "history.")] = False,
    effective_on: Annotated[str | None, typer.Option(
        "--effective-on", metavar="DATE", help="With --complete-schedule: the day the schedules take effect "
                                               "(default today); a replay of an earlier day sees the old "
                                               "ones.")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Summary as table, json or csv.")] = \
        Format.table,
) -> None:
    if [str(f) for f in files] == ["history"] and not files[0].exists():
        _history(ctx.obj, fmt)
        return
    if kind is not None and kind not in KIND_ORDER:
        raise typer.BadParameter(f"{kind!r} is not one of {', '.join(KIND_ORDER)}", param_hint="--kind")
    if effective_on is not None and not complete_schedule:
        raise typer.BadParameter("--effective-on goes with --complete-schedule", param_hint="--effective-on")
    app = ctx.obj
    complete_from = (date_option(effective_on, "--effective-on") or app.today()) if complete_schedule else None
    options = ImportOptions(kind=kind, encoding=encoding, date_format=date_format, rejects=rejects, force=force,
                            name_problem=name_check(app.settings), names=app.settings.ledger.suspicious_names,
                            complete_from=complete_from)
    engine = app.engine(create=True)
    with render.file_progress() as progress:
        results = import_files(engine=engine, paths=files, options=options, now=app.utcnow, progress=progress)
    _render(results, fmt)
    if any(r.kind == "loans" and r.status == "imported" for r in results):
        with engine.connect() as conn:
            shared = count_shared(conn)
        if shared:  # WHO-4: flagged at import, so someone confirms whose they are
            render.note(f"{shared:,} phone number(s), e-mail(s) or push id(s) are on file for several borrower ids: "
                        "no message about a debt goes to them until it is confirmed whose they are "
                        "(collect numbers shared; collect numbers confirm)")
    raise typer.Exit(exit_code(results))


def exit_code(results: list[FileResult]) -> int:
    if any(r.status == "unusable" for r in results):
        return EXIT_UNUSABLE
    if any(r.rejected for r in results):
        return EXIT_REJECTED_ROWS
    return EXIT_OK


def _render(results: list[FileResult], fmt: Format) -> None:
    for r in results:
        if r.status == "unusable":
            render.error(r.message or "unusable file")
        elif r.status == "already imported":
            render.note(f"{r.path}: already imported: {r.message}")
        if r.unknown_columns:
            render.note(f"{r.path}: ignored unknown column(s): {', '.join(r.unknown_columns)}")
        if r.flagged_names:
            render.note(f"{r.path}: {r.flagged_names} borrower name(s) hold what a name does not (digits, brackets, "
                        "a web address, lexicon words): imported, and messages greet them neutrally")
    if fmt is Format.json:
        render.json_out([_as_json(r) for r in results])
        return
    if fmt is Format.csv:  # the same fields as the JSON, a row per file
        records = [{k: "; ".join(v) if isinstance(v, list) else v for k, v in _as_json(r).items()} for r in results]
        render.records_out(fmt, records, list(records[0]))
        return
    render.table(
        "Import",
        [("file", "left"), ("kind", "left"), ("status", "left"), ("read", "right"),
         ("inserted", "right"), ("updated", "right"), ("unchanged", "right"),
         ("rejected", "right"), ("rejects file", "left")],
        ([r.path.name, r.kind or "?", r.status, f"{r.rows_read:,}", f"{r.inserted:,}",
          f"{r.updated:,}", f"{r.unchanged:,}", f"{r.rejected:,}", str(r.rejects_path or "")]
         for r in results),
    )
    render.summary(f"import: {len(results)} file(s), {sum(r.rows_read for r in results):,} rows read, "
                   f"{sum(r.inserted for r in results):,} new, {sum(r.updated for r in results):,} updated, "
                   f"{sum(r.unchanged for r in results):,} unchanged, {sum(r.rejected for r in results):,} rejected"
                   + (f", {sum(r.status == 'unusable' for r in results)} unusable"
                      if any(r.status == "unusable" for r in results) else ""), fmt)


def _as_json(r: FileResult) -> dict:
    return {
        "file": str(r.path), "kind": r.kind, "encoding": r.encoding, "status": r.status,
        "read": r.rows_read, "inserted": r.inserted, "updated": r.updated,
        "unchanged": r.unchanged, "rejected": r.rejected,
        "rejects": str(r.rejects_path) if r.rejects_path else None,
        "unknown_columns": r.unknown_columns, "flagged_names": r.flagged_names, "batch": r.batch_id,
        "message": r.message,
    }
