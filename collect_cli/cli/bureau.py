"""`collect bureau export`: the credit-bureau file, gated on the pre-notice (REC-2)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from collect_cli.cli import render
from collect_cli.cli.options import AsOf, FormatOpt, as_of_date, not_after_today
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
    """Write the accounts whose adverse status may be reported: overdue accounts under no
    dispute or no-contact hold (HOLD-1, HOLD-3) whose borrower was told first (REC-2): a
    message of the current delinquency episode whose text as sent says adverse data will go
    to the credit bureau, sent at least bureau.notice_days (14) days before --as-of. The
    others are listed as held back, with the rule. --as-of may not be after today. Only what
    the bureau needs is written (no phone, no address); the export and each account in it
    are recorded in the audit.

    Example: collect bureau export --as-of 2026-11-30 --output bureau-2026-11-30.csv
    """
    app_ = ctx.obj
    day = not_after_today(as_of_date(as_of, app_.today()), app_.today())
    engine = app_.engine()
    with engine.connect() as conn:
        result = bureau_file(conn, as_of=day, settings=app_.settings)
    render.export_csv(output, FIELDS, result.reportable)
    at, who = app_.utcnow(), app_.operator()
    with engine.begin() as conn:
        q.add_audit(conn, [{"at": at, "agent": who, "action": "bureau export",
                            "loan_id": None, "detail": f"{len(result.reportable)} accounts as of {day.isoformat()} "
                                                       f"to {output}; {len(result.held_back)} held back"}]
                    + [{"at": at, "agent": who, "action": "bureau report", "loan_id": r["loan_id"],
                        "detail": f"as of {day.isoformat()}, {r['dpd']} days past due, to {output}"}
                       for r in result.reportable])
    if fmt_ is not Format.table:
        render.records_out(fmt_, result.held_back, [*FIELDS, "reason"])
    elif result.held_back:
        render.table(f"Held back ({len(result.held_back)})", [("loan", "left"), ("dpd", "right"), ("reason", "left")],
                     ([r["loan_id"], r["dpd"], r["reason"]] for r in result.held_back))
    render.note(f"bureau export {day.isoformat()}: {len(result.reportable):,} accounts written to {output}, "
                f"{len(result.held_back):,} held back (a hold, no pre-notice, or one too recent)")
