"""`collect agencies add|edit|evaluate|list`: the register of outside agencies (AGY-2)."""

from __future__ import annotations

from typing import Annotated

import typer

from collect_cli.cli import render
from collect_cli.cli.collector import Agent, agent_name
from collect_cli.cli.options import AsOf, FormatOpt, Now, as_of_date, date_option, day_of, moment
from collect_cli.cli.render import Format
from collect_cli.domain.agencies import STATUSES
from collect_cli.services import agencies as svc

app = typer.Typer(help="The register of outside agencies (AGY-2): white list, contract, commission, evaluations. "
                       "Only an approved agency within its contract, evaluated with a pass in the last year, "
                       "receives new placements.\n\n"
                       "Example: collect agencies add 'Acme Recoveries' --contract-start 2026-01-01 "
                       "--contract-end 2026-12-31 --commission 'M3=15%,M4=20%,M5=25%,M6=25%,M7+=30%'",
                  no_args_is_help=True, rich_markup_mode=None)

Name = Annotated[str, typer.Argument(help="The agency's name, as in the register.")]
Commission = Annotated[str | None, typer.Option(
    metavar="RATES", help="Per bucket at placement, 'M3=15%,M4=20%', or per days past due at placement, "
                          "'61-90=15%,91+=20%'.")]


@app.command("add")
def add_command(ctx: typer.Context, name: Name,
                contract_start: Annotated[str, typer.Option(metavar="DATE", help="The contract's first day.")],
                contract_end: Annotated[str, typer.Option(metavar="DATE", help="The contract's last day.")],
                commission: Commission = None,
                status: Annotated[str, typer.Option(help=" | ".join(STATUSES))] = "approved",
                note: Annotated[str | None, typer.Option(help="The entrustment's reference, contacts…")] = None,
                agent: Agent = None, now: Now = None) -> None:
    """Add an agency to the register. It receives placements only after a passing evaluation
    (collect agencies evaluate).

    Example: collect agencies add 'Acme Recoveries' --contract-start 2026-01-01 --contract-end 2026-12-31
    --commission 'M3=15%,M4=20%'
    """
    if commission is None:
        raise typer.BadParameter("the commission the contract sets, e.g. 'M3=15%,M4=20%'", param_hint="--commission")
    app_ = ctx.obj
    svc.add_agency(engine=app_.engine(), settings=app_.settings, name=name,
                   contract_start=date_option(contract_start, "--contract-start"),
                   contract_end=date_option(contract_end, "--contract-end"), commission=commission, status=status,
                   note=note, agent=agent_name(app_, agent), now=moment(now, app_))
    render.note(f"{name}: added ({status}); it receives placements after a passing evaluation")


@app.command("edit")
def edit_command(ctx: typer.Context, name: Name,
                 status: Annotated[str | None, typer.Option(help=" | ".join(STATUSES))] = None,
                 contract_start: Annotated[str | None, typer.Option(metavar="DATE")] = None,
                 contract_end: Annotated[str | None, typer.Option(
                     metavar="DATE", help="A later end is a renewal: it needs a passing evaluation since the "
                                          "contract was last set.")] = None,
                 commission: Commission = None,
                 note: Annotated[str | None, typer.Option()] = None,
                 agent: Agent = None, now: Now = None) -> None:
    """Change an agency: a new version of its record (the old ones stay).

    Example: collect agencies edit 'Acme Recoveries' --status suspended --note "complaints under review"
    """
    app_ = ctx.obj
    svc.edit_agency(engine=app_.engine(), settings=app_.settings, name=name, agent=agent_name(app_, agent),
                    now=moment(now, app_), status=status,
                    contract_start=date_option(contract_start, "--contract-start"),
                    contract_end=date_option(contract_end, "--contract-end"), commission=commission, note=note)
    render.note(f"{name}: changed")


@app.command("evaluate")
def evaluate_command(ctx: typer.Context, name: Name,
                     compliance: Annotated[str, typer.Option(help="pass | fail")],
                     results: Annotated[str, typer.Option(help="pass | fail")],
                     security: Annotated[str, typer.Option(help="Information security: pass | fail.")],
                     on: Annotated[str | None, typer.Option(metavar="DATE", help="The day of the evaluation "
                                                                                  "(default today).")] = None,
                     note: Annotated[str | None, typer.Option(help="Findings, the report's reference.")] = None,
                     agent: Agent = None, now: Now = None) -> None:
    """Record an evaluation (AGY-2: at least once a year and before each renewal): compliance,
    results and information security, each pass or fail. Only a pass on all three counts.

    Example: collect agencies evaluate 'Acme Recoveries' --compliance pass --results pass --security pass
    """
    app_ = ctx.obj
    at = moment(now, app_)
    day = date_option(on, "--on") or day_of(at, app_)
    passed = svc.evaluate(engine=app_.engine(), settings=app_.settings, name=name, on=day, compliance=compliance,
                          results=results, security=security, note=note, agent=agent_name(app_, agent), now=at)
    render.note(f"{name}: evaluation of {day.isoformat()} recorded ({'passed' if passed else 'failed'})")


@app.command("list")
def list_command(ctx: typer.Context, as_of: AsOf = None, fmt_: FormatOpt = Format.table) -> None:
    """The register as recorded by the end of --as-of, and whether each agency may receive new
    placements that day (and why not).

    Example: collect agencies list --format json
    """
    app_ = ctx.obj
    day = as_of_date(as_of, app_.today())
    with app_.engine().connect() as conn:
        rows = [v.row(day) for v in svc.register(conn, on=day, settings=app_.settings)]
    if fmt_ is not Format.table:
        render.records_out(fmt_, rows, svc.FIELDS)
        return
    render.table(f"Agencies as of {day.isoformat()} ({len(rows)})",
                 [("agency", "left"), ("status", "left"), ("contract", "left"), ("commission", "left"),
                  ("evaluated", "left"), ("due", "left"), ("new placements", "left")],
                 ([r["agency"], r["status"], f"{r['contract_start']} to {r['contract_end']}", r["commission"],
                   r["last_passed"] or "never", r["evaluation_due"] or "", "yes" if r["may_place"] else r["why_not"]]
                  for r in rows))
