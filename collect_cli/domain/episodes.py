"""Delinquency episodes: when the current run of days past due began.

An episode starts on the first day a loan is overdue and ends when it is cured (nothing
overdue) or closed. Its start date names it, so the same ledger gives the same episode on any
run, and a cure followed by a new default gives a new one (reminders.md, "Episodes").
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from collect_cli.domain.loan_state import Installment


def episode_start(installments: Iterable[Installment], payments: Iterable[tuple[date, int]],
                  as_of: date) -> date | None:
    """The first day of the delinquency that is still running on `as_of`; None if current.

    Overdue money on day d is what fell due before d less what was paid by d (payments are
    applied oldest first, so a loan is current exactly when that is <= 0). It changes only
    on the day after a due date and on a payment date; the sweep follows those days.
    """
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
    start = None
    for day in sorted(dues.keys() | paid.keys()):
        balance += dues.get(day, 0) - paid.get(day, 0)
        if balance > 0 and start is None:
            start = day
        elif balance <= 0:
            start = None
    return start
