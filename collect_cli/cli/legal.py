"""`collect legal open|stage|letter|show`: litigation over a debt, stage by stage."""

from __future__ import annotations

from typing import Annotated

import typer

from collect_cli.cli import render
from collect_cli.cli.collector import Agent, agent_name
from collect_cli.cli.options import AsOf, FormatOpt, Now, as_of_date, date_option, moment
from collect_cli.cli.render import Format
from collect_cli.domain.legal import STAGES
from collect_cli.domain.money import fmt
from collect_cli.ledger.values import parse_money
from collect_cli.services import legal as svc
from collect_cli.services.contact_facts import end_of_day

app = typer.Typer(help="Legal cases (litigation): the lawyer's letter, filing, acceptance, preservation, hearing, "
                       "judgment, enforcement; the stage decides what contact goes on ([legal]).\n\n"
                       "Example: collect legal open L00000861 --lawyer 上海市浦江律师事务所",
                  no_args_is_help=True, rich_markup_mode=None)

Case = Annotated[int, typer.Argument(help="The legal case number.")]


def _money(value: str | None, hint: str) -> int:
    if value is None:
        return 0
    try:
        return parse_money(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=hint) from None


@app.command("open")
def open_command(ctx: typer.Context, loan: Annotated[str, typer.Argument(help="The loan to sue over.")],
                 lawyer: Annotated[str | None, typer.Option(help="The law firm acting (named in its letter).")] = None,
                 note: Annotated[str | None, typer.Option(help="Why, e.g. the escalation rule.")] = None,
                 agent: Agent = None, now: Now = None) -> None:
    """Open a legal case for a loan (one open case per loan); the account moves to the legal stage.

    Example: collect legal open L00000861 --lawyer 上海市浦江律师事务所 --note "M4, 21,000 overdue"
    """
    app_ = ctx.obj
    case_id = svc.open_legal(engine=app_.engine(), settings=app_.settings, loan_id=loan, lawyer=lawyer, note=note,
                             agent=agent_name(app_, agent), now=moment(now, app_))
    render.note(f"{loan}: legal case {case_id} opened")


@app.command("letter")
def letter_command(ctx: typer.Context, case: Case, agent: Agent = None, now: Now = None) -> None:
    """Queue the lawyer's letter (律师函, template lawyer_letter) to the borrower's postal
    address, judged like every message (no legal wording on a time-barred debt, SAY-7); it is
    the case's first stage. `collect send` delivers it.

    Example: collect legal letter 1
    """
    app_ = ctx.obj
    done = svc.letter(engine=app_.engine(), settings=app_.settings, case_id=case, agent=agent_name(app_, agent),
                      now=moment(now, app_))
    render.note(f"legal case {case}: lawyer's letter {done.message_id} queued (collect send)")


@app.command("stage")
def stage_command(ctx: typer.Context, case: Case,
                  stage: Annotated[str, typer.Option(help=" | ".join(s for s in STAGES if s != "letter"))],
                  on: Annotated[str | None, typer.Option(metavar="DATE", help="The day (default today).")] = None,
                  court: Annotated[str | None, typer.Option(help="The court.")] = None,
                  case_number: Annotated[str | None, typer.Option(help="The court's case number (案号).")] = None,
                  cost: Annotated[str | None, typer.Option(metavar="AMOUNT", help="Spent at this stage.")] = None,
                  awarded: Annotated[str | None, typer.Option(metavar="AMOUNT",
                                                              help="Awarded by the court (judgment).")] = None,
                  note: Annotated[str | None, typer.Option()] = None,
                  agent: Agent = None, now: Now = None) -> None:
    """Record the stage a legal case reached; stages move forward (one may be skipped), closed
    at any time. From legal.stop_automated_from (filed) the lender's automated reminders stop.

    Example: collect legal stage 1 --stage filed --court 上海市浦东新区人民法院 --cost 1250
    """
    app_ = ctx.obj
    state = svc.record_stage(engine=app_.engine(), settings=app_.settings, case_id=case, stage=stage,
                             on=date_option(on, "--on"), court=court, case_number=case_number,
                             cost=_money(cost, "--cost"), awarded=_money(awarded, "--awarded"), note=note,
                             agent=agent_name(app_, agent), now=moment(now, app_))
    render.note(f"legal case {case}: {state.stage} on {state.stage_on.isoformat()}; costs {fmt(state.costs)}, "
                f"awarded {fmt(state.awarded)}")


@app.command("show")
def show_command(ctx: typer.Context, case: Case, as_of: AsOf = None, fmt_: FormatOpt = Format.table) -> None:
    """One legal case: its stages with their days, court, case number, costs and awards.

    Example: collect legal show 1
    """
    app_ = ctx.obj
    day = as_of_date(as_of, app_.today())
    with app_.engine().connect() as conn:
        found = svc.views(conn, case_ids=[case], known_by=end_of_day(day, app_.settings.zone))
    if not found:
        raise typer.BadParameter(f"no legal case {case} known by {day.isoformat()}", param_hint="CASE")
    v = found[0]
    steps = [{"stage": e.stage, "on": e.on.isoformat(), "court": e.court, "case_number": e.case_number,
              "cost": fmt(e.cost), "awarded": fmt(e.awarded), "letter": e.message_id, "note": e.note,
              "agent": e.agent} for e in v.events]
    if fmt_ is Format.json:
        render.json_out({"case": v.id, "loan_id": v.loan_id, "lawyer": v.lawyer, "stage": v.state.stage,
                         "opened_on": v.state.opened_on.isoformat(), "costs": fmt(v.state.costs),
                         "awarded": fmt(v.state.awarded), "stages": steps})
        return
    fields = ["stage", "on", "court", "case_number", "cost", "awarded", "letter", "note", "agent"]
    if fmt_ is Format.csv:
        render.records_out(fmt_, steps, fields)
        return
    render.table(f"Legal case {v.id} of {v.loan_id} ({v.lawyer or 'no law firm'}), opened "
                 f"{v.state.opened_on.isoformat()}", [(f, "left") for f in fields],
                 ([s[f] if s[f] is not None else "" for f in fields] for s in steps))
