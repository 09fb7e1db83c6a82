"""`collect bureau export`: the credit-bureau file, gated on the pre-notice (REC-2)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from collect_cli.cli import render
from collect_cli.cli.options import AsOf, FormatOpt, as_of_date, not_after_today
from collect_cli.cli.render import Format
from collect_cli.services.bureau import FIELDS, bureau_file, record_export

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

    Each record says what it is: a "report" of --as-of, or a "correction" of the latest day
    an earlier file reported for the account, when the ledger now proves a figure of that
    day wrong (a payment reversed since, a payment imported late): REC-2.

    Example: collect bureau export --as-of 2026-11-30 --output bureau-2026-11-30.csv
    """
    app_ = ctx.obj
    day = not_after_today(as_of_date(as_of, app_.today()), app_.today())
    engine = app_.engine()
    with engine.connect() as conn:
        result = bureau_file(conn, as_of=day, settings=app_.settings)
    render.export_csv(output, FIELDS, result.reportable)
    record_export(engine, result, as_of=day, output=output, at=app_.utcnow(), agent=app_.operator())
    if fmt_ is not Format.table:
        render.records_out(fmt_, result.held_back, [*FIELDS, "reason"])
    elif result.held_back:
        render.table(f"Held back ({len(result.held_back)})", [("loan", "left"), ("dpd", "right"), ("reason", "left")],
                     ([r["loan_id"], r["dpd"], r["reason"]] for r in result.held_back))
    corrections = sum(r["record"] == "correction" for r in result.reportable)
    render.note(f"bureau export {day.isoformat()}: {len(result.reportable) - corrections:,} accounts and "
                f"{corrections:,} corrections written to {output}, {len(result.held_back):,} held back (a hold, "
                "no pre-notice, or one too recent)")
