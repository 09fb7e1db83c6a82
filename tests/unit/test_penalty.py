"""Penalty interest against a day-by-day computation written here, and the AMT-2 caps."""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from collect_cli.domain.loan_state import Installment, loan_state
from collect_cli.domain.penalty import capped_daily_rate, penalty_interest

D = date.fromisoformat
SCHEDULE = [Installment(1, D("2026-01-31"), 1000_00, 50_00, 5_00), Installment(2, D("2026-02-28"), 1000_00, 40_00),
            Installment(3, D("2026-03-31"), 1000_00, 30_00)]
RATE = Decimal("0.0005")


def day_by_day(installments, payments, as_of, rate) -> int:
    """Independent: walk every day, recompute the overdue principal with the engine's state."""
    total = Decimal(0)
    start = min(i.due_on for i in installments) + timedelta(days=1)
    day = start
    while day <= as_of:
        state = loan_state(installments, payments, day)
        total += state.overdue_principal * rate
        day += timedelta(days=1)
    return int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@pytest.mark.parametrize("payments", [
    [],
    [(D("2026-02-10"), 300_00)],
    [(D("2026-02-10"), 300_00), (D("2026-03-15"), 1500_00)],
    [(D("2026-01-31"), 1055_00)],
    [(D("2026-04-10"), 5000_00)],
])
@pytest.mark.parametrize("as_of", ["2026-01-31", "2026-02-01", "2026-03-01", "2026-04-20"])
def test_matches_a_day_by_day_computation(payments, as_of):
    assert penalty_interest(SCHEDULE, payments, D(as_of), RATE) == day_by_day(SCHEDULE, payments, D(as_of), RATE)


def test_one_installment_simple_case():
    # 1,000.00 principal overdue for 10 days at 0.05 % a day = 5.00
    assert penalty_interest([Installment(1, D("2026-01-31"), 1000_00, 0)], [], D("2026-02-10"), RATE) == 5_00


def test_off_and_without_contract_rate():
    assert penalty_interest(SCHEDULE, [], D("2026-04-20"), Decimal(0)) == 0
    assert capped_daily_rate(RATE, None) == 0


def test_capped_at_one_and_a_half_times_the_contract_rate():
    # contract 7.3 % a year -> cap 0.03 % a day, below the configured 0.05 %
    assert capped_daily_rate(RATE, 73_000) == Decimal("0.073") * Decimal("1.5") / 365
    assert capped_daily_rate(Decimal("0.0001"), 73_000) == Decimal("0.0001")


def test_capped_by_the_lpr_multiple():
    # contract 12 %, LPR 3.1 % -> all-in cap 12.4 %: 0.4 % a year left for penalty
    assert capped_daily_rate(RATE, 120_000, lpr=Decimal("0.031")) == Decimal("0.004") / 365
    assert capped_daily_rate(RATE, 130_000, lpr=Decimal("0.031")) == 0
