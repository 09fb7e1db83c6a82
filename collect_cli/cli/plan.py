"""`collect plan LOAN`: propose, check and apply a restructuring plan."""

from __future__ import annotations

from typing import Annotated

import typer

from collect_cli.cli import render
from collect_cli.cli.collector import Agent, agent_name
from collect_cli.cli.options import AsOf, FormatOpt, as_of_date, date_option
from collect_cli.cli.render import Format
from collect_cli.domain.money import fmt, fmt_grouped
from collect_cli.errors import Refused, UsageError
from collect_cli.services import plans


def plan_command(
    ctx: typer.Context,
    loan: Annotated[str, typer.Argument(help="The loan to restructure.")],
    installments: Annotated[int | None, typer.Option(
        metavar="N", min=1, help="Spread the unpaid money over N monthly installments.")] = None,
    extend_days: Annotated[int | None, typer.Option(
        metavar="N", min=1, help="Move every unpaid installment N days later.")] = None,
    first_due: Annotated[str | None, typer.Option(
        metavar="DATE", help="With --installments: the first due date (default: one month after the plan date).")] = None,
    as_of: AsOf = None,
    apply: Annotated[bool, typer.Option("--apply", help="Record the plan and write its schedule.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show the proposal (the default).")] = False,
    note: Annotated[str | None, typer.Option(help="Why (recorded with --apply).")] = None,
    agent: Agent = None,
    fmt_: FormatOpt = Format.table,
) -> None:
    """Propose a restructuring plan for the overdue and remaining money, check it against the
    eligibility rules ([plans] in collect.toml: days past due, broken promises, earlier plans,
    term) and, with --apply, record it: the new schedule replaces the old one, which stays in
    history. Nothing is written without --apply. A refused plan names every rule it fails (exit 6).

    Example: collect plan L00000044 --installments 6 --as-of 2026-11-20
    """
    if apply and dry_run:
        raise UsageError("--apply and --dry-run contradict each other")
    app_ = ctx.obj
    day = as_of_date(as_of, app_.today())
    start = date_option(first_due, "--first-due")
    terms = {"loan_id": loan, "plan_on": day, "settings": app_.settings, "installments": installments,
             "extend_days": extend_days, "first_due": start}
    if apply:
        if day > app_.today():
            raise UsageError(f"--as-of {day.isoformat()} is after today: a plan is applied as of today or earlier")
        p = plans.apply(engine=app_.engine(), agent=agent_name(app_, agent), now=app_.utcnow(), note=note, **terms)
    else:
        with app_.engine().connect() as conn:
            p = plans.propose(conn, **terms)
    _show(p, fmt_)
    if p.refusals:
        raise Refused("; ".join(map(str, p.refusals)))


def _show(p: plans.Proposal, fmt_: Format) -> None:
    schedule = [{"seq": i.seq, "due_on": i.due_on.isoformat(), "principal": fmt(i.principal_due),
                 "interest": fmt(i.interest_due), "fee": fmt(i.fee_due), "total": fmt(i.total_due),
                 "paid": fmt(pos.paid)}
                for pos in p.after.positions for i in [pos.installment]]
    if fmt_ is Format.csv:  # the installments import format: what the core system books, or `collect import` reads
        render.records_out(fmt_, ({"loan_id": p.loan_id, "seq": i.seq, "due_on": i.due_on.isoformat(),
                                   "principal_due": fmt(i.principal_due), "interest_due": fmt(i.interest_due),
                                   "fee_due": fmt(i.fee_due)} for i in p.schedule),
                           ["loan_id", "seq", "due_on", "principal_due", "interest_due", "fee_due"])
        return
    if fmt_ is Format.json:
        render.json_out({
            "loan_id": p.loan_id, "plan_on": p.plan_on.isoformat(), "kind": p.kind, "terms": plans.describe(p),
            "eligible": not p.refusals, "refusals": [{"rule": r.rule, "why": r.why} for r in p.refusals],
            "amount": fmt(p.amount), "applied": p.plan_id is not None, "plan_id": p.plan_id,
            "before": _figures(p.before), "after": _figures(p.after), "schedule": schedule,
        })
        return
    verdict = (f"applied as plan {p.plan_id}" if p.plan_id else
               "refused" if p.refusals else "eligible; nothing written (add --apply to record it)")
    render.panel(f"Plan for {p.loan_id} as of {p.plan_on.isoformat()}: {verdict}", [
        f"terms: {plans.describe(p)}, {fmt_grouped(p.amount)} unpaid re-scheduled",
        f"before: {p.before.dpd} days past due, overdue {fmt_grouped(p.before.overdue)}, bucket {p.before.bucket}",
        (f"after:  {p.after.dpd} days past due, overdue {fmt_grouped(p.after.overdue)}, "
         f"first due {p.first_due.isoformat() if p.after.total_unpaid else '-'}") if p.schedule else
        "after:  no new schedule (the terms are refused)",
        *(f"refused by {r}" for r in p.refusals),
    ])
    if not p.schedule:
        return
    render.table("New schedule", [("seq", "right"), ("due", "left"), ("principal", "right"), ("interest", "right"),
                                  ("fee", "right"), ("total", "right"), ("paid", "right")],
                 ([i.seq, i.due_on.isoformat(), *map(fmt_grouped, (i.principal_due, i.interest_due, i.fee_due,
                                                                   i.total_due, pos.paid))]
                  for pos in p.after.positions for i in [pos.installment]))


def _figures(state) -> dict:
    return {"dpd": state.dpd, "bucket": state.bucket, "overdue": fmt(state.overdue),
            "unpaid": fmt(state.total_unpaid), "paid": fmt(state.paid_to_date)}
