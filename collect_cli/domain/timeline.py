"""A loan over time, for portfolio analytics: its state on many dates in one pass, and the
first day it went more than N days past due.

The figures are the engine's (domain/loan_state.py), computed the lean way because reports
replay the whole book on many dates: allocation pays installments oldest first, so with
`cum` the running total due in allocation order and `paid` the money paid by the date,
- the oldest installment with unpaid money is the first whose `cum` exceeds `paid`;
- what is overdue is what fell due before the date less `paid`, when positive;
- an installment's principal is paid by `paid − (cum − principal)`, clamped to 0…principal
  (fees and interest of an installment are paid before its principal).
Tests hold this to the engine on generated portfolios. A loan whose product allocates
payment by payment (domain/allocation.py) has no running-total shortcut: each day is
allocated by that rule, the same code the engine runs.

Days are day numbers (date.toordinal()), so the loops compare integers.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

from collect_cli.domain.allocation import SUM_RULE, Rule, allocate_by_payment, in_effect


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
    `payments`: (loan, paid day, amount) in day order.
    Under a by-payment `rule`, `voids` name what each reversal took out ((reversal day, paid
    day, amount)) and `penalty_off` the penalty waivers ((day, amount))."""

    schedule: Sequence[tuple[int, int, int]]
    payments: Sequence[tuple[int, int]]
    rule: Rule = SUM_RULE
    voids: Sequence[tuple[int, int, int]] = ()
    penalty_off: Sequence[tuple[int, int]] = ()

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
    if ledger.rule.by_payment:
        return [_snapshot_by_payment(ledger, day) for day in days]
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


def _rows(ledger: Ledger) -> tuple[list[tuple[int, int, int]], list[tuple[int, int]]]:
    return [(due, p, o) for _, due, p, o in ledger.schedule], [(d, a) for _, d, a in ledger.payments]


def _snapshot_by_payment(ledger: Ledger, day: int) -> Snapshot:
    schedule, paid_rows = _rows(ledger)
    p = allocate_by_payment(schedule, in_effect(paid_rows, ledger.voids, day), day, ledger.rule, ledger.penalty_off)
    unpaid = [(due, principal + other - p.principal[i] - p.other[i])
              for i, (due, principal, other) in enumerate(schedule)]
    oldest = next((due for due, left in unpaid if left), None)
    return Snapshot(day - oldest if oldest is not None and oldest < day else 0,
                    sum(left for due, left in unpaid if due < day),
                    sum(principal for _, principal, _ in schedule) - sum(p.principal),
                    bool(schedule) and oldest is None)


def first_past_due(ledger: Ledger, over_days: Sequence[int], *, pauses: Sequence[tuple[int, int]] = (),
                   until: int | None = None) -> list[int | None]:
    """For each of `over_days`, the first day the loan is more than that many days past due,
    or None.

    Installment i makes the loan that late on the first day its days past due, less the days
    a pause froze (`pauses`: (start, end) day numbers, days start+1..end frozen), exceed the
    threshold, unless it is paid in full by then; or later, on a day a reversal (a negative
    payment) leaves it unpaid again. The earliest over all installments gives the day; none
    after `until` (the last day the loan is the lender's to be late: settled or sold)."""
    if ledger.rule.by_payment:
        return _first_past_due_by_payment(ledger, over_days, pauses, until)
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


def _first_past_due_by_payment(ledger: Ledger, over_days: Sequence[int], pauses: Sequence[tuple[int, int]],
                               until: int | None) -> list[int | None]:
    """As `first_past_due`, under a by-payment rule: between reversals the payments in effect
    are fixed and an installment, once paid in full, stays so; each stretch is allocated once
    and tells the day each installment was paid in full."""
    schedule, paid_rows = _rows(ledger)
    starts = sorted({r for r, _, _ in ledger.voids})  # a stretch begins at each reversal day
    last = max([d for d, _ in paid_rows] + [due for due, _, _ in schedule] + starts, default=0)
    full_on = [allocate_by_payment(schedule, in_effect(paid_rows, ledger.voids[:k], last), last, ledger.rule,
                                   ledger.penalty_off).full_on
               for k in [0, *(sum(1 for v in ledger.voids if v[0] <= r) for r in starts)]]

    def unpaid_on(i: int, day: int) -> bool:
        done = full_on[bisect_right(starts, day)][i]
        return done is None or done > day

    found: list[int | None] = [None] * len(over_days)
    for i, (due, _, _) in enumerate(schedule):
        for n, over in enumerate(over_days):
            day = _aged_past(due, over, pauses)
            late = next((d for d in (day, *(r for r in starts if r > day)) if unpaid_on(i, d)), None)
            if late is not None and (until is None or late <= until) and (found[n] is None or late < found[n]):
                found[n] = late
    return found


def _aged_past(due: int, over: int, pauses: Sequence[tuple[int, int]]) -> int:
    """The first day more than `over` unfrozen days after `due`."""
    day = due + over + 1
    while True:
        frozen = sum(max(0, min(end, day) - max(start, due)) for start, end in pauses)
        if day - due - frozen > over:
            return day
        day = due + over + 1 + frozen
