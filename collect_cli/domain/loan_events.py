"""What the core system's loan events say of a loan on a date: written off, transferred,
settled early, and the days its delinquency was paused.

An event counts from its own date, so a replay of an earlier day does not see it.

A pause from S to E freezes the days after S up to E: delinquency still ages on S and ages
again on E + 1; a resume on R makes R the end (Apache Fineract's delinquency PAUSE/RESUME:
effective DPD = calendar DPD - paused days). Only paused days after the oldest overdue
installment's due date are taken off: a pause that ended before that installment was due
did not pause its delinquency (Fineract subtracts every paused day, tests/fixtures says
where the two differ).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class LoanEvent:
    event: str  # write_off | transfer | settle | pause | resume
    event_on: date
    until: date | None = None  # pause: its last paused day
    amount: int | None = None  # write_off: minor units
    party: str | None = None  # transfer: the new creditor
    reason: str | None = None


@dataclass(frozen=True)
class Pause:
    start: date  # delinquency still ages on this day
    end: date  # the last frozen day (an early resume's day)
    reason: str | None = None


@dataclass(frozen=True)
class Standing:
    """A loan's events as of a date; `transfer_ahead` is a transfer known for a later day
    (the borrower is told before it, XFER-1)."""

    written_off_on: date | None = None
    written_off: int = 0
    transferred_on: date | None = None
    transferred_to: str | None = None
    transfer_ahead: tuple[date, str] | None = None
    settled_on: date | None = None
    pauses: tuple[Pause, ...] = ()  # those begun by the as-of date
    paused_today: Pause | None = None

    @property
    def transfer(self) -> tuple[date, str] | None:
        """The loan's transfer, done or ahead."""
        if self.transferred_on is not None:
            return self.transferred_on, self.transferred_to or ""
        return self.transfer_ahead


NO_EVENTS = Standing()


def pauses_of(events: Iterable[LoanEvent]) -> list[Pause]:
    """Each pause with its real end: an early resume cuts it short."""
    events = sorted(events, key=lambda e: e.event_on)
    resumes = [e.event_on for e in events if e.event == "resume"]
    out = []
    for e in events:
        if e.event != "pause":
            continue
        end = next((r for r in resumes if e.event_on <= r <= e.until), e.until)
        out.append(Pause(e.event_on, end, e.reason))
    return out


def standing(events: Sequence[LoanEvent], as_of: date) -> Standing:
    if not events:
        return NO_EVENTS
    known = [e for e in events if e.event_on <= as_of]
    first = {}
    for e in sorted(known, key=lambda e: e.event_on):
        first.setdefault(e.event, e)
    written, moved, settled = first.get("write_off"), first.get("transfer"), first.get("settle")
    ahead = next((e for e in events if e.event == "transfer" and e.event_on > as_of), None)
    pauses = tuple(pauses_of(known))  # a resume dated later is not known yet
    return Standing(
        written_off_on=written.event_on if written else None,
        written_off=(written.amount or 0) if written else 0,
        transferred_on=moved.event_on if moved else None,
        transferred_to=moved.party if moved else None,
        transfer_ahead=(ahead.event_on, ahead.party or "") if ahead and not moved else None,
        settled_on=settled.event_on if settled else None,
        pauses=pauses,
        paused_today=next((p for p in pauses if p.start <= as_of <= p.end), None),
    )


def paused_days(pauses: Iterable[Pause], after: date, through: date) -> int:
    """Days d with after < d <= through that a pause froze."""
    return sum(max(0, (min(p.end, through) - max(p.start, after)).days) for p in pauses)


def overlap(pauses: Iterable[Pause], start: date, end: date) -> Pause | None:
    """The pause that freezes a day the pause start..end would, if any (pauses never overlap)."""
    return next((p for p in pauses if start < p.end and p.start < end), None)
