"""The engine against the peer scenarios (Apache Fineract) and the edge cases of the ledger spec."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from collect_cli.domain.buckets import DEFAULT_BUCKETS, Bucket, bucket_for, check_buckets, classify
from collect_cli.domain.loan_state import Installment, allocate, loan_state
from collect_cli.domain.money import fmt, to_minor

PEER_CASES = Path(__file__).parents[1] / "fixtures" / "peer_cases.json"
SHARED_CASES = Path(__file__).parents[3] / "shared" / "fixtures" / "peer_cases.json"


def d(s: str) -> date:
    return date.fromisoformat(s)


def m(s: str) -> int:
    return to_minor(Decimal(s))


def schedule(rows) -> list[Installment]:
    return [Installment(r["seq"], d(r["due_on"]), m(r["principal_due"]), m(r["interest_due"]),
                        m(r.get("fee_due", "0"))) for r in rows]


def peer_checks():
    cases = json.loads(PEER_CASES.read_text(encoding="utf-8"))["cases"]
    for case in cases:
        insts = case["installments"]
        if "checks" in case:
            pays = [(d(p["paid_on"]), m(p["amount"])) for p in case["payments"]]
            for i, check in enumerate(case["checks"]):
                yield pytest.param(insts, pays, check, id=f"{case['name'][:40]}-{i}")
        else:  # payments arrive step by step; each check sees all payments so far
            pays = []
            for i, step in enumerate(case["payments_in_steps"]):
                pays = pays + [(d(p["paid_on"]), m(p["amount"])) for p in step["payments"]]
                yield pytest.param(insts, list(pays), step, id=f"{case['name'][:40]}-step{i}")


@pytest.mark.parametrize("insts,pays,check", list(peer_checks()))
def test_peer_scenarios(insts, pays, check):
    grace = check.get("grace_days", 0)
    s = loan_state(schedule(insts), pays, d(check["as_of"]), grace_days=grace)
    assert s.dpd == check["dpd"]
    assert fmt(s.overdue) == check["overdue"]
    if "delinquent_days" in check:
        assert s.delinquent_days == check["delinquent_days"]
    if "status" in check:
        assert s.status == check["status"]


def test_peer_cases_copy_matches_shared():
    """tests/fixtures holds a copy so a clone runs alone; it must not drift from shared/."""
    if not SHARED_CASES.exists():
        pytest.skip("shared/ is not beside this checkout")
    assert json.loads(PEER_CASES.read_text("utf-8")) == json.loads(SHARED_CASES.read_text("utf-8"))


def test_peer_case_count_is_what_was_transcribed():
    assert len(list(peer_checks())) == 9


ONE = [Installment(1, d("2024-01-31"), 100_00, 10_00, 5_00)]


def test_allocation_fees_then_interest_then_principal():
    (pos,), credit = allocate(ONE, 12_00)
    assert (pos.fee_paid, pos.interest_paid, pos.principal_paid, credit) == (5_00, 7_00, 0, 0)
    (pos,), credit = allocate(ONE, 20_00)
    assert (pos.fee_paid, pos.interest_paid, pos.principal_paid) == (5_00, 10_00, 5_00)


def test_allocation_oldest_installment_first_whatever_the_input_order():
    insts = [Installment(2, d("2024-03-01"), 100_00, 0), Installment(1, d("2024-02-01"), 100_00, 0)]
    positions, _ = allocate(insts, 150_00)
    assert [(p.installment.seq, p.paid) for p in positions] == [(1, 100_00), (2, 50_00)]


def test_same_due_date_ordered_by_seq():
    insts = [Installment(2, d("2024-02-01"), 100_00, 0), Installment(1, d("2024-02-01"), 100_00, 0)]
    s = loan_state(insts, [(d("2024-01-15"), 100_00)], d("2024-02-10"))
    assert s.oldest_overdue_seq == 2 and s.overdue == 100_00


def test_payment_on_the_due_date_is_on_time():
    s = loan_state(ONE, [(d("2024-01-31"), 115_00)], d("2024-01-31"))
    assert (s.status, s.dpd, s.overdue) == ("closed", 0, 0)
    assert s.bucket is None and s.classification is None


def test_due_today_unpaid_is_not_overdue_but_tomorrow_is():
    assert loan_state(ONE, [], d("2024-01-31")).dpd == 0
    s = loan_state(ONE, [], d("2024-02-01"))
    assert (s.dpd, s.overdue, s.bucket, s.classification) == (1, 115_00, "M1", "关注")


def test_payments_after_as_of_are_ignored():
    pays = [(d("2024-02-05"), 115_00)]
    assert loan_state(ONE, pays, d("2024-02-04")).dpd == 4
    assert loan_state(ONE, pays, d("2024-02-05")).status == "closed"


def test_leap_year_and_month_end():
    insts = [Installment(1, d("2024-01-31"), 100_00, 0), Installment(2, d("2024-02-29"), 100_00, 0),
             Installment(3, d("2024-03-31"), 100_00, 0)]
    s = loan_state(insts, [], d("2024-03-01"))
    assert s.dpd == 30  # 2024 is a leap year: Jan 31 -> Mar 1 is 30 days
    assert s.overdue == 200_00 and s.next_due_on == d("2024-03-31")
    assert loan_state(insts, [], d("2025-03-01")).dpd == 395
    assert loan_state([Installment(1, d("2023-02-28"), 1, 0)], [], d("2023-03-01")).dpd == 1


def test_overpayment_leaves_a_credit_and_closes():
    s = loan_state(ONE, [(d("2024-01-20"), 120_00)], d("2024-02-10"))
    assert (s.status, s.credit, s.outstanding_principal, s.overdue) == ("closed", 5_00, 0, 0)


def test_prepayment_before_any_due_date_closes_the_loan():
    insts = [Installment(1, d("2024-02-01"), 500_00, 10_00), Installment(2, d("2024-03-01"), 500_00, 5_00)]
    s = loan_state(insts, [(d("2024-01-10"), 1015_00)], d("2024-01-10"))
    assert s.status == "closed" and s.next_due_on is None


def test_partial_payment_keeps_dpd_and_reduces_overdue():
    insts = [Installment(1, d("2024-01-31"), 90_00, 10_00), Installment(2, d("2024-02-29"), 90_00, 10_00)]
    s = loan_state(insts, [(d("2024-02-10"), 30_00)], d("2024-03-10"))
    assert (s.dpd, s.overdue) == (39, 170_00)
    # 30.00 paid: 10.00 interest, 20.00 principal of the first installment
    assert s.outstanding_principal == 160_00 and s.overdue_principal == 160_00


def test_outstanding_counts_future_principal():
    insts = [Installment(1, d("2024-01-31"), 90_00, 10_00), Installment(2, d("2024-02-29"), 90_00, 10_00)]
    s = loan_state(insts, [], d("2024-02-10"))
    assert (s.overdue, s.outstanding_principal, s.next_due_amount) == (100_00, 180_00, 100_00)


def test_loan_without_schedule_is_open_and_current():
    s = loan_state([], [], d("2024-02-10"))
    assert (s.status, s.dpd, s.bucket) == ("open", 0, "M0")


def test_grace_days_change_the_bucket_not_the_dpd():
    s = loan_state(ONE, [], d("2024-02-03"), grace_days=3)
    assert (s.dpd, s.delinquent_days, s.bucket, s.classification) == (3, 0, "M0", "关注")


@pytest.mark.parametrize("days,bucket", [(0, "M0"), (1, "M1"), (30, "M1"), (31, "M2"), (60, "M2"),
                                         (61, "M3"), (90, "M3"), (91, "M4"), (120, "M4"), (121, "M5"),
                                         (150, "M5"), (151, "M6"), (180, "M6"), (181, "M7+"), (5000, "M7+")])
def test_default_bucket_edges_are_inclusive(days, bucket):
    assert bucket_for(days) == bucket


@pytest.mark.parametrize("dpd,tier", [(0, "正常"), (1, "关注"), (90, "关注"), (91, "次级"), (270, "次级"),
                                      (271, "可疑"), (360, "可疑"), (361, "损失")])
def test_classification_floor(dpd, tier):
    assert classify(dpd) == tier


def test_custom_buckets_must_be_contiguous():
    check_buckets((Bucket("current", 0, 0), Bucket("early", 1, 59), Bucket("late", 60, None)))
    with pytest.raises(ValueError, match="contiguous"):
        check_buckets((Bucket("a", 0, 0), Bucket("b", 2, None)))
    with pytest.raises(ValueError, match="open-ended"):
        check_buckets((Bucket("a", 0, 0), Bucket("b", 1, 30)))
    assert DEFAULT_BUCKETS[-1].max_days is None
