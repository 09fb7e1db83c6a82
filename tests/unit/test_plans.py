"""Restructuring plans: eligibility rules, the new schedule (month-end dates, money kept to
the fen), extensions and when a plan is broken."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from collect_cli.config import PlanRules
from collect_cli.domain.loan_state import Installment, loan_state, state_from_paid
from collect_cli.domain.plans import broken, extend, refusals, spread

D = date.fromisoformat
RULES = PlanRules(max_dpd=180, promise_lookback_days=90, max_earlier_plans=1, max_installments=24,
                  max_extend_days=180, broken_dpd=15)
# 6 monthly installments of 100.00 principal + 10.00 interest (+ 1.00 fee on the first three)
SCHEDULE = [Installment(i, d, 10_000, 1_000, 100 if i <= 3 else 0) for i, d in enumerate(
    [D("2025-08-31"), D("2025-09-30"), D("2025-10-31"), D("2025-11-30"), D("2025-12-31"), D("2026-01-31")], 1)]


def state(as_of: str, paid: int, schedule=SCHEDULE):
    return loan_state(schedule, [(D("2025-08-01"), paid)] if paid else [], D(as_of))


def unpaid_by_part(st):
    """Independently of the code under test: what is unpaid, per part, from the positions."""
    return (sum(p.installment.fee_due - p.fee_paid for p in st.positions),
            sum(p.installment.interest_due - p.interest_paid for p in st.positions),
            sum(p.installment.principal_due - p.principal_paid for p in st.positions))


@pytest.mark.parametrize("plan_on, dues", [
    ("2026-01-31", ["2026-02-28", "2026-03-31", "2026-04-30"]),  # clamped, then back to the 31st
    ("2028-01-31", ["2028-02-29", "2028-03-31", "2028-04-30"]),  # a leap year
    ("2026-03-15", ["2026-04-15", "2026-05-15", "2026-06-15"]),
])
def test_monthly_due_dates_clamp_to_the_month_end(plan_on, dues):
    st = state(plan_on, 11_100 + 5_000)  # the first installment paid, the second partly
    new = spread(st, 3, D(plan_on))
    assert [i.due_on.isoformat() for i in new if i.due_on > D(plan_on)] == dues


def test_a_first_due_date_anchors_the_months():
    st = state("2026-01-20", 0)
    new = spread(st, 3, D("2026-01-20"), first_due=D("2026-01-31"))
    assert [i.due_on for i in new] == [D("2026-01-31"), D("2026-02-28"), D("2026-03-31")]


@pytest.mark.parametrize("paid", [0, 5_000, 11_100, 11_100 + 5_000, 11_100 * 3 + 1, 60_000])
@pytest.mark.parametrize("n", [1, 3, 7])
def test_spreading_keeps_every_fen_and_cures_the_loan(paid, n):
    plan_on = D("2026-01-10")
    before = state("2026-01-10", paid)
    new = spread(before, n, plan_on)
    after = loan_state(new, [(D("2025-08-01"), paid)], plan_on)
    # the schedule owes exactly what the old one did, part by part, and the payments are where they were
    assert sum(i.total_due for i in new) == sum(i.total_due for i in SCHEDULE)
    assert unpaid_by_part(after) == unpaid_by_part(before)
    assert after.paid_to_date == before.paid_to_date and after.credit == before.credit == 0
    assert after.dpd == 0 and after.overdue == 0
    kept, plan_rows = new[:-n], new[-n:]
    assert all(i.due_on > plan_on for i in plan_rows)
    # even parts: all plan installments alike but the last, which takes the remainder
    assert len({i.total_due for i in plan_rows[:-1]}) <= 1
    # what was paid stays at its old date, fully paid
    old_dates = {i.seq: i.due_on for i in SCHEDULE}
    assert all(old_dates[i.seq] == i.due_on for i in kept)
    assert all(p.unpaid == 0 for p in after.positions if p.installment in kept)
    # the plan installments take new sequence numbers after the kept ones
    top = max((i.seq for i in kept), default=0)
    assert [i.seq for i in plan_rows] == list(range(top + 1, top + n + 1))


def test_extend_moves_only_unpaid_installments():
    before = state("2025-11-05", 11_100 + 5_000)  # seq 2 partly paid, 36 days past due
    new = extend(before, 60)
    moved = {i.seq: i.due_on for i in new}
    assert moved[1] == D("2025-08-31")
    assert moved[2] == D("2025-09-30") + timedelta(days=60)
    assert moved[6] == D("2026-01-31") + timedelta(days=60)
    after = loan_state(new, [(D("2025-08-01"), 11_100 + 5_000)], D("2025-11-05"))
    assert after.dpd == 0 and after.total_unpaid == before.total_unpaid


def test_each_eligibility_rule_names_itself():
    late = state("2026-01-10", 0)  # 132 days past due
    ok = refusals(late, plan_on=D("2026-01-10"), broken_promises=[], earlier_plans=0, rules=RULES, installments=6)
    assert ok == []

    def rules_of(**kw):
        args = {"plan_on": D("2026-01-10"), "broken_promises": [], "earlier_plans": 0, "rules": RULES,
                "installments": 6} | kw
        return [r.rule for r in refusals(kw.pop("st", late), **{k: v for k, v in args.items() if k != "st"})]

    assert rules_of(rules=PlanRules(max_dpd=90)) == ["PLAN-DPD"]
    assert rules_of(broken_promises=[D("2025-12-01")]) == ["PLAN-PROMISE"]
    assert rules_of(broken_promises=[D("2025-10-01")]) == []  # more than 90 days ago
    assert rules_of(earlier_plans=1) == []
    assert rules_of(earlier_plans=2) == ["PLAN-COUNT"]
    assert rules_of(installments=25) == ["PLAN-TERM"]
    assert rules_of(installments=0) == ["PLAN-TERM"]
    assert rules_of(installments=6, first_due=D("2026-01-10")) == ["PLAN-TERM"]  # not after the plan date
    assert rules_of(installments=None, extend_days=132) == ["PLAN-EXTEND"]
    assert rules_of(installments=None, extend_days=133) == []
    assert rules_of(installments=None, extend_days=181) == ["PLAN-TERM"]
    assert rules_of(st=state("2026-02-10", 70_000)) == ["PLAN-OPEN"]
    # every failed rule is named, not just the first
    assert rules_of(earlier_plans=2, broken_promises=[D("2026-01-01")], rules=PlanRules(max_dpd=90)) == [
        "PLAN-DPD", "PLAN-PROMISE", "PLAN-COUNT"]


def test_a_plan_is_broken_when_its_installment_is_too_late():
    plan_on = D("2026-01-10")
    new = spread(state("2026-01-10", 11_100), 3, plan_on)  # first plan installment due 2026-02-10
    assert broken(loan_state(new, [(D("2025-08-01"), 11_100)], D("2026-02-25")), plan_on, RULES) is None  # 15 days
    why = broken(loan_state(new, [(D("2025-08-01"), 11_100)], D("2026-02-26")), plan_on, RULES)
    assert why and "16 days past due on its installment of 2026-02-10" in why
    # late on money that was overdue before the plan (a later import restored it): not the plan's fault
    assert broken(state("2026-02-26", 0), plan_on, RULES) is None
    # paid off: done
    paid_off = loan_state(new, [(D("2025-08-01"), 100_000)], D("2026-06-30"))
    assert broken(paid_off, plan_on, RULES) is None


def test_a_restructured_loan_is_not_classified_normal_during_observation():
    from collect_cli.domain.plans import class_floor

    plan_on = D("2026-01-10")
    assert class_floor(plan_on, "正常", plan_on, 365) == "关注"
    assert class_floor(plan_on, "关注", plan_on + timedelta(days=364), 365) == "关注"
    assert class_floor(plan_on, "次级", plan_on + timedelta(days=100), 365) == "次级"  # no better than before
    assert class_floor(plan_on, "次级", plan_on + timedelta(days=365), 365) is None  # the year is over
    assert class_floor(plan_on, "次级", plan_on - timedelta(days=1), 365) is None
    new = spread(state("2026-01-10", 0), 6, plan_on)
    cured = loan_state(new, [], D("2026-01-20"))
    assert cured.dpd == 0 and cured.classification == "正常"
    floored = state_from_paid(new, 0, D("2026-01-20"), class_floor="次级")
    assert floored.classification == "次级"
    worse = state_from_paid(new, 0, D("2026-12-01"), class_floor="次级")  # 294 days behind on the plan: by DPD
    assert worse.classification == "可疑"


def test_replaying_a_date_before_plans_undoes_them_newest_first():
    from collect_cli.domain.plans import schedule_before

    def row(seq, due, amount, batch):
        return (seq, D(due), amount, 0, 0, batch)

    original = [row(1, "2026-01-31", 100, 1), row(2, "2026-02-28", 100, 1), row(3, "2026-03-31", 100, 1)]
    # plan A (batch 5): seq 2-3 spread into 2-5; plan B (batch 9): seq 4-5 moved 30 days
    after_a = [original[0], row(2, "2026-04-10", 50, 5), row(3, "2026-05-10", 50, 5), row(4, "2026-06-10", 50, 5),
               row(5, "2026-07-10", 50, 5)]
    after_b = after_a[:3] + [row(4, "2026-07-10", 50, 9), row(5, "2026-08-09", 50, 9)]
    replaced = {5: original[1:], 9: after_a[3:]}
    as_tuples = lambda insts: [(i.seq, i.due_on, i.principal_due, 0, 0) for i in insts]  # noqa: E731
    assert as_tuples(schedule_before(after_b, [9], replaced)) == [r[:5] for r in after_a]
    assert as_tuples(schedule_before(after_b, [9, 5], replaced)) == [r[:5] for r in original]
    assert as_tuples(schedule_before(after_b, [], replaced)) == [r[:5] for r in after_b]

