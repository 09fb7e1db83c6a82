"""`collect queue`: today's work for collectors."""

from __future__ import annotations

from typing import Annotated

import typer

from collect_cli.cli import render
from collect_cli.cli.options import (
    AsOf,
    FormatOpt,
    Now,
    Product,
    ShowPii,
    as_of_date,
    day_of,
    moment,
)
from collect_cli.cli.render import Format
from collect_cli.domain.money import fmt, fmt_grouped
from collect_cli.domain.pii import mask_phone
from collect_cli.domain.segments import ACTIONS
from collect_cli.services import listings
from collect_cli.services.assignment import assign, take
from collect_cli.services.contact_facts import end_of_day
from collect_cli.services.reports import work_queue

HELP = """Today's work queue: delinquent accounts, most urgent first, with why.

Score = 60 x min(DPD, 90)/90 + 40 x min(overdue, 10,000)/10,000, plus 15 for a promise
due today, 20 for a promise broken in the last 7 days, up to 10 for days since the last
contact (10 when never contacted) and 5 per other late loan of the borrower (at most 2).
Each account shows its segment (unreachable, unwilling, hardship, first-time, standard)
and whether the borrower may be called now, as the contact policy decides (WHEN-1 window,
WHEN-2/3 daily caps, WHEN-4 under the us rules). Accounts more than 90 days past due
(handover_dpd) belong to the legal / agency queue and are left out unless --all;
accounts under a hold that forbids calls (HOLD-3 no contact, HOLD-1 dispute) are left out,
and --supervisor lists them with the hold.
Weights are set in collect.toml [queue]. Phone numbers are masked unless --show-pii.
`collect queue assign` spreads today's queue over agents, `collect queue take` claims the
next accounts for one agent, and `--agent NAME` shows that agent's list.

Example: collect queue --limit 20
"""

app = typer.Typer(help=HELP, invoke_without_command=True, rich_markup_mode=None)

FIELDS = ["rank", "score", "loan_id", "borrower_id", "borrower_name", "phone", "dpd", "bucket",
          "overdue", "outstanding", "segment", "action", "call_now", "hold", "why"]


@app.callback()
def queue_command(
    ctx: typer.Context,
    as_of: AsOf = None,
    agent: Annotated[str | None, typer.Option(help="Only the accounts assigned to this agent today.")] = None,
    limit: Annotated[int, typer.Option(min=0, help="Show the N most urgent accounts; 0 for all.")] = 50,
    product: Product = None,
    include_all: Annotated[bool, typer.Option(
        "--all", help="Include accounts past the handover to legal / agency work.")] = False,
    supervisor: Annotated[bool, typer.Option(
        "--supervisor", help="Also list the accounts under a hold that forbids calls, with the hold.")] = False,
    show_pii: ShowPii = False,
    now: Now = None,
    fmt_: FormatOpt = Format.table,
) -> None:
    if ctx.invoked_subcommand is not None:
        return
    app_ = ctx.obj
    at = moment(now, app_)
    day = as_of_date(as_of, day_of(at, app_))
    with app_.engine().connect() as conn:
        mine = None if agent is None else listings.assigned_to(conn, agent, day, end_of_day(day, app_.settings.zone))
        queue = work_queue(conn, as_of=day, settings=app_.settings, limit=None if mine is not None else limit or None,
                           now=at, product=product, include_handover=include_all, supervisor=supervisor)
    entries = queue.entries if mine is None else [e for e in queue.entries if e.account.loan_id in mine]
    records = [
        {"rank": e.rank, "score": str(e.score), "loan_id": e.account.loan_id,
         "borrower_id": e.account.borrower_id, "borrower_name": e.account.borrower_name,
         "phone": e.account.phone if show_pii else mask_phone(e.account.phone),
         "dpd": e.account.state.dpd, "bucket": e.account.state.bucket,
         "overdue": fmt(e.account.state.overdue), "outstanding": fmt(e.account.state.outstanding_principal),
         "segment": e.segment, "action": ACTIONS[e.segment], "call_now": e.call_now, "hold": e.hold,
         "why": "; ".join(e.reasons)}
        for e in entries
    ]
    if queue.handed_over and not include_all:
        render.note(f"{queue.handed_over:,} of {queue.delinquent:,} delinquent accounts are more than "
                    f"{app_.settings.queue.handover_dpd} days past due: legal / agency queue, not listed "
                    "(--all lists them)")
    if queue.held and not supervisor:
        render.note(f"{queue.held:,} accounts under a hold that forbids calls (HOLD-1, HOLD-3) are left out: "
                    "supervisors only (--supervisor)")
    if fmt_ is not Format.table:
        render.records_out(fmt_, records, FIELDS)
        return
    listed = queue.delinquent - (0 if supervisor else queue.held) - (0 if include_all else queue.handed_over)
    title = f"Work queue of {agent}" if agent else "Work queue"
    render.table(
        f"{title} as of {day.isoformat()} (top {len(records):,} of {listed:,})",
        [("#", "right"), ("score", "right"), ("loan", "left"), ("name", "left"), ("phone", "left"),
         ("dpd", "right"), ("overdue", "right"), ("segment", "left"), ("call now", "left"), ("why", "left")],
        ([r["rank"], r["score"], r["loan_id"], r["borrower_name"], r["phone"], r["dpd"],
          fmt_grouped(e.account.state.overdue), r["segment"], r["call_now"], r["why"]]
         for e, r in zip(entries, records, strict=True)),
    )



@app.command("assign")
def assign_command(
    ctx: typer.Context,
    agents: Annotated[str, typer.Option(help="Today's agents, comma-separated: a,b,c.")],
    capacity: Annotated[int, typer.Option(min=1, help="At most N accounts per agent.")] = 40,
    as_of: AsOf = None,
    by: Annotated[str | None, typer.Option(help="Who assigns (default: the login name).")] = None,
    now: Now = None,
    fmt_: FormatOpt = Format.table,
) -> None:
    """Spread today's queue over the agents: most urgent first, an account stays with the agent
    who last worked it, the rest to whoever has fewest, up to --capacity each.

    Example: collect queue assign --agents wang,li,zhao --capacity 40
    """
    names = [a.strip() for a in agents.split(",") if a.strip()]
    if not names or len(set(names)) != len(names):
        raise typer.BadParameter("a comma-separated list of distinct names", param_hint="--agents")
    app_ = ctx.obj
    at = moment(now, app_)
    day = as_of_date(as_of, day_of(at, app_))
    result = assign(engine=app_.engine(), settings=app_.settings, as_of=day, now=at, agents=[n[:64] for n in names],
                    capacity=capacity, by=(by or app_.operator())[:64])
    _assigned(day, result, fmt_, f"Assigned for {day.isoformat()}")


@app.command("take")
def take_command(
    ctx: typer.Context,
    agent: Annotated[str, typer.Option(envvar="COLLECT_AGENT", help="The agent taking work.")],
    limit: Annotated[int, typer.Option(min=1, help="How many accounts to take.")] = 10,
    as_of: AsOf = None,
    now: Now = None,
    fmt_: FormatOpt = Format.table,
) -> None:
    """Take the next most urgent accounts nobody has today (safe with many agents at once).

    Example: collect queue take --agent wang --limit 10
    """
    app_ = ctx.obj
    at = moment(now, app_)
    day = as_of_date(as_of, day_of(at, app_))
    got = take(engine=app_.engine(), settings=app_.settings, as_of=day, now=at, agent=agent[:64], limit=limit)
    _assigned(day, {agent: got}, fmt_, f"Taken by {agent} for {day.isoformat()}")


def _assigned(day, result: dict[str, list[str]], fmt_: Format, title: str) -> None:
    """Who got which accounts: a row per account (csv), per agent (table), or the lists (json)."""
    if fmt_ is Format.json:
        render.json_out({"day": day.isoformat(), "agents": result,
                         **({"agent": next(iter(result)), "loans": next(iter(result.values()))}
                            if len(result) == 1 else {})})
    elif fmt_ is Format.csv:
        render.csv_out(["day", "agent", "loan_id"], ([day.isoformat(), a, loan] for a, ids in result.items()
                                                    for loan in ids))
    else:
        render.table(title, [("agent", "left"), ("accounts", "right"), ("loans", "left")],
                     ([a, len(ids), " ".join(ids)] for a, ids in result.items()))
