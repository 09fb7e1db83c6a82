"""The reminder strategy: which step of the current bucket is due for a loan, once per episode.

reminders.md: a step fires when its condition holds on the run's as-of date and it has not
been recorded in this episode (catch-up); only steps of the loan's current bucket fire (no
back-fill); of several steps of one channel that qualify at once, only the latest is queued,
the others are recorded as skipped (superseded).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from collect_cli.domain.loan_state import LoanState
from collect_cli.domain.policy import TRANSFER_NOTICE

CHANNELS = ("sms", "letter", "email", "push")


@dataclass(frozen=True)
class Step:
    name: str
    buckets: tuple[str, ...]  # fires only while the loan is in one of these buckets
    channel: str
    template: str
    purpose: str  # what the message is for, and so what it must say (domain.content)
    min_days: int | None = None  # fires at this many delinquent days or more
    due_in: tuple[int, int] | None = None  # fires this many days before the next due date
    segment: str | None = None  # fires only for accounts of this segment (domain.segments)
    min_watch_score: int | None = None  # fires only at this early-warning score or more (domain.early_warning)
    allow_late_automation: bool = False  # LIM-1: a step past the handover to legal / agency work
    # a channel beside the others (e-mail): the step is for borrowers with an address for it,
    # and one without is not suppressed (ADDR) but left out, as it needs no message there
    only_with_address: bool = False

    @property
    def is_predue(self) -> bool:
        return self.due_in is not None

    @property
    def rank(self) -> int:
        """Order among steps of one channel: the later trigger supersedes the earlier."""
        return self.min_days if self.min_days is not None else -min(self.due_in or (0, 0))


DEFAULT_STRATEGY: tuple[Step, ...] = (
    # XFER-1: once a transfer to another creditor is known, in any bucket, before and after its
    # day; first, so that it has the day's SMS when a collection step qualifies too
    Step("transfer_sms", (), "sms", "transfer_notice", TRANSFER_NOTICE),
    Step("transfer_letter", (), "letter", "transfer_letter", TRANSFER_NOTICE),
    Step("predue", ("M0",), "sms", "predue", "predue_reminder", due_in=(1, 3)),
    Step("m1_notice", ("M1",), "sms", "m1_notice", "overdue_notice", min_days=1),
    Step("m1_followup", ("M1",), "sms", "m1_followup", "overdue_notice", min_days=7),
    Step("m2_notice", ("M2",), "sms", "m2_notice", "overdue_notice", min_days=31),
    Step("m2_letter", ("M2",), "letter", "m2_letter", "formal_notice", min_days=31),
    Step("m3_final", ("M3",), "letter", "m3_final", "final_demand", min_days=61),
    Step("m3_sms", ("M3",), "sms", "m3_notice", "final_demand", min_days=61),
    # e-mail and app push beside the SMS, to borrowers with an address for them; none past M2
    # (letters speak there), no push past M1 (a collection notice on a lock screen is seen by others)
    Step("predue_email", ("M0",), "email", "predue_email", "predue_reminder", due_in=(1, 3), only_with_address=True),
    Step("m1_email", ("M1",), "email", "m1_email", "overdue_notice", min_days=1, only_with_address=True),
    Step("m2_email", ("M2",), "email", "m2_email", "overdue_notice", min_days=31, only_with_address=True),
    Step("predue_push", ("M0",), "push", "predue_push", "predue_reminder", due_in=(1, 3), only_with_address=True),
    Step("m1_push", ("M1",), "push", "m1_push", "overdue_notice", min_days=1, only_with_address=True),
)


def episode_key(step: Step, state: LoanState, episode_start: date | None) -> str | None:
    """What "once" means for a step: per installment for pre-due steps, per delinquency
    episode otherwise. None when the step cannot apply."""
    if step.purpose == TRANSFER_NOTICE:
        transfer = state.standing.transfer
        return f"transfer-{transfer[0].isoformat()}" if transfer else None
    if step.is_predue:
        if state.next_due_on is None:
            return None
        return f"due-{state.next_due_on.isoformat()}"
    return f"dpd-{episode_start.isoformat()}" if episode_start else None


def qualifies(step: Step, state: LoanState, segment: str | None = None, watch=None) -> bool:
    """Whether the step's condition holds; `segment` or `watch` (the early-warning score) None
    means "not known yet": a step with such a condition may still fire, and decide() is asked
    again with them. A transfer notice goes once the transfer is known, whatever the bucket."""
    if step.purpose == TRANSFER_NOTICE:
        return state.status != "closed" and state.standing.transfer is not None
    if state.status != "open" or state.bucket not in step.buckets:
        return False
    if step.segment is not None and segment is not None and step.segment != segment:
        return False
    if step.min_watch_score is not None and watch is not None and watch < step.min_watch_score:
        return False
    if step.is_predue:
        if state.next_due_on is None:
            return False
        days = (state.next_due_on - state.as_of).days
        lo, hi = step.due_in
        return lo <= days <= hi
    return state.delinquent_days >= step.min_days


@dataclass(frozen=True)
class Decision:
    step: Step
    episode: str
    action: str  # "queue" | "skip" (superseded by a later step of the same channel)


def decide(steps: Iterable[Step], state: LoanState, episode_start: date | None,
           recorded: set[tuple[str, str]], segment: str = "standard", watch=0) -> list[Decision]:
    """The steps to queue (and to record as superseded) for one loan today.

    `recorded` holds the (step, episode) pairs already in the outbox for this loan.
    """
    fresh: dict[str, list[tuple[Step, str]]] = {}
    for step in steps:
        if not qualifies(step, state, segment, watch):
            continue
        key = episode_key(step, state, episode_start)
        if key is None or (step.name, key) in recorded:
            continue
        # a transfer notice is not superseded by a collection step of its channel, nor they by it
        fresh.setdefault((step.channel, step.purpose == TRANSFER_NOTICE), []).append((step, key))
    decisions = []
    for candidates in fresh.values():
        candidates.sort(key=lambda c: c[0].rank)
        *older, (latest, key) = candidates
        decisions += [Decision(s, k, "skip") for s, k in older]
        decisions.append(Decision(latest, key, "queue"))
    return decisions
