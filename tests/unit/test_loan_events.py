"""Loan events in the engine: delinquency pauses (effective DPD), write-off, transfer, early
settlement, and reversals (a negative payment on its own day), against Fineract's scenarios
(tests/fixtures/fineract_events.json) and against an independent day-by-day count."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collect_cli.domain.loan_events import LoanEvent, Pause, pauses_of, standing
from collect_cli.domain.loan_state import Installment, loan_state
from collect_cli.domain.money import fmt, to_minor

CASES = json.loads((Path(__file__).parents[1] / "fixtures" / "fineract_events.json").read_text("utf-8"))["cases"]


def d(s: str) -> date:
    return date.fromisoformat(s)


def m(s: str) -> int:
    return to_minor(Decimal(s))


def case_ledger(case, known: str | None = None):
    """The case's schedule, payments with their reversals as negative payments, and events."""
    schedule = [Installment(r["seq"], d(r["due_on"]), m(r["principal_due"]), m(r["interest_due"]), m(r["fee_due"]))
                for r in case["installments"]]
    paid = {p["payment_id"]: (d(p["paid_on"]), m(p["amount"])) for p in case["payments"]}
    pays = list(paid.values())
    if known != "without reversals":
        pays += [(d(r["reversed_on"]), -paid[r["payment_id"]][1]) for r in case["reversals"]]
    events = [LoanEvent(e["event"], d(e["event_on"]), d(e["until"]) if e.get("until") else None,
                        m(e["amount"]) if e.get("amount") else None) for e in case["events"]]
    return schedule, pays, events


def fineract_checks():
    for case in CASES:
        for i, check in enumerate(case["checks"]):
            yield pytest.param(case, check, id=f"{case['kind']}-{case['name'][:50]}-{i}")


@pytest.mark.parametrize("case,check", list(fineract_checks()))
def test_fineract_scenarios(case, check):
    schedule, pays, events = case_ledger(case, check.get("known"))
    as_of = d(check["as_of"])
    s = loan_state(schedule, pays, as_of, grace_days=case["grace_days"], standing=standing(events, as_of))
    if "delinquent_days" in check:
        assert s.delinquent_days == check["delinquent_days"]
        assert s.calendar_dpd == check["calendar_dpd"]
    if "overdue" in check:
        assert fmt(s.overdue) == check["overdue"]
    if "outstanding_principal" in check:
        assert fmt(s.outstanding_principal) == check["outstanding_principal"]
    if "outstanding_total" in check:
        assert fmt(s.total_unpaid) == check["outstanding_total"]
    if case["kind"] == "charge_off":  # written off and still collectible
        assert s.standing.written_off_on is not None and s.status in ("open", "closed")


def test_every_kind_is_transcribed():
    kinds = {c["kind"] for c in CASES}
    assert kinds == {"pause", "reversal", "charge_off"}
    assert sum(len(c["checks"]) for c in CASES) == 30


# --- pauses, by an independent count ------------------------------------------------------------

def frozen_days(events: list[LoanEvent]) -> set[date]:
    """Every day a pause froze, counted one day at a time from the rows as the issue states them:
    a pause S..E freezes S+1..E; a resume on R (S <= R <= E) makes R the end."""
    days = set()
    for e in events:
        if e.event != "pause":
            continue
        end = min((r.event_on for r in events if r.event == "resume" and e.event_on <= r.event_on <= e.until),
                  default=e.until)
        day = e.event_on + timedelta(days=1)
        while day <= end:
            days.add(day)
            day += timedelta(days=1)
    return days


ONE = [Installment(1, d("2026-01-31"), 100_00, 0)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(-40, 120), st.integers(0, 60)), max_size=3),
       st.integers(0, 200), st.lists(st.integers(0, 120), max_size=2))
def test_effective_dpd_is_calendar_dpd_less_frozen_days_after_the_due_date(spans, offset, resumes):
    """Against a count of the frozen days between the oldest overdue due date and the as-of date."""
    due = ONE[0].due_on
    events, taken = [], []
    for start, length in spans:
        s, e = due + timedelta(days=start), due + timedelta(days=start + length)
        if any(s < b and a < e for a, b in taken):
            continue  # pauses never overlap (the import refuses it)
        taken.append((s, e))
        events.append(LoanEvent("pause", s, e))
    events += [LoanEvent("resume", due + timedelta(days=r)) for r in resumes]
    as_of = due + timedelta(days=offset)
    state = loan_state(ONE, [], as_of, standing=standing(events, as_of))
    frozen = sum(1 for x in frozen_days([e for e in events if e.event_on <= as_of]) if due < x <= as_of)
    calendar = max(0, (as_of - due).days)
    assert state.calendar_dpd == calendar
    assert state.dpd == calendar - frozen


def test_a_pause_and_its_resume():
    (p,) = pauses_of([LoanEvent("pause", d("2026-03-01"), d("2026-03-31")), LoanEvent("resume", d("2026-03-10"))])
    assert p == Pause(d("2026-03-01"), d("2026-03-10"))
    on = standing([LoanEvent("pause", d("2026-03-01"), d("2026-03-31"))], d("2026-03-05"))
    assert on.paused_today is not None
    assert standing([LoanEvent("pause", d("2026-03-01"), d("2026-03-31"))], d("2026-02-28")).pauses == ()


# --- write-off, transfer, settlement --------------------------------------------------------------

TWO = [Installment(1, d("2026-01-31"), 500_00, 20_00), Installment(2, d("2026-02-28"), 500_00, 10_00)]


def at(events, day, pays=()):
    day = d(day)
    return loan_state(TWO, list(pays), day, standing=standing(events, day))


def test_a_written_off_loan_stays_open_and_owes_what_it_owed():
    events = [LoanEvent("write_off", d("2026-05-01"), amount=1030_00)]
    before, after = at(events, "2026-04-30"), at(events, "2026-05-02")
    assert before.standing.written_off_on is None and after.standing.written_off == 1030_00
    assert (after.status, after.bucket, after.overdue) == ("open", "M4", 1030_00)  # 91 days
    # recovered after the write-off: a payment still counts as ever
    assert at(events, "2026-05-20", [(d("2026-05-10"), 1030_00)]).status == "closed"


def test_a_transferred_loan_is_no_longer_in_a_bucket_from_its_day():
    events = [LoanEvent("transfer", d("2026-04-01"), party="甲资产")]
    before, after = at(events, "2026-03-31"), at(events, "2026-04-01")
    assert (before.status, before.bucket) == ("open", "M2")
    assert before.standing.transfer_ahead == (d("2026-04-01"), "甲资产") and before.standing.transferred_on is None
    assert (after.status, after.bucket, after.classification) == ("transferred", None, None)
    assert after.standing.transfer == (d("2026-04-01"), "甲资产")


def test_a_transfer_ahead_is_known_before_its_day():
    s = standing([LoanEvent("transfer", d("2026-04-01"), party="甲资产")], d("2026-03-20"))
    assert s.transferred_on is None and s.transfer_ahead == (d("2026-04-01"), "甲资产")


def test_an_early_settlement_closes_the_loan_from_its_day_whatever_was_left():
    events = [LoanEvent("settle", d("2026-02-10"))]
    pays = [(d("2026-02-10"), 800_00)]  # principal left and a month's interest: less than the schedule
    assert at(events, "2026-02-09", pays).status == "open"
    after = at(events, "2026-03-15", pays)
    assert (after.status, after.dpd, after.overdue, after.outstanding_principal, after.bucket) == ("closed", 0, 0, 0, None)


# --- replay: the events known by a day, and nothing later ---------------------------------------

event = st.one_of(
    st.builds(lambda o, n: LoanEvent("pause", d("2026-01-01") + timedelta(days=o),
                                     d("2026-01-01") + timedelta(days=o + n)), st.integers(0, 150), st.integers(0, 40)),
    st.builds(lambda o: LoanEvent("resume", d("2026-01-01") + timedelta(days=o)), st.integers(0, 150)),
    st.builds(lambda o, a: LoanEvent("write_off", d("2026-01-01") + timedelta(days=o), amount=a),
              st.integers(0, 150), st.integers(1, 1000_00)),
    st.builds(lambda o: LoanEvent("transfer", d("2026-01-01") + timedelta(days=o), party="乙"), st.integers(0, 150)),
    st.builds(lambda o: LoanEvent("settle", d("2026-01-01") + timedelta(days=o)), st.integers(0, 150)),
)
payment = st.tuples(st.integers(0, 150), st.integers(1, 600_00), st.one_of(st.none(), st.integers(0, 20)))


@settings(max_examples=300, deadline=None)
@given(st.lists(event, max_size=5), st.lists(payment, max_size=5), st.integers(0, 160))
def test_a_replay_sees_exactly_the_ledger_known_by_its_day(events, raw_payments, offset):
    """Replaying day D with every event and payment (reversals as negative payments on their own
    day) gives the state an engine fed only what was dated by D gives."""
    start = d("2026-01-01")
    pays = []
    for o, amount, back in raw_payments:
        pays.append((start + timedelta(days=o), amount))
        if back is not None:  # reversed `back` days later
            pays.append((start + timedelta(days=o + back), -amount))
    day = start + timedelta(days=offset)
    full = loan_state(TWO, pays, day, standing=standing(events, day))
    known = [e for e in events if e.event_on <= day]
    # a transfer ahead is the one later event a day knows of (the notice goes before it)
    ahead = [e for e in events if e.event == "transfer" and e.event_on > day]
    fed = loan_state(TWO, [p for p in pays if p[0] <= day], day, standing=standing(known + ahead[:1], day))
    assert full == fed
    assert full.paid_to_date >= 0  # a reversal is never before its payment
