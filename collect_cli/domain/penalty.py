"""Penalty interest (罚息): accrued per calendar day on overdue principal, per product.

Off unless configured. AMT-2: the daily rate is capped at 1.5 × the loan's contract rate
(银发〔2003〕251号), and, when a dated LPR table is configured, the all-in annual rate
(contract + penalty) at the LPR multiple (法释〔2020〕17号: 4 × LPR). Penalty is stated in
messages apart from principal, interest and fees. Payments pay it only under the
penalty-first allocation rule (domain/allocation.py, which accrues it the same way along
its own allocation); under the others DPD and the overdue amount do not change.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from collect_cli.domain.allocation import FEE_INTEREST_PRINCIPAL, Installment, Rule, positions_by_payment

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
    """Penalty accrued up to and including `as_of` under the default allocation, in minor
    units (rounded half up once); a reversal may be a negative payment on its day.

    Overdue principal on day d is the principal of installments due before d that the
    payments made by d (applied oldest first, fees and interest before principal) have not
    covered. It changes only the day after a due date and on a payment date.
    """
    if daily_rate <= 0:
        return 0
    _, paid = positions_by_payment(installments, payments, as_of, Rule(FEE_INTEREST_PRINCIPAL, daily_rate))
    return paid.penalty_accrued
