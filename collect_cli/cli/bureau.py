"""`collect bureau export`: the credit-bureau file, gated on the pre-notice (REC-2)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from collect_cli.cli import render
from collect_cli.cli.options import AsOf, FormatOpt, as_of_date
from collect_cli.cli.render import Format
from collect_cli.services.bureau import FIELDS, bureau_file
from collect_cli.store import queries as q

app = typer.Typer(help="Credit-bureau reporting.\n\nExample: collect bureau export --as-of 2026-11-30 --output bureau.csv",
                  no_args_is_help=True, rich_markup_mode=None)


@app.command("export")
def export_command(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option(help="The CSV file for the bureau (UTF-8 with BOM).")],
    as_of: AsOf = None,
    fmt_: FormatOpt = Format.table,
) -> None:
    """Write the accounts whose adverse status may be reported: overdue accounts whose
    pre-notice (the M2 letter, REC-2) was sent at least bureau.notice_days (14) days before.
    The others are listed as held back, with the reason. Only what the bureau needs is
    written (no phone, no address); the export is recorded in the audit.

    Example: collect bureau export --as-of 2026-11-30 --output bureau-2026-11-30.csv
    """
    app_ = ctx.obj
    day = as_of_date(as_of, app_.today())
    engine = app_.engine()
    with engine.connect() as conn:
        result = bureau_file(conn, as_of=day, settings=app_.settings)
    render.export_csv(output, FIELDS, result.reportable)
    with engine.begin() as conn:
        q.add_audit(conn, [{"at": app_.utcnow(), "agent": app_.operator(), "action": "bureau export",
                            "loan_id": None, "detail": f"{len(result.reportable)} accounts as of {day.isoformat()} "
                                                       f"to {output}; {len(result.held_back)} held back (REC-2)"}])
    if fmt_ is not Format.table:
        render.records_out(fmt_, result.held_back, [*FIELDS, "reason"])
    elif result.held_back:
        render.table(f"Held back ({len(result.held_back)})", [("loan", "left"), ("dpd", "right"), ("reason", "left")],
                     ([r["loan_id"], r["dpd"], r["reason"]] for r in result.held_back))
    render.note(f"bureau export {day.isoformat()}: {len(result.reportable):,} accounts written to {output}, "
                f"{len(result.held_back):,} held back (no pre-notice, or too recent)")
