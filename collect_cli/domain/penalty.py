"""Penalty interest (罚息): accrued per calendar day on overdue principal, per product.

Off unless configured. AMT-2: the daily rate is capped at 1.5 × the loan's contract rate
(银发〔2003〕251号), and, when a dated LPR table is configured, the all-in annual rate
(contract + penalty) at the LPR multiple (法释〔2020〕17号: 4 × LPR). Penalty is stated in
messages apart from principal, interest and fees; payments are allocated as before
(fees, interest, principal), so DPD and the overdue amount do not change.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from collect_cli.domain.loan_state import Installment, allocate

DAYS_A_YEAR = 365
PENALTY_CAP_MULTIPLE = Decimal("1.5")


def capped_daily_rate(configured: Decimal, annual_rate_ppm: int | None, *, lpr: Decimal | None = None,
                      lpr_multiple: Decimal = Decimal(4)) -> Decimal:
    """The daily rate that may be charged on this loan; 0 without a contract rate to cap it by."""
    if annual_rate_ppm is None or annual_rate_ppm <= 0:
        return Decimal(0)
    contract = Decimal(annual_rate_ppm) / 1_000_000
    rate = min(configured, contract * PENALTY_CAP_MULTIPLE / DAYS_A_YEAR)
    if lpr is not None:
        room = lpr * lpr_multiple - contract  # what the all-in cap leaves for penalty, a year
        rate = min(rate, max(room, Decimal(0)) / DAYS_A_YEAR)
    return rate


def penalty_interest(installments: Iterable[Installment], payments: Iterable[tuple[date, int]],
                     as_of: date, daily_rate: Decimal) -> int:
    """Penalty accrued up to and including `as_of`, in minor units (rounded half up once).

    Overdue principal on day d is the principal of installments due before d that the
    payments made by d (applied oldest first, fees and interest before principal) have not
    covered. It changes only the day after a due date and on a payment date.
    """
    if daily_rate <= 0:
        return 0
    installments = list(installments)
    paid_by: dict[date, int] = {}
    for paid_on, amount in payments:
        if paid_on <= as_of:
            paid_by[paid_on] = paid_by.get(paid_on, 0) + amount
    changes = {i.due_on + timedelta(days=1) for i in installments} | set(paid_by)
    days = sorted(d for d in changes if d <= as_of)
    total = Decimal(0)
    paid = 0
    for n, day in enumerate(days):
        paid += paid_by.get(day, 0)
        positions, _ = allocate(installments, paid)
        overdue_principal = sum(p.installment.principal_due - p.principal_paid
                                for p in positions if p.installment.due_on < day)
        until = days[n + 1] if n + 1 < len(days) else as_of + timedelta(days=1)
        total += overdue_principal * daily_rate * (until - day).days
    return int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP))
