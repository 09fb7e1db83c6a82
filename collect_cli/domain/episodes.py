"""Delinquency episodes: when the current run of days past due began.

An episode starts on the first day a loan is overdue and ends when it is cured (nothing
overdue) or closed. Its start date names it, so the same ledger gives the same episode on any
run, and a cure followed by a new default gives a new one (reminders.md, "Episodes").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from collect_cli.domain.allocation import SUM_RULE, Rule, allocate_by_payment
from collect_cli.domain.loan_state import Installment


def episode_starts(installments: Iterable[Installment], payments: Iterable[tuple[date, int]],
                   as_of: date, rule: Rule = SUM_RULE, penalty_off: Sequence[tuple[date, int]] = ()) -> list[date]:
    """The first day of every delinquency up to `as_of`, oldest first.

    Overdue money on day d is what fell due before d less what was paid by d (payments are
    applied oldest first, so a loan is current exactly when that is <= 0). It changes only
    on the day after a due date and on a payment date; the sweep follows those days. Under a
    by-payment rule (`payments` those in effect) each of those days is allocated by the rule.
    """
    if rule.by_payment:
        return _sweep_by_payment(list(installments), list(payments), as_of, rule, penalty_off)[0]
    dues: dict[date, int] = {}
    for inst in installments:
        overdue_from = inst.due_on + timedelta(days=1)
        if overdue_from <= as_of:
            dues[overdue_from] = dues.get(overdue_from, 0) + inst.total_due
    paid: dict[date, int] = {}
    for paid_on, amount in payments:
        if paid_on <= as_of:
            paid[paid_on] = paid.get(paid_on, 0) + amount
    balance = 0
    starts: list[date] = []
    late = False
    for day in sorted(dues.keys() | paid.keys()):
        balance += dues.get(day, 0) - paid.get(day, 0)
        if balance > 0 and not late:
            starts.append(day)
        late = balance > 0
    return starts


def _sweep_by_payment(installments: list[Installment], payments: list[tuple[date, int]], as_of: date, rule: Rule,
                      penalty_off: Sequence[tuple[date, int]]) -> tuple[list[date], bool]:
    """The starts, and whether the loan is late on `as_of` (as on the sweep's last day, in one
    allocation of the payments: lateness changes only on a payment day or after a due date)."""
    ordered = sorted(installments, key=lambda i: (i.due_on, i.seq))
    schedule = [(i.due_on.toordinal(), i.principal_due, i.interest_due + i.fee_due) for i in ordered]
    sweep: list[tuple[int, bool]] = []  # one allocation, noting lateness on each day it may change
    allocate_by_payment(schedule, [(d.toordinal(), a) for d, a in payments], as_of.toordinal(), rule,
                        [(d.toordinal(), a) for d, a in penalty_off], late_on=sweep)
    starts: list[date] = []
    late = False
    for day, now in sweep:
        if now and not late:
            starts.append(date.fromordinal(day))
        late = now
    return starts, late


def episode_start(installments: Iterable[Installment], payments: Iterable[tuple[date, int]],
                  as_of: date, rule: Rule = SUM_RULE, penalty_off: Sequence[tuple[date, int]] = ()) -> date | None:
    """The first day of the delinquency still running on `as_of`; None if the loan is current."""
    installments, payments = list(installments), list(payments)
    if rule.by_payment:
        starts, late = _sweep_by_payment(installments, payments, as_of, rule, penalty_off)
        return starts[-1] if late else None
    starts = episode_starts(installments, payments, as_of)
    if not starts:
        return None
    # still running when something is overdue today
    due = sum(i.total_due for i in installments if i.due_on < as_of)
    paid = sum(a for d, a in payments if d <= as_of)
    return starts[-1] if due > paid else None

