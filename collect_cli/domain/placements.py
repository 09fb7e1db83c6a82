"""Placements with an outside agency, from proposal to recall (AGY-1, AGY-3), and what the
agency earns.

A placement is proposed, the borrower is told (the AGY-1 notice, a message of its own), and
the account is placed only `placements.notice_days` (at least 7) after the notice was sent.
While placed, payments are the agency's: those dated on or after the day of placement and
before the day of recall (the recall day is the lender's again). It is recalled on its
recall date, when a dispute or no-contact hold comes, when the account is repaid (no longer
past due), or by hand; then it may be placed again, with the same agency or another.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from collect_cli.domain.agencies import commission

MIN_NOTICE_DAYS = 7  # AGY-1: the borrower is told at least this long before (default and floor)


@dataclass(frozen=True)
class PlacementStep:
    action: str  # notice | place | recall | cancel
    day: date
    recall_on: date | None = None
    bucket: str | None = None
    dpd: int | None = None
    rate_bp: int | None = None
    amount: int | None = None
    reason: str | None = None
    message_id: int | None = None


@dataclass(frozen=True)
class PlacementState:
    agency: str
    proposed_on: date
    status: str = "proposed"  # proposed | placed | recalled | cancelled
    notice_message_id: int | None = None
    placed_on: date | None = None
    recall_on: date | None = None  # the planned recall date
    recalled_on: date | None = None
    bucket: str | None = None  # at placement: what the commission rate is chosen by
    dpd: int | None = None
    rate_bp: int = 0
    amount: int = 0  # the overdue amount placed
    reason: str | None = None  # of the recall or cancel

    @property
    def open(self) -> bool:
        return self.status in ("proposed", "placed")


def fold(agency: str, proposed_on: date, events: list) -> PlacementState:
    """The placement as its steps in order make it: PlacementSteps, or the store's rows."""
    s = PlacementState(agency, proposed_on)
    for e in events:
        if e.action == "notice":
            s = replace(s, notice_message_id=e.message_id)
        elif e.action == "place":
            s = replace(s, status="placed", placed_on=e.day, recall_on=e.recall_on, bucket=e.bucket, dpd=e.dpd,
                        rate_bp=e.rate_bp or 0, amount=e.amount or 0)
        elif e.action == "recall":
            s = replace(s, status="recalled", recalled_on=e.day, reason=e.reason)
        elif e.action == "cancel":
            s = replace(s, status="cancelled", reason=e.reason)
    return s


def attributed(state: PlacementState, paid_on: date) -> bool:
    """A payment of that day is the agency's: on or after placement, before the recall day."""
    return (state.placed_on is not None and state.placed_on <= paid_on
            and (state.recalled_on is None or paid_on < state.recalled_on))


def notice_ready(sent_on: date | None, on: date, notice_days: int) -> str | None:
    """AGY-1: why the account may not be placed on `on` yet (None: it may)."""
    if sent_on is None:
        return "the borrower has not been told yet: the placement notice was not sent"
    if (on - sent_on).days < notice_days:
        return (f"the placement notice was sent on {sent_on.isoformat()}, less than {notice_days} days before "
                f"{on.isoformat()}")
    return None


def recall_reason(state: PlacementState, *, on: date, dpd: int, closed: bool, held: str | None) -> str | None:
    """Why a placed account goes back to the lender on `on` (None: it stays placed)."""
    if state.status != "placed":
        return None
    if held:
        return f"it may no longer go to an agency: {held}"
    if closed or dpd <= 0:
        return "repaid: no longer past due"
    if state.recall_on is not None and on >= state.recall_on:
        return f"the recall date {state.recall_on.isoformat()} came"
    return None


@dataclass(frozen=True)
class StatementLine:
    loan_id: str
    placed_on: date
    bucket: str | None
    dpd: int | None
    rate_bp: int
    recovered: int  # minor units, payments less reversals in the month
    commission: int


def statement_line(loan_id: str, state: PlacementState, payments: list[tuple[date, date, int]], first: date,
                   last: date) -> StatementLine:
    """What the agency recovered on the account from `first` to `last` and earns on it.
    `payments`: (the day it counts in, the day of the payment it is, amount): a reversal is
    negative, counts in its own day's month and belongs to whoever the reversed payment did."""
    recovered = sum(a for on, paid_on, a in payments if first <= on <= last and attributed(state, paid_on))
    earned = commission(abs(recovered), state.rate_bp)  # a reversal claws back what its payment earned
    return StatementLine(loan_id, state.placed_on, state.bucket, state.dpd, state.rate_bp, recovered,
                         earned if recovered >= 0 else -earned)
