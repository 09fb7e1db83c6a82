"""Legal cases (litigation): the stages of a lawsuit over a debt, in order, each with its day,
court, case number, costs and amounts awarded; and what contact the stage allows.

Stages move forward only (a stage may be skipped: not every case needs preservation):
letter (the lawyer's letter, 律师函, was sent) → filed (立案申请) → accepted (受理) →
preservation (财产保全) → hearing (开庭) → judgment (判决) → enforcement (强制执行) → closed.
From `legal.stop_automated_from` (default `filed`) this lender's automated reminders stop: the
court and the lawyers speak for it now.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

STAGES = ("letter", "filed", "accepted", "preservation", "hearing", "judgment", "enforcement", "closed")
IN_COURT = STAGES[1:-1]  # a lawsuit is on record (SAY-8) from the filing


class LegalRuleError(ValueError):
    """A step the legal workflow does not allow."""


@dataclass(frozen=True)
class LegalStep:
    stage: str
    on: date
    court: str | None = None
    case_number: str | None = None
    cost: int = 0  # minor units spent at this stage (court fees, lawyers)
    awarded: int = 0  # minor units the court awarded (judgment)
    message_id: int | None = None  # letter: the lawyer's letter queued


@dataclass(frozen=True)
class LegalState:
    opened_on: date
    stage: str | None = None  # the latest stage reached; None: opened, nothing done yet
    stage_on: date | None = None
    court: str | None = None
    case_number: str | None = None
    costs: int = 0
    awarded: int = 0
    filed_on: date | None = None  # SAY-8: a lawsuit is on record from this day
    letter_message_id: int | None = None
    days: tuple[tuple[str, date], ...] = ()  # every stage reached, with its day

    @property
    def open(self) -> bool:
        return self.stage != "closed"

    def reached(self, stage: str, on: date) -> bool:
        """Whether the case had reached `stage` (or a later one) by `on`."""
        return any(STAGES.index(s) >= STAGES.index(stage) and d <= on for s, d in self.days)

    def open_on(self, on: date) -> bool:
        return not any(s == "closed" and d <= on for s, d in self.days)


def fold(opened_on: date, steps: list) -> LegalState:
    """The case as its steps in order make it (LegalStep, or rows with the same attributes)."""
    s = LegalState(opened_on)
    for e in steps:
        s = replace(s, stage=e.stage, stage_on=e.on, court=e.court or s.court, days=(*s.days, (e.stage, e.on)),
                    case_number=e.case_number or s.case_number, costs=s.costs + e.cost, awarded=s.awarded + e.awarded,
                    filed_on=s.filed_on or (e.on if e.stage in IN_COURT else None),
                    letter_message_id=e.message_id if e.stage == "letter" else s.letter_message_id)
    return s


MAX_AMOUNT = 10**12  # minor units: ten billion yuan, more than any consumer loan's case costs or is awarded


def check_step(state: LegalState, stage: str, on: date, today: date, *, cost: int = 0, awarded: int = 0,
               letter_failed: bool = False) -> None:
    """LegalRuleError when `stage` on `on` may not follow the case as it stands. `letter_failed`:
    the case's lawyer's letter was not delivered (cancelled, failed), so it may be sent again."""
    if stage not in STAGES:
        raise LegalRuleError(f"--stage {stage!r}: one of {', '.join(STAGES)}")
    if not 0 <= cost <= MAX_AMOUNT or not 0 <= awarded <= MAX_AMOUNT:
        raise LegalRuleError("--cost and --awarded: amounts from 0 to 10,000,000,000.00")
    if awarded and stage != "judgment":
        raise LegalRuleError("--awarded goes with --stage judgment: the court awards in its judgment")
    if not state.open:
        raise LegalRuleError(f"the legal case was closed on {state.stage_on.isoformat()}")
    if on > today:
        raise LegalRuleError(f"--on {on.isoformat()}: a stage is recorded once it happened")
    if on < (state.stage_on or state.opened_on):
        raise LegalRuleError(f"--on {on.isoformat()}: before the case's last step "
                             f"({(state.stage_on or state.opened_on).isoformat()})")
    if stage == "letter" and state.stage == "letter" and letter_failed:
        return
    if stage != "closed" and state.stage is not None and STAGES.index(stage) <= STAGES.index(state.stage):
        raise LegalRuleError(f"the case is at {state.stage} already: stages move forward "
                             f"({' → '.join(STAGES)})")


def stops_automated(state: LegalState | None, on: date, from_stage: str) -> bool:
    """Whether the case's stage on `on` stops this lender's automated reminders."""
    return state is not None and state.open_on(on) and state.reached(from_stage, on)
