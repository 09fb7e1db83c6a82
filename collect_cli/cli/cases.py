"""`collect case …` (one case: open, assign, investigate, extend, answer, close, show) and
`collect cases` (the list, by deadline)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from collect_cli.cli import render
from collect_cli.cli.collector import Agent, agent_name
from collect_cli.cli.options import AsOf, FormatOpt, Now, ShowPii, as_of_date, date_option, moment
from collect_cli.cli.render import Format
from collect_cli.domain.cases import KINDS
from collect_cli.domain.pii import mask_text
from collect_cli.services import cases as svc

app = typer.Typer(help="One dispute or complaint with its deadline (CASE-1..3): open, assign, investigate, extend, "
                       "answer (the written answer letter), close (releases its hold).\n\n"
                       "Example: collect case open L00000044 --kind dispute --summary 'says 10-05 payment missing'",
                  no_args_is_help=True, rich_markup_mode=None)

Case = Annotated[int, typer.Argument(help="The case number (collect cases).")]


def _kind(value: str) -> str:
    if value not in KINDS:
        raise typer.BadParameter(f"one of {', '.join(KINDS)}", param_hint="--kind")
    return value


@app.command("open")
def open_command(
    ctx: typer.Context,
    loan: Annotated[str, typer.Argument(help="The loan the case is about.")],
    kind: Annotated[str, typer.Option(help=" | ".join(KINDS))],
    summary: Annotated[str | None, typer.Option(help="What the borrower says, briefly.")] = None,
    received_on: Annotated[str | None, typer.Option(
        metavar="DATE", help="The day it was received (default today): the deadline counts from it.")] = None,
    owner: Annotated[str | None, typer.Option(help="Who handles it (default: who opens it).")] = None,
    reference: Annotated[str | None, typer.Option(help="The bureau's or the complaint's own reference.")] = None,
    agent: Agent = None,
    now: Now = None,
) -> None:
    """Open a case, with its deadline counted in calendar days from the day after it was
    received: a dispute of the debt (CASE-3, cases.dispute_days, 20), a dispute of credit
    information (CASE-1, 20 days), a complaint (CASE-2, 15 days; extend for a complex one).
    It places its hold at once: a dispute HOLD-1 (no collection until answered), a bureau
    dispute keeps the loan out of the bureau file (REC-2), a complaint HOLD-3 (no contact while
    it is under review, on every loan of the borrower). A dispute or complaint logged on a call
    or in a reply opens its case by itself. --received-on may not be before the loan existed.

    Example: collect case open L00000044 --kind complaint --summary "says the calls were rude"
    """
    app_ = ctx.obj
    opened = svc.open_case_now(engine=app_.engine(), loan_id=loan, kind=kind, settings=app_.settings,
                               agent=agent_name(app_, agent), now=moment(now, app_),
                               received_on=date_option(received_on, "--received-on"), summary=summary,
                               owner=owner, reference=reference)
    render.note(f"case {opened.case_id}: {kind} on {loan}, due {opened.due_on.isoformat()}"
                + (f"; hold {opened.hold_id} placed" if opened.hold_id else ""))


@app.command("import")
def import_command(ctx: typer.Context,
                   file: Annotated[Path, typer.Argument(help="The bureau's dispute file (CSV, UTF-8 or GBK).")],
                   agent: Agent = None, now: Now = None) -> None:
    """Open a bureau-dispute case (CASE-1, 20 days) for each dispute of credit information the
    credit bureau forwards: columns loan_id (借据号), received_on (异议日期, 受理日期), reference
    (异议编号: the bureau's, so a file imported twice opens nothing new) and summary (异议内容).
    Each keeps its loan out of the bureau file until answered (REC-2). One transaction: a bad
    row or an unknown loan (exit 2, with the line and column) opens nothing.

    Example: collect case import bureau-disputes-2026-11-20.csv
    """
    app_ = ctx.obj
    done = svc.import_bureau_disputes(engine=app_.engine(), settings=app_.settings, path=file,
                                      agent=agent_name(app_, agent), now=moment(now, app_))
    for o in done.opened:
        render.note(f"case {o.case_id}: bureau-dispute, due {o.due_on.isoformat()}, hold {o.hold_id}")
    render.note(f"{file}: {len(done.opened)} case(s) opened, {done.unchanged} already on record")


@app.command("assign")
def assign_command(ctx: typer.Context, case: Case,
                   owner: Annotated[str, typer.Option(help="Who handles it now.")],
                   agent: Agent = None, now: Now = None) -> None:
    """Give the case to someone else (recorded).

    Example: collect case assign 3 --owner wang.fang
    """
    app_ = ctx.obj
    svc.assign(engine=app_.engine(), settings=app_.settings, case_id=case, owner=owner,
               agent=agent_name(app_, agent), now=moment(now, app_))
    render.note(f"case {case}: owner {owner}")


@app.command("investigate")
def investigate_command(ctx: typer.Context, case: Case,
                        note: Annotated[str | None, typer.Option(help="What is being checked.")] = None,
                        agent: Agent = None, now: Now = None) -> None:
    """Mark an open case as under investigation.

    Example: collect case investigate 3 --note "asked the payments team for the 10-05 receipt"
    """
    app_ = ctx.obj
    svc.investigate(engine=app_.engine(), settings=app_.settings, case_id=case, note=note,
                    agent=agent_name(app_, agent), now=moment(now, app_))
    render.note(f"case {case}: investigating")


@app.command("extend")
def extend_command(ctx: typer.Context, case: Case,
                   reason: Annotated[str, typer.Option(help="Why it needs longer; recorded.")],
                   approved_by: Annotated[str | None, typer.Option(
                       help="The second extension: the superior who approves it (not yourself).")] = None,
                   agent: Agent = None, now: Now = None) -> None:
    """CASE-2: extend a complaint's deadline, before it passes: a complex complaint to 30 days
    from receipt, then once more by 30 days with a superior's approval. A dispute's deadline is
    the rule's and is not extended (exit 6).

    Example: collect case extend 3 --reason "needs the call recordings of three agents"
    """
    app_ = ctx.obj
    due_on = svc.extend(engine=app_.engine(), settings=app_.settings, case_id=case, reason=reason,
                        approved_by=approved_by, agent=agent_name(app_, agent), now=moment(now, app_))
    render.note(f"case {case}: due {due_on.isoformat()}")


@app.command("answer")
def answer_command(ctx: typer.Context, case: Case,
                   text: Annotated[str, typer.Option(help="The answer, as the borrower will read it.")],
                   agent: Agent = None, now: Now = None) -> None:
    """Write the answer and queue it as a letter (template case_answer) to the borrower's postal
    address: the one letter the case's dispute or complaint hold lets through (HOLD-1). It is
    judged like every message, now and again at send (the content rules, the figures it states
    for the day it goes). Refused (exit 6) when it may not go: no address on file, wording the
    rules forbid, a no-contact hold of another kind. `collect send` delivers it; then close.

    Example: collect case answer 3 --text "经核实，您10月5日的还款已入账，逾期金额已更正。"
    """
    app_ = ctx.obj
    done = svc.answer(engine=app_.engine(), settings=app_.settings, case_id=case, text=text,
                      agent=agent_name(app_, agent), now=moment(now, app_))
    render.note(f"case {case}: answered; letter {done.message_id} queued, to go from "
                f"{done.send_after:%Y-%m-%d %H:%M} UTC (collect send)")


@app.command("close")
def close_command(ctx: typer.Context, case: Case,
                  note: Annotated[str | None, typer.Option(help="How it ended.")] = None,
                  without_answer: Annotated[str | None, typer.Option(
                      metavar="REASON", help="Close although no answer was sent: only when none can reach the "
                                             "borrower (a transferred debt, XFER-1; bankruptcy, death or legal "
                                             "representation, HOLD-3); recorded.")] = None,
                  agent: Agent = None, now: Now = None) -> None:
    """Close a case once its written answer was sent; its hold is released and collection may
    resume (CASE-3). Refused (exit 6) before the answer letter is sent, unless no answer can
    reach the borrower any more (--without-answer REASON).

    Example: collect case close 3 --note "answer letter sent, borrower agreed"
    """
    app_ = ctx.obj
    released = svc.close(engine=app_.engine(), settings=app_.settings, case_id=case, note=note,
                         agent=agent_name(app_, agent), now=moment(now, app_), without_answer=without_answer)
    render.note(f"case {case}: closed" + (f"; hold {released} released" if released else ""))


@app.command("show")
def show_command(ctx: typer.Context, case: Case, as_of: AsOf = None, fmt_: FormatOpt = Format.table,
                 show_pii: ShowPii = False) -> None:
    """One case: what was received, its deadline, every step with who and when, the answers.

    Example: collect case show 3
    """
    app_ = ctx.obj
    day = as_of_date(as_of, app_.today())
    with app_.engine().connect() as conn:
        found = svc.views(conn, as_of=day, settings=app_.settings, case_ids=[case])
    if not found:
        raise typer.BadParameter(f"no case {case} known by {day.isoformat()}", param_hint="CASE")
    v = found[0]
    text = (lambda t: t) if show_pii else mask_text
    steps = [{"action": e.action, "day": e.day.isoformat(), "owner": text(e.owner),
              "due_on": e.due_on.isoformat() if e.due_on else None, "reason": text(e.reason),
              "approved_by": text(e.approved_by), "answer": text(e.answer), "letter": e.message_id,
              "agent": text(e.agent),
              "at": render.utc(e.at), "recorded_at": render.utc(e.recorded_at)} for e in v.events]
    r = _masked(v.row(), show_pii)
    record = {**r, "summary": text(v.summary), "reference": text(v.reference), "events": steps}
    if fmt_ is Format.json:
        render.json_out(record)
        return
    if fmt_ is Format.csv:
        render.records_out(fmt_, steps, list(steps[0]) if steps else ["action"])
        return
    render.panel(f"case {v.id}: {v.kind} ({r['rule']}) on {v.loan_id}, {v.borrower_name}", [
        f"received {r['received_on']} ({v.source}{', ' + record['reference'] if v.reference else ''}); due "
        f"{r['due_on']}"
        + (f" ({r['days_left']} days left)" if r["days_left"] is not None else "")
        + (" OVERDUE" if v.overdue else ""),
        f"status {r['status']}, owner {r['owner']}, hold {r['hold'] or 'none'}, answer letter {r['letter'] or 'none'}"
        + (f", sent {r['answered_on']}" if r["answered_on"] else ""),
        f"summary: {record['summary'] or ''}",
    ])
    render.table(None, [("step", "left"), ("day", "left"), ("by", "left"), ("detail", "left")],
                 ([s["action"], s["day"], s["agent"],
                   "; ".join(x for x in (f"owner {s['owner']}" if s["owner"] else "",
                                         f"due {s['due_on']}" if s["due_on"] else "", s["reason"] or "",
                                         f"approved by {s['approved_by']}" if s["approved_by"] else "",
                                         f"answer: {s['answer']}" if s["answer"] else "",
                                         f"letter {s['letter']}" if s["letter"] else "") if x)]
                  for s in steps))


def _masked(row: dict, show_pii: bool) -> dict:
    """Names typed by operators may hold numbers (an owner given as a phone): masked by default."""
    return row if show_pii else {**row, "owner": mask_text(row["owner"])}


def cases_command(
    ctx: typer.Context,
    as_of: AsOf = None,
    due_within: Annotated[int | None, typer.Option(min=0, metavar="DAYS",
                                                   help="Only unanswered cases due within DAYS.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only unanswered cases past their deadline.")] = False,
    owner: Annotated[str | None, typer.Option(help="Only this owner's.")] = None,
    kind: Annotated[str | None, typer.Option(help=" | ".join(KINDS))] = None,
    closed: Annotated[bool, typer.Option("--closed", help="Closed cases too.")] = False,
    fmt_: FormatOpt = Format.table,
    show_pii: ShowPii = False,
) -> None:
    """Disputes and complaints not closed, the most urgent first: their deadline, days left,
    owner, hold and the answer letter's fate. A case is overdue when no answer was sent by its
    deadline. --as-of shows them as recorded by the end of that day.

    Example: collect cases --due-within 3
    """
    app_ = ctx.obj
    day = as_of_date(as_of, app_.today())
    with app_.engine().connect() as conn:
        found = svc.list_cases(conn, as_of=day, settings=app_.settings, due_within=due_within, overdue=overdue,
                               owner=owner, kind=_kind(kind) if kind else None, closed=closed)
    rows = [_masked(v.row(), show_pii) for v in found]
    if fmt_ is not Format.table:
        render.records_out(fmt_, rows, svc.FIELDS)
        return
    render.table(f"Cases as of {day.isoformat()} ({len(rows)})",
                 [("case", "right"), ("loan", "left"), ("borrower", "left"), ("kind", "left"), ("rule", "left"),
                  ("status", "left"), ("owner", "left"), ("received", "left"), ("due", "left"),
                  ("days left", "right"), ("answer letter", "left")],
                 ([r["case"], r["loan_id"], r["borrower_name"], r["kind"], r["rule"], r["status"], r["owner"],
                   r["received_on"], r["due_on"] + (" OVERDUE" if r["overdue"] else ""),
                   "" if r["days_left"] is None else r["days_left"], r["letter"] or ""] for r in rows))
