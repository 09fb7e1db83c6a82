"""Allocation rules (domain/allocation.py) against an independent computation written here:
a day-by-day walk of the calendar that fills an explicit priority list of (installment,
component) for each payment, and accrues penalty one day at a time."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from collect_cli.domain.allocation import (
    FEE_INTEREST_PRINCIPAL,
    INTEREST_FIRST,
    PENALTY_INTEREST_PRINCIPAL,
    STRATEGIES,
    SUM_RULE,
    Installment,
    Rule,
    allocate,
    allocate_by_payment,
    in_effect,
    positions_by_payment,
)
from collect_cli.domain.episodes import episode_start, episode_starts
from collect_cli.domain.loan_state import loan_state, state_from_paid
from collect_cli.domain.money import fmt, to_minor
from collect_cli.domain.timeline import Ledger, first_past_due, snapshots

D = date.fromisoformat


def reference(installments, payments, as_of, strategy, rate=Decimal(0), waived=()):
    """(paid per installment as [fee, interest, principal], credit, penalty accrued, penalty paid)."""
    inst = sorted(installments, key=lambda i: (i.due_on, i.seq))
    paid = [[0, 0, 0] for _ in inst]
    due_of = [[i.fee_due, i.interest_due, i.principal_due] for i in inst]
    credit = penalty_paid = 0
    accrued = Decimal(0)
    start = min([i.due_on for i in inst] + [d for d, _ in payments] + [as_of])
    day = start
    while day <= as_of:
        for left in [sum(a for d, a in payments if d == day)] if any(d == day for d, _ in payments) else []:
            # a day's payments as one: the ledger has no time of day
            if strategy == PENALTY_INTEREST_PRINCIPAL:
                owed = int(accrued.quantize(Decimal(1), rounding=ROUND_HALF_UP)) - penalty_paid \
                    - sum(a for d, a in waived if d <= day)
                take = max(0, min(left, owed))
                penalty_paid += take
                left -= take
            order = []
            overdue = any(i.due_on < day and sum(paid[k]) < sum(due_of[k]) for k, i in enumerate(inst))
            if strategy == INTEREST_FIRST and overdue:
                order += [(k, c) for k, i in enumerate(inst) if i.due_on <= day for c in (0, 1)]
                order += [(k, 2) for k in range(len(inst))]
            order += [(k, c) for k in range(len(inst)) for c in (0, 1, 2)]
            for k, c in order:
                take = min(left, due_of[k][c] - paid[k][c])
                paid[k][c] += take
                left -= take
            credit += left
        overdue_principal = sum(due_of[k][2] - paid[k][2] for k, i in enumerate(inst) if i.due_on < day)
        accrued += overdue_principal * rate  # the day's penalty, on what is overdue at its end
        day += timedelta(days=1)
    return paid, credit, int(accrued.quantize(Decimal(1), rounding=ROUND_HALF_UP)), penalty_paid


def random_loan(rng: random.Random):
    first = D("2026-01-15") + timedelta(days=rng.randrange(0, 20))
    installments = [Installment(k + 1, first + timedelta(days=30 * k), rng.choice([0, 300_00, 1000_00]),
                                rng.choice([0, 15_00, 40_00]), rng.choice([0, 0, 5_00]))
                    for k in range(rng.randrange(1, 6))]
    payments = [(first + timedelta(days=rng.randrange(-20, 200)), rng.choice([10_00, 55_00, 320_00, 1045_00]))
                for _ in range(rng.randrange(0, 7))]
    as_of = first + timedelta(days=rng.randrange(0, 220))
    return installments, payments, as_of


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_allocation_matches_the_day_by_day_walk(strategy):
    rng = random.Random(f"alloc-{strategy}")
    for _ in range(400):
        installments, payments, as_of = random_loan(rng)
        rate = rng.choice([Decimal(0), Decimal("0.0005"), Decimal("0.002")])
        waived = [(as_of - timedelta(days=rng.randrange(60)), rng.choice([1_00, 30_00]))] if rng.random() < .3 else []
        rule = Rule(strategy, rate)
        made = [(d, a) for d, a in payments if d <= as_of]
        positions, paid = positions_by_payment(installments, made, as_of, rule, waived)
        want, credit, accrued, penalty_paid = reference(installments, made, as_of, strategy, rate, waived)
        assert [[p.fee_paid, p.interest_paid, p.principal_paid] for p in positions] == want
        assert (paid.credit, paid.penalty_accrued, paid.penalty_paid) == (credit, accrued, penalty_paid)
        # money is neither made nor lost
        assert sum(p.paid for p in positions) + paid.credit + paid.penalty_paid == sum(a for _, a in made)


def test_the_default_rule_payment_by_payment_is_the_sum_rule():
    rng = random.Random("sum")
    for _ in range(300):
        installments, payments, as_of = random_loan(rng)
        made = [(d, a) for d, a in payments if d <= as_of]
        by_payment, paid = positions_by_payment(installments, made, as_of, Rule(FEE_INTEREST_PRINCIPAL))
        summed, credit = allocate(installments, sum(a for _, a in made))
        assert by_payment == summed and paid.credit == credit


def test_interest_first_pays_the_interest_of_every_due_installment_before_principal():
    schedule = [Installment(1, D("2026-01-31"), 1000_00, 50_00), Installment(2, D("2026-02-28"), 1000_00, 50_00),
                Installment(3, D("2026-03-31"), 1000_00, 50_00)]
    pays = [(D("2026-03-05"), 300_00)]  # two installments due, nothing paid
    state = loan_state(schedule, pays, D("2026-03-10"), rule=Rule(INTEREST_FIRST))
    got = [(p.interest_paid, p.principal_paid) for p in state.positions]
    assert got == [(50_00, 200_00), (50_00, 0), (0, 0)]
    # under the default rule the same money pays the oldest installment's interest and principal only
    horizontal = loan_state(schedule, pays, D("2026-03-10"))
    assert [(p.interest_paid, p.principal_paid) for p in horizontal.positions] == [(50_00, 250_00), (0, 0), (0, 0)]
    assert state.dpd == horizontal.dpd == 38 and state.overdue == horizontal.overdue
    assert state.outstanding_principal == 2800_00 and horizontal.outstanding_principal == 2750_00


def test_penalty_first_keeps_the_installment_late_that_the_sum_calls_paid():
    schedule = [Installment(1, D("2026-01-31"), 1000_00, 0)]
    rule = Rule(PENALTY_INTEREST_PRINCIPAL, Decimal("0.001"))  # 1.00 a day on 1,000.00
    pays = [(D("2026-02-11"), 1000_00)]  # 11 days late (Feb 1 … Feb 10 accrued: 10.00)
    state = loan_state(schedule, pays, D("2026-02-11"), rule=rule)
    assert state.positions[0].principal_paid == 990_00 and state.dpd == 11 and state.overdue == 10_00
    assert loan_state(schedule, pays, D("2026-02-11")).status == "closed"
    # a second payment pays the day's penalty first (10.00 unpaid principal for a day: 0.01)
    state = loan_state(schedule, [*pays, (D("2026-02-12"), 10_01)], D("2026-02-12"), rule=rule)
    assert state.status == "closed" and state.credit == 0


def test_a_reversal_takes_the_payment_out_of_the_whole_history():
    """Under a by-payment rule the reversed payment is as if it never happened: the payments
    left are allocated again from the start (Fineract reprocesses after an undo)."""
    schedule = [Installment(1, D("2026-01-31"), 1000_00, 50_00), Installment(2, D("2026-02-28"), 1000_00, 50_00)]
    rows = [(D("2026-01-20").toordinal(), 1050_00), (D("2026-03-05").toordinal(), 300_00),
            (D("2026-03-09").toordinal(), -1050_00)]
    voids = [(D("2026-03-09").toordinal(), D("2026-01-20").toordinal(), 1050_00)]
    assert in_effect([(d, a) for d, a in rows], voids, D("2026-03-08").toordinal()) == rows[:2]
    assert in_effect([(d, a) for d, a in rows], voids, D("2026-03-09").toordinal()) == rows[1:2]
    rule = Rule(INTEREST_FIRST)
    after = loan_state(schedule, [(D("2026-03-05"), 300_00)], D("2026-03-10"), rule=rule)
    # 300.00 on Mar 5, both due: interest of both (100.00), then 200.00 of the first's principal
    assert [(p.interest_paid, p.principal_paid) for p in after.positions] == [(50_00, 200_00), (50_00, 0)]
    ledger = Ledger([("L", d.toordinal(), i.principal_due, i.interest_due) for d, i in
                     ((i.due_on, i) for i in schedule)], [("L", d, a) for d, a in rows], rule, voids)
    before_day, after_day = D("2026-03-08").toordinal(), D("2026-03-10").toordinal()
    lean_before, lean_after = snapshots(ledger, [before_day, after_day])
    assert (lean_after.dpd, lean_after.overdue, lean_after.outstanding) == (
        after.dpd, after.overdue, after.outstanding_principal)
    before = loan_state(schedule, [(D("2026-01-20"), 1050_00), (D("2026-03-05"), 300_00)], D("2026-03-08"), rule=rule)
    # #1 prepaid in full; the 300.00 paid #2's interest 50.00 and 250.00 of its principal
    assert (lean_before.dpd, lean_before.overdue) == (before.dpd, before.overdue) == (8, 750_00)


@pytest.mark.parametrize("strategy", [PENALTY_INTEREST_PRINCIPAL, INTEREST_FIRST])
def test_the_lean_replay_is_the_engine_on_every_day(strategy):
    rng = random.Random(f"lean-{strategy}")
    rule = Rule(strategy, Decimal("0.001"))
    for _ in range(120):
        installments, payments, _ = random_loan(rng)
        payments.sort()
        rows = [(d.toordinal(), a) for d, a in payments]
        voids = []
        for d, a in payments:  # some payments bounce a few days later
            if rng.random() < .25:
                voids.append(((d + timedelta(days=rng.randrange(1, 40))).toordinal(), d.toordinal(), a))
                rows.append((voids[-1][0], -a))
        voids.sort()
        rows.sort()
        ledger = Ledger.of("L", installments, [])
        ledger = Ledger(ledger.schedule, [("L", d, a) for d, a in rows], rule, voids)
        first = min(i.due_on for i in installments)
        days = [(first + timedelta(days=k)).toordinal() for k in range(-5, 260, 7)]
        for day, lean in zip(days, snapshots(ledger, days), strict=True):
            on = date.fromordinal(day)
            counted = [(date.fromordinal(d), a) for d, a in in_effect(rows, voids, day)]
            s = loan_state(installments, counted, on, rule=rule)
            assert (lean.dpd, lean.overdue, lean.outstanding, lean.closed) == (
                s.dpd, s.overdue, s.outstanding_principal, s.status == "closed"), (installments, rows, on)
        # the first day over 30/60 days past due, found by asking the engine every day
        over = [30, 60]
        want: list = [None, None]
        for k in range(400):
            on = first + timedelta(days=k)
            counted = [(date.fromordinal(d), a) for d, a in in_effect(rows, voids, on.toordinal())]
            dpd = loan_state(installments, counted, on, rule=rule).dpd
            for n, t in enumerate(over):
                if want[n] is None and dpd > t:
                    want[n] = on.toordinal()
        assert first_past_due(ledger, over) == want, (installments, rows)


def test_the_sum_rule_is_the_default_everywhere():
    assert not SUM_RULE.by_payment and SUM_RULE.strategy == FEE_INTEREST_PRINCIPAL
    schedule = [Installment(1, D("2026-01-31"), 1000_00, 50_00)]
    assert loan_state(schedule, [(D("2026-02-01"), 500_00)], D("2026-02-10")) == \
        state_from_paid(schedule, 500_00, D("2026-02-10"))


def test_a_schedule_of_nothing_is_paid_from_its_due_day():
    paid = allocate_by_payment([(10, 0, 0), (40, 100, 0)], [(45, 100)], 50, Rule(INTEREST_FIRST))
    assert paid.full_on == [10, 45]


# --- Fineract's scenarios (tests/fixtures/fineract_allocation.json) ------------------------------

FINERACT = json.loads((Path(__file__).parents[1] / "fixtures" / "fineract_allocation.json").read_text("utf-8"))["cases"]


def m(s: str) -> int:
    return to_minor(Decimal(s))


def fineract_ledger(case, check):
    schedule = [Installment(r["seq"], D(r["due_on"]), m(r["principal_due"]), m(r["interest_due"]), m(r["fee_due"]))
                for r in case["installments"]]
    paid = {p["payment_id"]: (D(p["paid_on"]), m(p["amount"])) for p in case["payments"]}
    return schedule, [paid[i] for i in check["payments"]]


FIELDS = {
    "outstanding": lambda p: p.unpaid,
    "paid": lambda p: p.paid,
    "principal_outstanding": lambda p: p.installment.principal_due - p.principal_paid,
    "principal_paid": lambda p: p.principal_paid,
    "interest_paid": lambda p: p.interest_paid,
    "interest_outstanding": lambda p: p.installment.interest_due - p.interest_paid,
    "fee_paid": lambda p: p.fee_paid,
}


@pytest.mark.parametrize("case,check", [pytest.param(c, k, id=f"{c['fineract']}-{n}")
                                        for c in FINERACT for n, k in enumerate(c["checks"])])
def test_fineract_allocation_scenarios(case, check):
    """The engine under the case's rule, and the lean replay of the reports, as Fineract asserts."""
    schedule, pays = fineract_ledger(case, check)
    as_of, rule = D(check["as_of"]), Rule(case["strategy"])
    s = loan_state(schedule, pays, as_of, rule=rule)
    by_seq = {p.installment.seq: p for p in s.positions}
    for seq, fields in check.get("installments", {}).items():
        for field, want in fields.items():
            assert FIELDS[field](by_seq[int(seq)]) == m(want), (seq, field)
    if "outstanding_total" in check:
        assert s.total_unpaid == m(check["outstanding_total"])
    if "principal_paid" in check:
        assert sum(p.principal_paid for p in s.positions) == m(check["principal_paid"])
    if "status" in check:
        assert s.status == check["status"]
    lean = Ledger(Ledger.of("L", schedule, []).schedule, [("L", d.toordinal(), a) for d, a in sorted(pays)], rule)
    (snap,) = snapshots(lean, [as_of.toordinal()])
    assert (snap.dpd, snap.overdue, snap.outstanding, snap.closed) == (
        s.dpd, s.overdue, s.outstanding_principal, s.status == "closed")


def test_fineract_rbi_payment_under_the_default_rule_clears_the_overdue_installment():
    """The contrast the RBI case names: mifos-standard would have cleared #3 and left #4 whole."""
    (case,) = [c for c in FINERACT if c["fineract"] == "rbi-india-strategy"]
    schedule, pays = fineract_ledger(case, case["checks"][2])
    s = loan_state(schedule, pays, D("2012-01-20"))
    assert [fmt(p.unpaid) for p in s.positions] == ["0.00", "0.00", "0.00", "3000.00"]


def test_every_fineract_allocation_rule_is_transcribed():
    assert {c["fineract"] for c in FINERACT} == {"rbi-india-strategy", "mifos-standard-strategy"}
    assert {c["strategy"] for c in FINERACT} == {INTEREST_FIRST, FEE_INTEREST_PRINCIPAL}


def test_a_by_payment_rule_refuses_reversal_rows():
    """They must be taken out with their payment (in_effect), not netted: which payment went
    decides where the rest goes."""
    with pytest.raises(ValueError, match="in effect"):
        allocate_by_payment([(10, 100, 0)], [(5, 100), (8, -100)], 20, Rule(INTEREST_FIRST))
    assert allocate_by_payment([(10, 100, 0)], [(5, 100), (8, -100)], 20, SUM_RULE).principal == [0]


@pytest.mark.parametrize("strategy", [PENALTY_INTEREST_PRINCIPAL, INTEREST_FIRST])
def test_episodes_under_a_by_payment_rule_are_the_engines_days_past_due(strategy):
    """Each delinquency starts on a day the engine first finds the loan late after a day it was not."""
    rng = random.Random(f"episodes-{strategy}")
    rule = Rule(strategy, Decimal("0.001"))
    for _ in range(80):
        installments, payments, as_of = random_loan(rng)
        made = [(d, a) for d, a in payments if d <= as_of]
        want, late = [], False
        day = min(i.due_on for i in installments) - timedelta(days=1)
        while day <= as_of:
            now = loan_state(installments, made, day, rule=rule).dpd > 0
            if now and not late:
                want.append(day)
            late = now
            day += timedelta(days=1)
        assert episode_starts(installments, made, as_of, rule) == want
        assert episode_start(installments, made, as_of, rule) == (want[-1] if late else None)
