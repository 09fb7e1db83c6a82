"""`collect placements propose|place|recall|list|statement`: an account with an outside agency
from the notice to the borrower (AGY-1) to its recall, and what the agency earns."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from collect_cli.cli import render
from collect_cli.cli.collector import Agent, agent_name
from collect_cli.cli.options import AsOf, FormatOpt, Now, as_of_date, day_of, moment, not_after_today
from collect_cli.cli.render import Format
from collect_cli.domain.money import fmt
from collect_cli.services import placements as svc
from collect_cli.services.escalation import PLACEMENT_FIELDS

AgencyOpt = Annotated[str, typer.Option("--agency", help="The agency, as in the register (collect agencies).")]


def propose_command(
    ctx: typer.Context,
    agency: AgencyOpt,
    as_of: AsOf = None,
    loan: Annotated[list[str] | None, typer.Option("--loan", help="Only these loans (repeatable).")] = None,
    channel: Annotated[str, typer.Option(help="The notice: letter (default) or sms.")] = "letter",
    agent: Agent = None,
    now: Now = None,
    fmt_: FormatOpt = Format.table,
) -> None:
    """Propose accounts to an agency and queue each borrower's notice (AGY-1): the accounts the
    escalation rules send to the agency stage (or escalated to this agency by hand), delinquent,
    under no dispute or no-contact hold, with a number an agency may use, not placed already.
    The notice names the agency and the first day of placement (placements.notice_days after
    it); `collect send` delivers it, then `placements place` places those whose notice went out
    long enough before. The agency must be allowed new placements (AGY-2).

    Example: collect placements propose --agency "Acme Recoveries" --as-of 2026-11-20
    """
    app_ = ctx.obj
    at = moment(now, app_)
    day = not_after_today(as_of_date(as_of, day_of(at, app_)), day_of(at, app_))
    done = svc.propose(engine=app_.engine(), settings=app_.settings, agency=agency, as_of=day, now=at,
                       agent=agent_name(app_, agent), channel=channel, loan_ids=loan or None)
    rows = [{"loan_id": loan_id, "placement": pid, "notice": mid, "left_out": None}
            for loan_id, pid, mid in done.noticed] + \
           [{"loan_id": r["loan_id"], "placement": None, "notice": None, "left_out": r["reason"]}
            for r in done.left_out]
    if fmt_ is not Format.table:
        render.records_out(fmt_, rows, ["loan_id", "placement", "notice", "left_out"])
    else:
        render.table(f"Proposed to {agency} ({len(done.noticed)})", [("loan", "left"), ("placement", "right"),
                                                                       ("notice", "right"), ("left out", "left")],
                     ([r["loan_id"], r["placement"] or "", r["notice"] or "", r["left_out"] or ""] for r in rows))
    render.summary(f"placements propose: {len(done.noticed):,} notices queued, {len(done.left_out):,} left out", fmt_)


def place_command(
    ctx: typer.Context,
    agency: AgencyOpt,
    output: Annotated[Path, typer.Option(help="The CSV file for the agency (UTF-8 with BOM).")],
    agent: Agent = None,
    now: Now = None,
) -> None:
    """Place the agency's proposed accounts whose notice was sent at least placements.notice_days
    (7) before and that may still go to an agency today (AGY-1, AGY-2): the file holds only what
    the agency needs (AGY-3), and each placement records the file, the fields shared, the bucket
    and DPD at placement (the commission rate) and the recall date (placements.term_days, 90).

    Example: collect placements place --agency "Acme Recoveries" --output acme-2026-11-27.csv
    """
    app_ = ctx.obj
    done = svc.place(engine=app_.engine(), settings=app_.settings, agency=agency, now=moment(now, app_),
                     agent=agent_name(app_, agent), output=output,
                     write=lambda rows: render.export_csv(output, PLACEMENT_FIELDS, rows))
    if done.waiting:
        render.table(f"Not placed yet ({len(done.waiting)})", [("loan", "left"), ("why", "left")],
                     ([r["loan_id"], r["reason"]] for r in done.waiting))
    render.note(f"placements for {agency}: {len(done.rows):,} placed, written to {output}; "
                f"{len(done.waiting):,} not yet")


def recall_command(
    ctx: typer.Context,
    loan: Annotated[str, typer.Argument(help="The loan to take back from its agency.")],
    reason: Annotated[str, typer.Option(help="Why; recorded.")],
    agent: Agent = None,
    now: Now = None,
) -> None:
    """Take an account back from its agency now (the nightly run also recalls at the recall
    date, on a dispute or no-contact hold, and on repayment). Payments from today on are the
    lender's again.

    Example: collect placements recall L00000861 --reason "borrower asked to deal with us directly"
    """
    app_ = ctx.obj
    placed = svc.recall(engine=app_.engine(), settings=app_.settings, loan_id=loan, reason=reason,
                        now=moment(now, app_), agent=agent_name(app_, agent))
    render.note(f"{loan}: recalled from {placed.agency}")


def activity_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The agency's contact file (CSV, UTF-8 or GBK).")],
    agency: AgencyOpt,
    agent: Agent = None,
    now: Now = None,
) -> None:
    """Take an agency's calls and visits into the contact log: columns loan_id (借据号), at
    (联系时间), channel (call | visit), outcome, and optionally number, collector (催收员), note,
    recording (录音编号, REC-3). Each is judged by the call rules at the moment it happened, with
    this lender's and the agency's calls together (WHEN-1..3: a day's 3 connected calls count
    all agents); one the rules refuse is recorded as it happened, as a breach, and counted in
    `report agencies`. Only accounts placed with the agency that day; a bad row writes nothing.

    Example: collect placements activity acme-calls-2026-11-30.csv --agency "Acme Recoveries"
    """
    app_ = ctx.obj
    done = svc.import_activity(engine=app_.engine(), settings=app_.settings, agency=agency, path=file,
                               agent=agent_name(app_, agent), now=moment(now, app_))
    for b in done.breaches:
        render.note(f"breach: {b}")
    render.note(f"{file}: {done.contacts:,} contacts recorded, {len(done.breaches):,} breaching the call rules")


def list_command(
    ctx: typer.Context,
    agency: Annotated[str | None, typer.Option("--agency", help="Only this agency's.")] = None,
    as_of: AsOf = None,
    fmt_: FormatOpt = Format.table,
) -> None:
    """Placements as recorded by the end of --as-of: proposed, placed, recalled, with their days.

    Example: collect placements list --agency "Acme Recoveries"
    """
    app_ = ctx.obj
    day = as_of_date(as_of, app_.today())
    with app_.engine().connect() as conn:
        found = svc.listing(conn, agency=agency, as_of=day, settings=app_.settings)
    if fmt_ is not Format.table:
        render.records_out(fmt_, found, svc.LIST_FIELDS)
        return
    render.table(f"Placements as of {day.isoformat()} ({len(found)})",
                 [(f, "left") for f in svc.LIST_FIELDS], ([r[f] if r[f] is not None else "" for f in svc.LIST_FIELDS]
                                                         for r in found))


def statement_command(
    ctx: typer.Context,
    agency: AgencyOpt,
    month: Annotated[str, typer.Option(metavar="YYYY-MM", help="The month the payments fall in.")],
    fmt_: FormatOpt = Format.table,
) -> None:
    """The commission statement of a month: per account placed with the agency, what was paid
    while it was placed (from the day of placement to the day before its recall; a reversal
    counts in its own month against the payment it reverses), the rate of its bucket or DPD at
    placement, and the commission (half up, in fen); the total.

    Example: collect placements statement --agency "Acme Recoveries" --month 2026-11
    """
    try:
        first = date.fromisoformat(f"{month}-01")
        last = _month_end(first)
    except ValueError:
        raise typer.BadParameter(f"{month!r}: a month such as 2026-11", param_hint="--month") from None
    app_ = ctx.obj
    with app_.engine().connect() as conn:
        st = svc.statement(conn, agency=agency, first=first, last=last, settings=app_.settings)
    rows = [{"loan_id": x.loan_id, "placed_on": x.placed_on.isoformat(), "bucket": x.bucket, "dpd": x.dpd,
             "rate": f"{x.rate_bp / 100:g}%", "recovered": fmt(x.recovered), "commission": fmt(x.commission)}
            for x in st.lines]
    fields = ["loan_id", "placed_on", "bucket", "dpd", "rate", "recovered", "commission"]
    total = {"loan_id": "total", "placed_on": "", "bucket": "", "dpd": "", "rate": "",
             "recovered": fmt(st.recovered), "commission": fmt(st.commission)}
    if fmt_ is Format.json:
        render.json_out({"agency": st.agency, "month": month, "accounts": rows,
                         "total": {"recovered": fmt(st.recovered), "commission": fmt(st.commission)}})
        return
    if fmt_ is Format.csv:
        render.records_out(fmt_, [*rows, total], fields)
        return
    render.table(f"Commission of {st.agency}, {month} ({len(rows)} accounts)", [(f, "left") for f in fields],
                 ([r[f] for f in fields] for r in rows), footer=[total[f] for f in fields])


def _month_end(first: date) -> date:
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)
