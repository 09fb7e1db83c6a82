"""Episode start dates: stable across runs, new after a cure."""

from datetime import date

from collect_cli.domain.episodes import episode_start
from collect_cli.domain.loan_state import Installment, loan_state

D = date.fromisoformat
SCHEDULE = [Installment(1, D("2026-01-31"), 100_00, 0), Installment(2, D("2026-02-28"), 100_00, 0),
            Installment(3, D("2026-03-31"), 100_00, 0)]


def test_current_loan_has_no_episode():
    assert episode_start(SCHEDULE, [], D("2026-01-31")) is None
    assert episode_start(SCHEDULE, [(D("2026-01-31"), 100_00)], D("2026-02-20")) is None


def test_episode_starts_the_day_after_the_missed_due_date_and_stays():
    for day in ("2026-02-01", "2026-02-15", "2026-03-05", "2026-04-30"):
        assert episode_start(SCHEDULE, [], D(day)) == D("2026-02-01")


def test_partial_cure_keeps_the_episode():
    # the first installment is paid late, the second is still overdue: DPD drops, episode goes on
    pays = [(D("2026-03-10"), 100_00)]
    assert loan_state(SCHEDULE, pays, D("2026-03-12")).dpd == 12
    assert episode_start(SCHEDULE, pays, D("2026-03-12")) == D("2026-02-01")


def test_cure_then_new_default_is_a_new_episode():
    pays = [(D("2026-02-10"), 100_00), (D("2026-02-27"), 100_00)]  # cured on 02-10
    assert episode_start(SCHEDULE, pays, D("2026-02-09")) == D("2026-02-01")
    assert episode_start(SCHEDULE, pays, D("2026-02-20")) is None
    assert episode_start(SCHEDULE, pays, D("2026-04-05")) == D("2026-04-01")


def test_payment_on_the_day_it_falls_overdue_cures_that_day():
    assert episode_start(SCHEDULE, [(D("2026-02-01"), 100_00)], D("2026-02-01")) is None


def test_payments_after_as_of_are_ignored():
    assert episode_start(SCHEDULE, [(D("2026-02-10"), 100_00)], D("2026-02-05")) == D("2026-02-01")


def test_every_episode_is_listed():
    from collect_cli.domain.episodes import episode_starts

    pays = [(D("2026-02-10"), 100_00), (D("2026-02-27"), 100_00)]
    assert episode_starts(SCHEDULE, pays, D("2026-04-05")) == [D("2026-02-01"), D("2026-04-01")]
    assert episode_starts(SCHEDULE, [], D("2026-01-31")) == []
