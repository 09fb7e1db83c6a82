"""Cases: disputes and complaints with deadlines (CASE-1..3), from opening to the written
answer and the close that releases their hold.

A case is opened by hand (`collect case open`), by `collect hold` of a dispute, complaint or
bureau dispute, by `log --outcome dispute`, by a reply whose words dispute the debt or
complain, or from the bureau's dispute file. Opening places the case's hold instance
(of the case's kind); only closing the case releases it, and a case closes only once its
written answer was sent: the answer letter (`case_answer` template) is the one letter the
dispute or complaint lets through, judged like every message, at answer time and again at
send. Everything is append-only (case_events) and audited.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, Engine

from collect_cli.config import Settings
from collect_cli.domain.cases import (
    KINDS,
    RULE,
    CaseRuleError,
    CaseState,
    check_open,
    due_after,
    extension,
    fold,
)
from collect_cli.domain.compliance import BORROWER_WIDE, Refusal
from collect_cli.domain.content import CASE_ANSWER
from collect_cli.domain.notice import FIGURES, engine_values
from collect_cli.domain.policy import decide
from collect_cli.errors import Refused, UnusableInput, UsageError
from collect_cli.ledger.disputes import read_disputes
from collect_cli.ledger.values import parse_money
from collect_cli.services import holds
from collect_cli.services.contact_facts import end_of_day, local_day
from collect_cli.services.holds import Placed, add_hold, end_hold
from collect_cli.services.messages import penalty_for
from collect_cli.services.one_off import OwnFacts, Queued, queue_message, reach, sent_day, status_by
from collect_cli.store import queries as q

ANSWER_STEP = "case_answer"  # the outbox step of answer letters; their episode is "case-<id>-<n>"
ANSWER_TEMPLATE = "case_answer"
ANSWER_MAX = 2000  # characters of an answer's text


@dataclass(frozen=True)
class Opened:
    case_id: int
    due_on: date
    hold_id: int | None


@dataclass(frozen=True)
class CaseView:
    """A case as it stands on a day, with its answer letter's fate."""

    id: int
    loan_id: str
    borrower_id: str
    borrower_name: str
    kind: str
    source: str
    reference: str | None
    summary: str | None
    hold_id: int | None
    state: CaseState
    letter: str | None  # the latest answer letter: queued, sent, cancelled (with the reason) …
    answered_on: date | None  # the day the written answer was sent
    events: tuple
    as_of: date  # the day it is viewed on

    @property
    def waiting(self) -> bool:
        """Not closed and no answer sent yet: the deadline still runs."""
        return self.answered_on is None and self.state.status != "closed"

    @property
    def overdue(self) -> bool:
        """No answer sent by its deadline."""
        return self.waiting and self.as_of > self.state.due_on

    def row(self) -> dict:
        s = self.state
        return {"case": self.id, "loan_id": self.loan_id, "borrower_name": self.borrower_name, "kind": self.kind,
                "rule": s.rule, "status": s.status, "owner": s.owner, "received_on": s.received_on.isoformat(),
                "due_on": s.due_on.isoformat(), "days_left": s.days_left(self.as_of) if s.status != "closed" else None,
                "overdue": self.overdue, "extensions": s.extensions, "hold": self.hold_id, "source": self.source,
                "answered_on": self.answered_on.isoformat() if self.answered_on else None,
                "late": bool(self.answered_on and self.answered_on > s.due_on), "letter": self.letter,
                "closed_on": s.closed_on.isoformat() if s.closed_on else None}


FIELDS = ["case", "loan_id", "borrower_name", "kind", "rule", "status", "owner", "received_on", "due_on",
          "days_left", "overdue", "extensions", "hold", "source", "answered_on", "late", "letter", "closed_on"]


def lender_day(now: datetime, settings: Settings) -> date:
    return local_day(now, settings.zone)


# --- opening ---------------------------------------------------------------------------------

def open_case(conn: Connection, *, loan_id: str, kind: str, settings: Settings, agent: str, now: datetime,
              received_on: date | None = None, source: str = "manual", summary: str | None = None,
              owner: str | None = None, reference: str | None = None) -> Opened:
    """Open a case in the caller's transaction, with its deadline and its hold instance (of the
    case's kind: domain.compliance.HOLD_RULES)."""
    if kind not in KINDS:
        raise UsageError(f"--kind {kind!r}: one of {', '.join(KINDS)}")
    today = lender_day(now, settings)
    received_on = received_on or today
    if received_on > today:
        raise UsageError(f"--received-on {received_on.isoformat()}: a case is received on a day that has come")
    loan = q.loan_borrowers(conn, [loan_id]).get(loan_id)
    if loan is None:
        raise UsageError(f"no loan {loan_id!r}")
    borrower, disbursed_on = loan
    if received_on < disbursed_on:
        raise UsageError(f"--received-on {received_on.isoformat()}: before {loan_id} was disbursed "
                         f"({disbursed_on.isoformat()})")
    due_on = due_after(received_on, settings.cases.days.first_deadline(kind))
    hold_id = add_hold(conn, loan_id=loan_id, reason=kind, channel=None, until=None,
                       note=f"{kind} case, received {received_on.isoformat()}: {summary or ''}".strip(),
                       actor=agent, now=now).hold_id
    case_id = q.add_case(conn, loan_id=loan_id, borrower_id=borrower, kind=kind, received_on=received_on,
                         source=source, reference=reference, summary=summary, hold_id=hold_id, agent=agent, at=now)
    owner = (owner or agent).strip()[:64]
    q.add_case_event(conn, case_id=case_id, action="open", day=today, owner=owner, due_on=due_on, agent=agent, at=now)
    q.add_audit(conn, [{"at": now, "agent": agent, "action": "case open", "loan_id": loan_id,
                        "detail": f"case {case_id}: {kind} received {received_on.isoformat()}, due "
                                  f"{due_on.isoformat()}, owner {owner}"
                                  + (f", hold {hold_id}" if hold_id else "") + f" ({source})"}])
    return Opened(case_id, due_on, hold_id)


def open_case_now(*, engine: Engine, **kwargs) -> Opened:
    with engine.begin() as conn:
        return open_case(conn, **kwargs)


def place_hold(*, engine: Engine, settings: Settings, loan_id: str, reason: str, channel: str | None,
               until: date | None, note: str | None, actor: str, now: datetime, today: date) -> Placed:
    """`collect hold`: a dispute, complaint or bureau dispute is a case, which places the hold
    and alone releases it once answered; every other kind is a hold of its own."""
    if reason not in KINDS:
        return holds.place_hold(engine=engine, loan_id=loan_id, reason=reason, channel=channel, until=until,
                                note=note, actor=actor, now=now, today=today)
    if until is not None:
        raise UsageError(f"--until: a {reason} holds until its case is answered and closed ({RULE[reason]}), "
                         "not until a day")
    opened = open_case_now(engine=engine, loan_id=loan_id, kind=reason, settings=settings, agent=actor, now=now,
                           source="hold", summary=note)
    scope = "every loan of the borrower" if reason in BORROWER_WIDE else "this loan"
    return Placed(opened.hold_id, scope, (opened.hold_id,), (None,), (opened.case_id, opened.due_on))


@dataclass(frozen=True)
class DisputeImport:
    opened: list[Opened]
    unchanged: int  # disputes whose reference is on record already


def import_bureau_disputes(*, engine: Engine, settings: Settings, path, agent: str, now: datetime) -> DisputeImport:
    """The bureau's dispute file: one bureau-dispute case per new reference, all in one
    transaction (a bad row or an unknown loan writes nothing)."""
    rows = read_disputes(path, today=lender_day(now, settings))
    with engine.begin() as conn:
        known = q.loan_borrowers(conn, sorted({r.loan_id for r in rows}))
        unknown = next((r for r in rows if r.loan_id not in known), None)
        if unknown is not None:
            raise UnusableInput(f"{path}: line {unknown.line}: loan_id: no loan {unknown.loan_id!r}; nothing was "
                                "imported")
        seen = q.case_references(conn, "bureau-dispute", sorted({r.reference for r in rows}))
        opened, unchanged = [], 0
        for r in rows:
            if r.reference in seen:
                unchanged += 1
                continue
            try:
                opened.append(open_case(conn, loan_id=r.loan_id, kind="bureau-dispute", settings=settings,
                                        agent=agent, now=now, received_on=r.received_on, source="bureau-file",
                                        summary=r.summary, reference=r.reference))
            except UsageError as exc:  # e.g. received before the loan was disbursed
                raise UnusableInput(f"{path}: line {r.line}: received_on: {exc}; nothing was imported") from None
        return DisputeImport(opened, unchanged)


# --- steps -----------------------------------------------------------------------------------

def _one(conn: Connection, case_id: int) -> tuple:
    found = q.cases_with_events(conn, case_ids=[case_id])
    if not found:
        raise UsageError(f"no case {case_id}")
    case, events = found[0]
    return case, fold(case.kind, case.received_on, events)


def _record(conn: Connection, case, action: str, *, day: date, agent: str, now: datetime, detail: str,
            **fields) -> None:
    q.add_case_event(conn, case_id=case.id, action=action, day=day, agent=agent, at=now, **fields)
    q.add_audit(conn, [{"at": now, "agent": agent, "action": f"case {action}", "loan_id": case.loan_id,
                        "detail": f"case {case.id}: {detail}"}])


def assign(*, engine: Engine, settings: Settings, case_id: int, owner: str, agent: str, now: datetime) -> None:
    owner = owner.strip()
    if not owner:
        raise UsageError("--owner: who handles the case")
    with engine.begin() as conn:
        case, state = _one(conn, case_id)
        _check(state, "assign")
        _record(conn, case, "assign", day=lender_day(now, settings), agent=agent, now=now, owner=owner[:64],
                detail=f"owner {state.owner} -> {owner}")


def investigate(*, engine: Engine, settings: Settings, case_id: int, note: str | None, agent: str,
                now: datetime) -> None:
    with engine.begin() as conn:
        case, state = _one(conn, case_id)
        _check(state, "investigate")
        _record(conn, case, "investigate", day=lender_day(now, settings), agent=agent, now=now, reason=note,
                detail=f"investigating: {note or ''}")


def extend(*, engine: Engine, settings: Settings, case_id: int, reason: str | None, approved_by: str | None,
           agent: str, now: datetime) -> date:
    """CASE-2: a complaint's deadline moved (complex; then with approval). The new deadline."""
    today = lender_day(now, settings)
    with engine.begin() as conn:
        case, state = _one(conn, case_id)
        _check(state, "extend")
        try:
            due_on = extension(state, settings.cases.days, today=today, agent=agent, reason=reason,
                               approved_by=approved_by)
        except CaseRuleError as exc:
            raise Refused(str(exc)) from None
        _record(conn, case, "extend", day=today, agent=agent, now=now, due_on=due_on, reason=reason.strip(),
                approved_by=approved_by.strip()[:64] if approved_by else None,
                detail=f"deadline {state.due_on.isoformat()} -> {due_on.isoformat()}: {reason.strip()}"
                       + (f" (approved by {approved_by.strip()})" if approved_by else ""))
        return due_on


def _check(state: CaseState, action: str) -> None:
    try:
        check_open(state, action)
    except CaseRuleError as exc:
        raise UsageError(str(exc)) from None


def answer(*, engine: Engine, settings: Settings, case_id: int, text: str, agent: str, now: datetime) -> Queued:
    """Write the answer and queue its letter, judged now as the borrower will read it; a letter
    the rules refuse (no postal address, words the content rules forbid, a no-contact hold
    other than the case's own) is not queued and the answer is not recorded."""
    text = (text or "").strip()
    if not text:
        raise UsageError("--text: the answer, in the words the borrower will read")
    if len(text) > ANSWER_MAX:
        raise UsageError(f"--text: at most {ANSWER_MAX} characters")
    with engine.begin() as conn:
        case, state = _one(conn, case_id)
        _check(state, "answer")
        queued = queue_message(conn, loan_id=case.loan_id, settings=settings, now=now, agent=agent,
                               template=ANSWER_TEMPLATE, purpose=CASE_ANSWER, step=ANSWER_STEP,
                               episode=f"case-{case.id}-{state.answers + 1}", extra=answer_context(case, text),
                               what=f"the answer letter to case {case.id}", own_hold=case.hold_id,
                               check=lambda acc, records: unproven_amount(
                                   text, acc, records.payments.get(acc.loan_id, []), settings))
        _record(conn, case, "answer", day=lender_day(now, settings), agent=agent, now=now, answer=text,
                message_id=queued.message_id, detail=f"answered; letter {queued.message_id} queued")
        return queued


_AMOUNT = re.compile(r"(?:[¥$]|rmb|cny)\s*(\d[\d,]*(?:\.\d+)?)|(\d[\d,]*(?:\.\d+)?)\s*(?:元|块|圆|yuan|rmb|cny)"
                     r"|(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d{2}(?!\d))", re.I)


def unproven_amount(text: str, acc, payments: list[tuple[date, int]], settings: Settings) -> Refusal | None:
    """AMT-3 for the words an answer's author typed: every amount in them is one the records
    prove for the day it goes: the engine's figures, the loan's principal, an installment or
    one of its parts, a payment. Another amount (a typo, a made-up figure) stops the letter."""
    known = {acc.principal, *(abs(a) for _, a in payments)}
    for p in acc.state.positions:
        i = p.installment
        known |= {i.principal_due, i.interest_due, i.fee_due, i.principal_due + i.interest_due + i.fee_due, p.unpaid}
    known |= {parse_money(v) for k, v in engine_values(acc.loan_id, acc.state,
                                                       penalty_for(acc, payments, settings)).items()
              if k in FIGURES and v and k != "next_due_on"}
    for m in _AMOUNT.finditer(unicodedata.normalize("NFKC", text)):
        figure = next(g for g in m.groups() if g)
        try:
            value = parse_money(figure)
        except ValueError:
            continue
        if value not in known:
            return Refusal("AMT-3", f"the answer states {figure}, which is none of the account's figures "
                                    "(the engine's for the day, its principal, an installment, a payment): "
                                    "state the records' figures")
    return None


def answer_context(case, text: str) -> dict:
    """What an answer letter states of its case, beside the engine's figures."""
    return {"case_answer": text, "case_received_on": case.received_on.isoformat(), "case_kind": case.kind,
            "case_id": case.id}


def close(*, engine: Engine, settings: Settings, case_id: int, note: str | None, agent: str, now: datetime,
          without_answer: str | None = None) -> int | None:
    """Close an answered case whose answer letter was sent, releasing its hold (CASE-3: collection
    resumes only after the answer). `without_answer` (the reason): only when no answer can reach
    the borrower any more (the debt was transferred, XFER-1; a no-contact hold of another kind,
    HOLD-3, e.g. bankruptcy or death). The hold released, if it was still in force."""
    with engine.begin() as conn:
        case, state = _one(conn, case_id)
        _check(state, "close")
        if without_answer is None:
            letter = q.message_states(conn, [state.answer_message_id]).get(state.answer_message_id) \
                if state.answer_message_id else None
            if letter is None or letter.status != "sent":
                why = ("no answer was written (collect case answer)" if letter is None
                       else f"its answer letter {letter.id} is {letter.status}"
                            + (f" ({letter.reason})" if letter.reason else "")
                            + ("; send it first (collect send)" if letter.status == "queued" else "; answer again"))
                raise Refused(f"{state.rule}: case {case.id} closes only once its written answer was sent: {why}")
        else:
            blocked = decide("letter", reach(conn, loan_id=case.loan_id, settings=settings, now=now)
                             .situation("letter", CASE_ANSWER, case.hold_id))
            if blocked is None or blocked.rule not in ("XFER-1", "HOLD-3"):
                raise Refused(f"{state.rule}: case {case.id} closes without a written answer only when no answer "
                              "can reach the borrower (a transferred debt, XFER-1; a no-contact hold of another "
                              f"kind, HOLD-3); {'an answer letter can go' if blocked is None else str(blocked)}")
            note = f"closed without a written answer ({blocked}): {without_answer}"
        released = None
        held = [h for h in q.active_holds(conn, [case.loan_id], [case.borrower_id],
                                          lender_day(now, settings))[case.loan_id] if h.id == case.hold_id]
        if held:
            end_hold(conn, loan_id=case.loan_id, borrower_id=case.borrower_id, hold=held[0],
                     note=f"case {case.id} closed: {note or ''}".strip(), actor=agent, now=now)
            released = held[0].id
        _record(conn, case, "close", day=lender_day(now, settings), agent=agent, now=now, reason=note,
                detail="closed" + (f", hold {released} released" if released else "") + f": {note or ''}")
        return released


# --- reading ---------------------------------------------------------------------------------

def views(conn: Connection, *, as_of: date, settings: Settings, case_ids=None, loan_ids=None, borrower_ids=None,
          unclosed: bool = False) -> list[CaseView]:
    """Cases as recorded by the end of `as_of` (the lender's day), with their letters' fate."""
    known_by = end_of_day(as_of, settings.zone)
    found = q.cases_with_events(conn, case_ids=case_ids, loan_ids=loan_ids, borrower_ids=borrower_ids,
                                unclosed=unclosed, known_by=known_by)
    states = [(c, e, fold(c.kind, c.received_on, e)) for c, e in found]
    letters = q.message_states(conn, [s.answer_message_id for _, _, s in states if s.answer_message_id])
    out = []
    for c, e, s in states:
        m = letters.get(s.answer_message_id)
        shown = status_by(m, known_by)
        if shown not in (None, "sent") and m.reason and m.updated_at <= known_by:
            shown = f"{m.status}: {m.reason}"
        out.append(CaseView(id=c.id, loan_id=c.loan_id, borrower_id=c.borrower_id, borrower_name=c.borrower_name,
                            kind=c.kind, source=c.source, reference=c.reference, summary=c.summary,
                            hold_id=c.hold_id, state=s, letter=shown,
                            answered_on=sent_day(m, settings.zone, known_by),
                            events=tuple(e),
                            as_of=as_of))
    return out


def list_cases(conn: Connection, *, as_of: date, settings: Settings, due_within: int | None = None,
               overdue: bool = False, owner: str | None = None, kind: str | None = None,
               closed: bool = False) -> list[CaseView]:
    """Cases not closed (with `closed`: all), most urgent first: overdue, then by deadline."""
    found = views(conn, as_of=as_of, settings=settings, unclosed=not closed)
    if kind:
        found = [v for v in found if v.kind == kind]
    if owner:
        found = [v for v in found if v.state.owner.casefold() == owner.casefold()]
    if overdue:
        found = [v for v in found if v.overdue]
    if due_within is not None:
        found = [v for v in found if v.waiting and v.state.days_left(as_of) <= due_within]
    return sorted(found, key=lambda v: (v.state.status == "closed", v.state.due_on, v.id))


@dataclass(frozen=True)
class Deadlines:
    due_soon: list[CaseView]
    overdue: list[CaseView]


def deadlines(conn: Connection, *, as_of: date, settings: Settings) -> Deadlines:
    """For the nightly run: unanswered cases due within `cases.due_soon_days`, and overdue ones."""
    open_ = [v for v in views(conn, as_of=as_of, settings=settings, unclosed=True) if v.waiting]
    soon = settings.cases.due_soon_days
    return Deadlines(due_soon=[v for v in open_ if 0 <= v.state.days_left(as_of) <= soon],
                     overdue=[v for v in open_ if v.overdue])


def answer_facts(conn: Connection, message_ids: list[int]) -> dict[int, OwnFacts | Refusal]:
    """For `send`: per answer letter, what it states of its case now, or why it may no longer
    go (a later answer replaced it, the case was closed)."""
    if not message_ids:
        return {}
    owners = q.answer_cases(conn, message_ids)  # {message id: case id}
    found = {c.id: (c, fold(c.kind, c.received_on, e), e)
             for c, e in q.cases_with_events(conn, case_ids=sorted(set(owners.values())))}
    out: dict[int, OwnFacts | Refusal] = {}
    for mid in message_ids:
        case_id = owners.get(mid)
        if case_id is None:
            out[mid] = Refusal("CASE", "no case on record answers with this letter")
            continue
        case, state, events = found[case_id]
        if state.status == "closed":
            out[mid] = Refusal(state.rule, f"case {case_id} was closed")
        elif state.answer_message_id != mid:
            out[mid] = Refusal(state.rule, f"a later answer to case {case_id} replaced this one")
        else:
            text = next(e.answer for e in reversed(events) if e.message_id == mid)
            out[mid] = OwnFacts(answer_context(case, text), case.hold_id)
    return out
