"""The strategy rules of reminders.md: catch-up, no back-fill, supersession, episodes."""

from datetime import date, timedelta

from collect_cli.domain.loan_state import Installment, loan_state
from collect_cli.domain.strategy import DEFAULT_STRATEGY, decide

D = date.fromisoformat
SCHEDULE = [Installment(1, D("2026-01-31"), 100_00, 5_00), Installment(2, D("2026-02-28"), 100_00, 5_00),
            Installment(3, D("2026-03-31"), 100_00, 5_00), Installment(4, D("2026-04-30"), 100_00, 5_00)]
START = D("2026-02-01")
# the SMS and letter steps; the e-mail and push steps beside them have tests of their own
STEPS = tuple(s for s in DEFAULT_STRATEGY if s.channel in ("sms", "letter"))


def run(as_of: str, recorded=frozenset(), payments=()):
    state = loan_state(SCHEDULE, list(payments), D(as_of))
    start = START if state.dpd else None
    return {(d.step.name, d.action) for d in decide(STEPS, state, start, set(recorded))}


def test_predue_fires_one_to_three_days_before_the_due_date():
    assert run("2026-01-27") == set()
    assert run("2026-01-28") == {("predue", "queue")}
    assert run("2026-01-30") == {("predue", "queue")}
    assert run("2026-01-31") == set()  # due today: neither pre-due nor overdue
    assert run("2026-01-29", {("predue", "due-2026-01-31")}) == set()


def test_email_and_push_steps_go_beside_the_sms_each_channel_on_its_own():
    state = loan_state(SCHEDULE, [], D("2026-01-29"))
    assert {(d.step.name, d.action) for d in decide(DEFAULT_STRATEGY, state, None, set())} == {
        ("predue", "queue"), ("predue_email", "queue"), ("predue_push", "queue")}
    state = loan_state(SCHEDULE, [], D("2026-02-10"))
    assert {(d.step.name, d.action) for d in decide(DEFAULT_STRATEGY, state, START, set())} == {
        ("m1_followup", "queue"), ("m1_notice", "skip"), ("m1_email", "queue"), ("m1_push", "queue")}
    state = loan_state(SCHEDULE, [], D("2026-03-10"))  # M2: e-mail still, no push on a lock screen
    assert {d.step.name for d in decide(DEFAULT_STRATEGY, state, START, set())} == {
        "m2_notice", "m2_letter", "m2_email"}


def test_m1_notice_then_followup():
    assert run("2026-02-01") == {("m1_notice", "queue")}
    assert run("2026-02-07", {("m1_notice", "dpd-2026-02-01")}) == {("m1_followup", "queue")}


def test_catch_up_after_missed_nights_sends_only_the_latest_of_a_channel():
    assert run("2026-02-10") == {("m1_followup", "queue"), ("m1_notice", "skip")}


def test_no_back_fill_of_older_buckets():
    # first run when the loan is already in M2: nothing from M1 is sent or even skipped
    assert run("2026-03-10") == {("m2_notice", "queue"), ("m2_letter", "queue")}


def test_each_channel_decides_on_its_own():
    got = run("2026-04-05")  # M3: a final letter and an SMS
    assert got == {("m3_final", "queue"), ("m3_sms", "queue")}


def test_nothing_automated_from_m4():
    assert run("2026-05-05") == set()


def test_cure_and_redefault_is_a_new_episode():
    recorded = {("m1_notice", "dpd-2026-02-01")}
    state = loan_state(SCHEDULE, [(D("2026-02-05"), 105_00)], D("2026-03-01"))
    assert state.dpd == 1
    decisions = decide(STEPS, state, D("2026-03-01"), recorded)
    assert [(d.step.name, d.episode) for d in decisions] == [("m1_notice", "dpd-2026-03-01")]


def test_grace_days_keep_a_loan_in_m0():
    state = loan_state(SCHEDULE, [], D("2026-02-02"), grace_days=3)
    assert decide(STEPS, state, START, set()) == []
    state = loan_state(SCHEDULE, [], D("2026-02-01") + timedelta(days=3), grace_days=3)
    assert state.bucket == "M1" and [d.step.name for d in decide(STEPS, state, START, set())] == ["m1_notice"]
