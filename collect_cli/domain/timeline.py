"""A loan over time, for portfolio analytics: its state on many dates in one pass, and the
first day it went more than N days past due.

The figures are the engine's (domain/loan_state.py), computed the lean way because reports
replay the whole book on many dates: allocation pays installments oldest first, so with
`cum` the running total due in allocation order and `paid` the money paid by the date,
- the oldest installment with unpaid money is the first whose `cum` exceeds `paid`;
- what is overdue is what fell due before the date less `paid`, when positive;
- an installment's principal is paid by `paid − (cum − principal)`, clamped to 0…principal
  (fees and interest of an installment are paid before its principal).
Tests hold this to the engine on generated portfolios.

Days are day numbers (date.toordinal()), so the loops compare integers.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate


@dataclass(frozen=True, slots=True)
class Snapshot:
    dpd: int
    overdue: int  # minor units
    outstanding: int  # outstanding principal, minor units
    closed: bool


@dataclass(frozen=True, slots=True)
class Ledger:
    """One loan's schedule and payments, as rows that start with the loan id.

    `schedule`: (loan, due day, principal, interest + fees) in allocation order (due_on, seq);
    `payments`: (loan, paid day, amount) in day order."""

    schedule: Sequence[tuple[int, int, int]]
    payments: Sequence[tuple[int, int]]

    @classmethod
    def of(cls, loan_id: str, installments, payments) -> Ledger:
        """From the engine's Installments and (date, amount) payments."""
        return cls([(loan_id, i.due_on.toordinal(), i.principal_due, i.interest_due + i.fee_due)
                    for i in sorted(installments, key=lambda i: (i.due_on, i.seq))],
                   sorted((loan_id, d.toordinal(), a) for d, a in payments))

    @property
    def cum(self) -> list[int]:
        return list(accumulate(p + o for _, _, p, o in self.schedule))

    def paid_curve(self, until: int | None = None) -> PaidCurve:
        """The payments (up to day `until`) as a running total, to ask "paid by day d"."""
        return PaidCurve([(d, a) for _, d, a in self.payments if until is None or d <= until])


class PaidCurve:
    """Money paid up to any day, by binary search over the payment days."""

    __slots__ = ("days", "totals")

    def __init__(self, payments: Sequence[tuple[int, int]]):
        self.days = [d for d, _ in payments]
        self.totals = list(accumulate(a for _, a in payments))

    def by(self, day: int) -> int:
        i = bisect_right(self.days, day)
        return self.totals[i - 1] if i else 0


def snapshots(ledger: Ledger, days: Sequence[int]) -> list[Snapshot]:
    """The loan's state on each day of `days` (payments dated on or before each day count).

    After one pass over the schedule each day costs two binary searches: the first
    installment not paid in full is the first whose running total exceeds what was paid, and
    every installment before it has its principal paid."""
    schedule = ledger.schedule
    cum = ledger.cum
    dues = [due for _, due, _, _ in schedule]
    principal_before = [0, *accumulate(p for _, _, p, _ in schedule)]  # principal of the rows before i
    total = cum[-1] if cum else 0
    paid_by = ledger.paid_curve().by
    out = []
    for day in days:
        paid = paid_by(day)
        k = bisect_right(cum, paid)  # the oldest installment with money unpaid (len: none)
        outstanding = principal_before[-1] - principal_before[k]
        if k < len(schedule):
            _, due, principal, _ = schedule[k]
            # of its money, fees and interest come first: its principal got what exceeds them
            outstanding -= min(max(paid - (cum[k] - principal), 0), principal)
        fell = bisect_left(dues, day)  # installments due before the day
        fell_due = cum[fell - 1] if fell else 0
        dpd = day - dues[k] if k < len(schedule) and dues[k] < day else 0
        out.append(Snapshot(dpd, max(fell_due - paid, 0), outstanding, bool(schedule) and paid >= total))
    return out


def first_past_due(ledger: Ledger, over_days: Sequence[int], *, pauses: Sequence[tuple[int, int]] = (),
                   until: int | None = None) -> list[int | None]:
    """For each of `over_days`, the first day the loan is more than that many days past due,
    or None.

    Installment i makes the loan that late on the first day its days past due, less the days
    a pause froze (`pauses`: (start, end) day numbers, days start+1..end frozen), exceed the
    threshold, unless it is paid in full by then; or later, on a day a reversal (a negative
    payment) leaves it unpaid again. The earliest over all installments gives the day; none
    after `until` (the last day the loan is the lender's to be late: settled or sold)."""
    paid_by = ledger.paid_curve().by
    drops = [d for _, d, a in ledger.payments if a < 0]  # in day order
    found: list[int | None] = [None] * len(over_days)
    running = 0
    for _, due, principal, other in ledger.schedule:
        running += principal + other
        for n, over in enumerate(over_days):
            day = _aged_past(due, over, pauses)
            if found[n] is not None and found[n] <= day:
                continue
            late = next((d for d in (day, *(r for r in drops if r > day)) if paid_by(d) < running), None)
            if late is not None and (until is None or late <= until) and (found[n] is None or late < found[n]):
                found[n] = late
        if not drops and all(f is not None for f in found):
            break  # without reversals a later installment is late later
    return found


def _aged_past(due: int, over: int, pauses: Sequence[tuple[int, int]]) -> int:
    """The first day more than `over` unfrozen days after `due`."""
    day = due + over + 1
    while True:
        frozen = sum(max(0, min(end, day) - max(start, due)) for start, end in pauses)
        if day - due - frozen > over:
            return day
        day = due + over + 1 + frozen
