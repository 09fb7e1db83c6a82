"""Legal cases: opening one, its stages (domain.legal), the lawyer's letter, what the stage
allows, and the report of cases by stage and age."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, Engine

from collect_cli.config import Settings
from collect_cli.domain.compliance import Refusal
from collect_cli.domain.content import LAWYER_LETTER
from collect_cli.domain.legal import STAGES, LegalRuleError, LegalState, check_step, fold
from collect_cli.errors import Refused, UsageError
from collect_cli.services.contact_facts import end_of_day, local_day
from collect_cli.services.one_off import OwnFacts, Queued, queue_message
from collect_cli.services.portfolio import iter_accounts, payments_with_origin
from collect_cli.store import queries as q
from collect_cli.store.locks import run_lock

LETTER_STEP = LETTER_TEMPLATE = "lawyer_letter"


@dataclass(frozen=True)
class LegalView:
    id: int
    loan_id: str
    lawyer: str | None
    state: LegalState
    events: tuple


def views(conn: Connection, *, case_ids=None, loan_ids=None, letter_ids=None, known_by=None) -> list[LegalView]:
    return [LegalView(c.id, c.loan_id, c.lawyer, fold(c.opened_on, events), tuple(events))
            for c, events in q.legal_with_events(conn, case_ids=case_ids, loan_ids=loan_ids, letter_ids=letter_ids,
                                                 known_by=known_by)]


def open_legal(*, engine: Engine, settings: Settings, loan_id: str, lawyer: str | None, note: str | None,
               agent: str, now: datetime) -> int:
    today = local_day(now, settings.zone)
    with run_lock(engine, "legal"), engine.begin() as conn:
        acc = next(iter_accounts(conn, as_of=today, settings=settings, loan_ids=[loan_id]), None)
        if acc is None:
            raise UsageError(f"no loan {loan_id!r} as of {today.isoformat()}")
        borrower = acc.borrower_id
        if acc.state.status != "open":  # settled, paid or sold: nothing of it is this lender's to sue for
            raise Refused(f"{'XFER-1: ' if acc.state.status == 'transferred' else ''}{loan_id} is "
                          f"{acc.state.status}: no legal case")
        if q.placed_loans(conn, [loan_id]):
            raise Refused(f"{loan_id} is placed with an agency: recall it first (collect placements recall)")
        if any(v.state.open for v in views(conn, loan_ids=[loan_id])):
            raise UsageError(f"{loan_id} has an open legal case already (collect legal show)")
        case_id = q.add_legal_case(conn, loan_id=loan_id, borrower_id=borrower, opened_on=today,
                                   lawyer=(lawyer or "").strip()[:200] or None, note=note, agent=agent, at=now)
        q.add_escalation(conn, loan_id=loan_id, stage="legal", agency=None, rule=f"legal case {case_id}", note=note,
                         agent=agent, at=now)
        q.add_audit(conn, [{"at": now, "agent": agent, "action": "legal open", "loan_id": loan_id,
                            "detail": f"legal case {case_id}" + (f" with {lawyer}" if lawyer else "")}])
        return case_id


def _one(conn: Connection, case_id: int) -> LegalView:
    found = views(conn, case_ids=[case_id])
    if not found:
        raise UsageError(f"no legal case {case_id}")
    return found[0]


def record_stage(*, engine: Engine, settings: Settings, case_id: int, stage: str, on: date | None,
                 court: str | None, case_number: str | None, cost: int, awarded: int, note: str | None, agent: str,
                 now: datetime) -> LegalState:
    today = local_day(now, settings.zone)
    on = on or today
    if stage == "letter":
        raise UsageError("the lawyer's letter is sent with `collect legal letter`, which records its stage")
    with run_lock(engine, "legal"), engine.begin() as conn:
        v = _one(conn, case_id)
        try:
            check_step(v.state, stage, on, today, cost=cost, awarded=awarded)
        except LegalRuleError as exc:
            raise UsageError(str(exc)) from None
        q.add_legal_event(conn, legal_case_id=case_id, stage=stage, on=on, court=court, case_number=case_number,
                          cost=cost, awarded=awarded, note=note, agent=agent, at=now)
        q.add_audit(conn, [{"at": now, "agent": agent, "action": "legal stage", "loan_id": v.loan_id,
                            "detail": f"legal case {case_id}: {stage} on {on.isoformat()}"
                                      + (f", {court}" if court else "") + (f" {case_number}" if case_number else "")}])
        return _one(conn, case_id).state


def letter(*, engine: Engine, settings: Settings, case_id: int, agent: str, now: datetime) -> Queued:
    """Queue the lawyer's letter (律师函) of the case, judged like every message (SAY-7 keeps
    legal wording off a time-barred debt), and record its stage."""
    today = local_day(now, settings.zone)
    with run_lock(engine, "legal"), engine.begin() as conn:
        v = _one(conn, case_id)
        letter = q.message_states(conn, [v.state.letter_message_id]).get(v.state.letter_message_id) \
            if v.state.letter_message_id else None
        try:
            check_step(v.state, "letter", today, today,
                       letter_failed=letter is not None and letter.status in ("cancelled", "failed", "suppressed"))
        except LegalRuleError as exc:
            raise UsageError(str(exc)) from None
        if not v.lawyer:
            raise UsageError(f"legal case {case_id} names no law firm: open it with --lawyer")
        queued = queue_message(conn, loan_id=v.loan_id, settings=settings, now=now, agent=agent,
                               template=LETTER_TEMPLATE, purpose=LAWYER_LETTER, step=LETTER_STEP,
                               episode=f"legal-{case_id}-{sum(e.stage == 'letter' for e in v.events) + 1}",
                               extra={"legal_lawyer": v.lawyer},
                               what=f"the lawyer's letter of legal case {case_id}")
        q.add_legal_event(conn, legal_case_id=case_id, stage="letter", on=today, cost=0, awarded=0,
                          message_id=queued.message_id, agent=agent, at=now)
        q.add_audit(conn, [{"at": now, "agent": agent, "action": "legal stage", "loan_id": v.loan_id,
                            "detail": f"legal case {case_id}: lawyer's letter {queued.message_id} queued"}])
        return queued


def letter_facts(conn: Connection, message_ids: list[int]) -> dict[int, OwnFacts | Refusal]:
    """For `send`: a lawyer's letter states its case's law firm, while the case is open."""
    if not message_ids:
        return {}
    found = {v.state.letter_message_id: v for v in views(conn, letter_ids=message_ids)}
    out: dict[int, OwnFacts | Refusal] = {}
    for mid in message_ids:
        v = found.get(mid)
        if v is None:
            out[mid] = Refusal("LEGAL", "no legal case on record sends this letter")
        elif not v.state.open:
            out[mid] = Refusal("LEGAL", f"legal case {v.id} was closed")
        else:
            out[mid] = OwnFacts({"legal_lawyer": v.lawyer})
    return out


def legal_report(conn: Connection, *, as_of: date, settings: Settings):
    """Legal cases by stage and age: per case its stage and since when, costs, awarded, and
    what the loan paid since the case was opened (net of reversals); totals per stage."""
    from collect_cli.services.analyst import Column, Report, Section

    found = views(conn, known_by=end_of_day(as_of, settings.zone))
    by_loan = payments_with_origin(conn, [v.loan_id for v in found])
    rows = []
    for v in found:
        s = v.state
        end = min(as_of, s.stage_on) if not s.open else as_of  # a closed case stops at its close
        recovered = sum(a for on, paid_on, a in by_loan.get(v.loan_id, [])
                        if s.opened_on <= paid_on <= end and on <= end)
        rows.append({"case": v.id, "loan_id": v.loan_id, "lawyer": v.lawyer or "", "stage": s.stage or "opened",
                     "since": (s.stage_on or s.opened_on).isoformat(), "age_days": (end - s.opened_on).days,
                     "court": s.court or "", "case_number": s.case_number or "", "costs": s.costs,
                     "awarded": s.awarded, "recovered": recovered})
    order = {name: i for i, name in enumerate(("opened", *STAGES))}
    by_stage = []
    for stage in sorted({r["stage"] for r in rows}, key=order.get):
        mine = [r for r in rows if r["stage"] == stage]
        by_stage.append({"stage": stage, "cases": len(mine), "avg_age_days": sum(r["age_days"] for r in mine)
                         // len(mine), "costs": sum(r["costs"] for r in mine),
                         "awarded": sum(r["awarded"] for r in mine), "recovered": sum(r["recovered"] for r in mine)})
    money = lambda k, h: Column(k, h, "money")  # noqa: E731
    return Report("legal", f"Legal cases as of {as_of.isoformat()}", [
        Section("stages", "by stage", [Column("stage", "stage"), Column("cases", "cases", "int"),
                                       Column("avg_age_days", "average age (days)", "int"), money("costs", "costs"),
                                       money("awarded", "awarded"), money("recovered", "recovered")], by_stage),
        Section("cases", "cases", [Column("case", "case", "int"), Column("loan_id", "loan"),
                                   Column("lawyer", "law firm"), Column("stage", "stage"), Column("since", "since"),
                                   Column("age_days", "age (days)", "int"), Column("court", "court"),
                                   Column("case_number", "case number"), money("costs", "costs"),
                                   money("awarded", "awarded"), money("recovered", "recovered")], rows)],
        notes=["recovered: what the loan paid from the day the case was opened, net of reversals"])
