"""`collect waive LOAN`: a waiver (减免) of penalty, interest or principal, within approval limits."""

from __future__ import annotations

from typing import Annotated

import typer

from collect_cli.cli import render
from collect_cli.cli.collector import Agent, agent_name
from collect_cli.cli.options import FormatOpt, Now, date_option, moment
from collect_cli.cli.render import Format
from collect_cli.domain.money import fmt, fmt_grouped
from collect_cli.ledger.values import parse_money
from collect_cli.services import waivers


def _amount(value: str | None, hint: str) -> int | None:
    try:
        return parse_money(value) if value is not None else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=hint) from None


def waive_command(
    ctx: typer.Context,
    loan: Annotated[str, typer.Argument(help="The loan.")],
    penalty: Annotated[str | None, typer.Option(metavar="AMOUNT", help="Penalty interest to waive.")] = None,
    interest: Annotated[str | None, typer.Option(metavar="AMOUNT", help="Interest to waive.")] = None,
    principal: Annotated[str | None, typer.Option(
        metavar="AMOUNT", help="Principal to waive (a settlement: needs --if-paid-by).")] = None,
    if_paid_by: Annotated[str | None, typer.Option(
        metavar="DATE", help="Only if the rest of the debt is paid by this day (from the ledger).")] = None,
    approved_by: Annotated[str | None, typer.Option(
        metavar="NAME", help="Who approves a waiver over your limit ([waivers] roles and limits).")] = None,
    note: Annotated[str | None, typer.Option(help="Why.")] = None,
    agent: Agent = None,
    now: Now = None,
    fmt_: FormatOpt = Format.table,
) -> None:
    """Waive penalty interest, interest or (as a settlement) principal of a loan. Each role
    may waive up to its limit per waiver ([waivers] in collect.toml; anyone not named there
    is a collector: 500 penalty, 200 interest, no principal; a supervisor 20,000 / 10,000 /
    5,000 yuan); more needs --approved-by someone whose role allows it (else exit 6, WAIVE-LIMIT,
    recorded). A waiver takes off what is unpaid of that part, oldest installment first,
    from today; with --if-paid-by it takes effect on the day the rest is paid, if that is by
    the date (the nightly run checks the ledger), and lapses otherwise. Replays of earlier
    days see the debt before it. Audited.

    Example: collect waive L00000044 --interest 80 --if-paid-by 2026-11-30 --agent wang
    """
    parts = {k: v for k, v in (("penalty", _amount(penalty, "--penalty")), ("interest", _amount(interest, "--interest")),
                               ("principal", _amount(principal, "--principal"))) if v is not None}
    if len(parts) != 1:
        raise typer.BadParameter("give one of --penalty, --interest or --principal AMOUNT (one waiver at a time)",
                                 param_hint="--penalty")
    app_ = ctx.obj
    by = date_option(if_paid_by, "--if-paid-by")
    who, at = agent_name(app_, agent), moment(now, app_)
    ((component, amount),) = parts.items()
    done = [waivers.grant(engine=app_.engine(), loan_id=loan, component=component, amount=amount, if_paid_by=by,
                          agent=who, approved_by=approved_by, note=note, now=at, settings=app_.settings)]
    rows = [{"waiver": g.waiver_id, "loan_id": g.loan_id, "component": g.component, "amount": fmt(g.amount),
             "granted_on": g.granted_on.isoformat(), "if_paid_by": g.if_paid_by.isoformat() if g.if_paid_by else None,
             "rest": fmt(g.rest) if g.if_paid_by else None,
             "effective_on": g.effective_on.isoformat() if g.effective_on else None} for g in done]
    if fmt_ is not Format.table:
        render.records_out(fmt_, rows, list(rows[0]))
        return
    for g in done:
        when = (f"in effect from {g.effective_on.isoformat()}" if g.effective_on else
                f"takes effect when {fmt_grouped(g.rest)} is paid by {g.if_paid_by.isoformat()}")
        render.summary(f"{g.loan_id}: waiver {g.waiver_id}: {g.component} {fmt_grouped(g.amount)} by {who}, {when}", fmt_)
