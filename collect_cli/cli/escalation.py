"""`collect escalations`, `collect escalate`, `collect placements export`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from collect_cli.cli import render
from collect_cli.cli.collector import Agent, agent_name
from collect_cli.cli.options import AsOf, FormatOpt, Now, as_of_date, day_of, moment, not_after_today
from collect_cli.cli.render import Format
from collect_cli.services.escalation import (
    PLACEMENT_FIELDS,
    STAGES,
    candidates,
    escalate,
    placement_rows,
    record_placement_export,
)


def escalations_command(ctx: typer.Context, as_of: AsOf = None, fmt_: FormatOpt = Format.table) -> None:
    """Accounts a rule proposes for the legal or agency stage, with the rule that fired
    (escalation.legal_amount, second_default_days, agency_dpd in collect.toml).

    Example: collect escalations --as-of 2026-11-20
    """
    app_ = ctx.obj
    day = as_of_date(as_of, app_.today())
    with app_.engine().connect() as conn:
        rows = candidates(conn, as_of=day, settings=app_.settings)
    fields = ["loan_id", "dpd", "overdue", "stage", "rule", "current_stage"]
    if fmt_ is not Format.table:
        render.records_out(fmt_, rows, fields)
        return
    render.table(f"Escalation candidates as of {day.isoformat()} ({len(rows)})",
                 [("loan", "left"), ("dpd", "right"), ("overdue", "right"), ("stage", "left"), ("rule", "left")],
                 ([r["loan_id"], r["dpd"], r["overdue"], r["stage"], r["rule"]] for r in rows))


def escalate_command(
    ctx: typer.Context,
    loan: Annotated[str, typer.Argument(help="The loan to escalate.")],
    stage: Annotated[str, typer.Option(help="legal or agency.")],
    agency: Annotated[str | None, typer.Option(help="With --stage agency: the agency it is placed with.")] = None,
    note: Annotated[str | None, typer.Option(help="Why.")] = None,
    agent: Agent = None,
    now: Now = None,
) -> None:
    """Move an account to the legal or agency stage (recorded, audited). An agency must be in
    the register, approved, under contract and evaluated with a pass in the last year (AGY-2;
    collect agencies), else exit 6.

    Example: collect escalate L00000861 --stage agency --agency "Acme Recoveries" --note "M7+, unreachable"
    """
    if stage not in STAGES:
        raise typer.BadParameter("legal or agency", param_hint="--stage")
    app_ = ctx.obj
    escalate(engine=app_.engine(), settings=app_.settings, loan_id=loan, stage=stage, agency=agency, note=note,
             agent=agent_name(app_, agent), now=moment(now, app_))
    render.note(f"{loan}: {stage}" + (f" with {agency}" if agency else ""))


placements = typer.Typer(help="Placements with outside agencies.\n\nExample: collect placements export --agency Acme "
                              "--output acme.csv", no_args_is_help=True, rich_markup_mode=None)


@placements.command("export")
def placements_export_command(
    ctx: typer.Context,
    agency: Annotated[str, typer.Option(help="The agency.")],
    output: Annotated[Path, typer.Option(help="The CSV file for the agency (UTF-8 with BOM).")],
    as_of: AsOf = None,
    agent: Agent = None,
    now: Now = None,
) -> None:
    """Write what an agency needs for the accounts placed with it, and nothing more (PIPL):
    loan, name, phone, days past due, overdue amount. Only accounts the contact policy lets
    it work go in: delinquent as of --as-of and still today, under no dispute or no-contact
    hold (HOLD-1, HOLD-3), with a phone that did not opt out (HOLD-2) and is not shared with
    another borrower id unconfirmed (WHO-4); the others are listed as held back, with why.
    --as-of may not be after today. What was shared with whom is recorded in the audit. The
    agency must be in the register with a contract in force (AGY-3: a written entrustment).

    Example: collect placements export --agency "Acme Recoveries" --output acme-2026-11-20.csv
    """
    app_ = ctx.obj
    at = moment(now, app_)
    today = day_of(at, app_)
    day = not_after_today(as_of_date(as_of, today), today)
    engine = app_.engine()
    with engine.connect() as conn:
        placed = placement_rows(conn, agency=agency, as_of=day, settings=app_.settings, today=today)
    rows = placed.rows
    render.export_csv(output, PLACEMENT_FIELDS, rows)
    if placed.held_back:
        render.table(f"Held back ({len(placed.held_back)})", [("loan", "left"), ("reason", "left")],
                     ([r["loan_id"], r["reason"]] for r in placed.held_back))
    record_placement_export(engine, placed, agency=agency, output=output, at=at,
                            agent=agent_name(app_, agent))
    render.note(f"placements for {agency}: {len(rows):,} accounts written to {output}, "
                f"{len(placed.held_back):,} held back")
