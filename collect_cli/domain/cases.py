"""Cases with deadlines (compliance.md CASE-1..3): what a dispute or complaint owes the
borrower and by when, folded from its append-only events.

A deadline counts calendar days from the day after the case was received (《民法典》 Art
201: the first day is not counted), so a case received on 01-31 with 20 days is due on 02-20;
a deadline on a weekend or holiday is not moved (moving it would be looser than the rule).

- dispute (CASE-3, HOLD-1): a dispute of the debt; collection waits for the written answer.
  No statutory number: `cases.dispute_days` (default 20).
- bureau-dispute (CASE-1, 《征信业管理条例》 Art 25): credit information disputed; checked and
  answered in writing within 20 days; the account stays out of the bureau file meanwhile (REC-2).
- complaint (CASE-2, 《银行业保险业消费投诉处理管理办法》): handled within 15 days; a complex one
  may be extended to 30, and with a second person's approval 30 more, each decided before the
  deadline it moves.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from collect_cli.domain.text_forms import compact

# Each kind places the hold of its own name while open (domain.compliance.HOLD_RULES): a
# dispute HOLD-1, a complaint under review HOLD-3, a bureau dispute REC-2's.
KINDS = ("dispute", "bureau-dispute", "complaint")
RULE = {"dispute": "CASE-3", "bureau-dispute": "CASE-1", "complaint": "CASE-2"}
# The law's numbers: a configuration may shorten them, never lengthen them.
STATUTORY_DAYS = {"bureau-dispute": 20, "complaint": 15}
COMPLEX_DAYS = 30  # CASE-2: a complex complaint, from receipt
APPROVED_EXTRA_DAYS = 30  # CASE-2: with approval, once, after the complex extension


class CaseRuleError(ValueError):
    """A step the case rules do not allow; the message names the rule."""


@dataclass(frozen=True)
class CaseDays:
    dispute: int = 20
    bureau_dispute: int = 20
    complaint: int = 15
    complaint_complex: int = COMPLEX_DAYS
    complaint_extension: int = APPROVED_EXTRA_DAYS

    def first_deadline(self, kind: str) -> int:
        return {"dispute": self.dispute, "bureau-dispute": self.bureau_dispute, "complaint": self.complaint}[kind]


def due_after(received_on: date, days: int) -> date:
    """The last day of a period of `days` that begins the day after `received_on`."""
    return received_on + timedelta(days=days)


@dataclass(frozen=True)
class CaseEvent:
    action: str  # open | assign | investigate | extend | answer | close
    day: date  # the lender's day it happened
    owner: str | None = None
    due_on: date | None = None
    reason: str | None = None
    approved_by: str | None = None
    agent: str = ""
    message_id: int | None = None  # answer: the letter queued


@dataclass(frozen=True)
class CaseState:
    """A case's status goes open → investigating → answered → closed."""

    kind: str
    received_on: date
    status: str
    owner: str
    due_on: date
    extensions: int = 0
    answers: int = 0  # answers written (each with its letter)
    answer_message_id: int | None = None  # the latest answer's letter
    closed_on: date | None = None

    @property
    def rule(self) -> str:
        return RULE[self.kind]

    def days_left(self, as_of: date) -> int:
        """Days until the deadline as of `as_of` (0: due today; negative: overdue)."""
        return (self.due_on - as_of).days


def fold(kind: str, received_on: date, events: list) -> CaseState:
    """The case as its events in order make it (the first is `open`): CaseEvents, or the
    store's rows, which have the same attributes."""
    first = events[0]
    state = CaseState(kind=kind, received_on=received_on, status="open", owner=first.owner or first.agent,
                      due_on=first.due_on or received_on)
    for e in events[1:]:
        if e.action == "assign":
            state = replace(state, owner=e.owner or state.owner)
        elif e.action == "investigate":
            state = replace(state, status="investigating")
        elif e.action == "extend":
            state = replace(state, due_on=e.due_on or state.due_on, extensions=state.extensions + 1)
        elif e.action == "answer":
            state = replace(state, status="answered", answers=state.answers + 1, answer_message_id=e.message_id)
        elif e.action == "close":
            state = replace(state, status="closed", closed_on=e.day)
    return state


def check_open(state: CaseState, action: str) -> None:
    """CaseRuleError when `action` may not be taken on the case as it stands."""
    if state.status == "closed":
        raise CaseRuleError(f"the case is closed (on {state.closed_on.isoformat()}); open a new one")
    if action == "investigate" and state.status != "open":
        raise CaseRuleError(f"the case is {state.status}: only an open case goes to investigating")


def extension(state: CaseState, days: CaseDays, *, today: date, agent: str, reason: str | None,
              approved_by: str | None) -> date:
    """CASE-2: the new deadline of an extension, or CaseRuleError. Only a complaint; the first
    to 30 days from receipt (a complex case, with its reason), the second 30 more with the
    approval of someone other than who asks; each before the deadline it moves has passed."""
    if state.kind != "complaint":
        raise CaseRuleError(f"{state.rule}: a {state.kind} has no extension; its deadline is the rule's")
    if not reason or not reason.strip():
        raise CaseRuleError("CASE-2: an extension needs its reason (--reason), recorded with it")
    if state.status == "answered":
        raise CaseRuleError("CASE-2: the complaint is answered; there is nothing to extend")
    if today > state.due_on:
        raise CaseRuleError(f"CASE-2: the deadline passed on {state.due_on.isoformat()}; an extension is decided "
                            "before the deadline it moves")
    if state.extensions == 0:
        return max(state.due_on, due_after(state.received_on, days.complaint_complex))
    if state.extensions == 1:
        if not approved_by or not compact(approved_by):
            raise CaseRuleError("CASE-2: a second extension needs the approval of a superior (--approved-by NAME)")
        if compact(approved_by) == compact(agent):  # the same person however the name is typed
            raise CaseRuleError("CASE-2: the approval is someone else's: who asks for an extension does not "
                                "approve it")
        return state.due_on + timedelta(days=days.complaint_extension)
    raise CaseRuleError("CASE-2: a complaint is extended at most twice (complex: 30 days; approved: 30 more)")
