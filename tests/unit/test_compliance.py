"""Contact window (WHEN-1, WHEN-6), statutory limits and the contact policy's rules, one by one."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from collect_cli.domain.compliance import (
    ContactRules,
    check_contact_rules,
    days_without_common_window,
    send_after,
)
from collect_cli.domain.policy import (
    HoldFact,
    PersonFact,
    PromiseFact,
    Situation,
    decide,
)

SH, LA, URUMQI = ZoneInfo("Asia/Shanghai"), ZoneInfo("America/Los_Angeles"), ZoneInfo("Asia/Urumqi")
WINDOW = (time(8), time(21))


def utc(s: str) -> datetime:
    return datetime.fromisoformat(s)


@pytest.mark.parametrize("now,expected", [
    ("2026-02-01 00:00", "2026-02-01 00:00"),  # 08:00 in Shanghai: at once
    ("2026-01-31 18:00", "2026-02-01 00:00"),  # 02:00 -> 08:00 the same local day
    ("2026-02-01 12:59", "2026-02-01 12:59"),  # 20:59: still inside
    ("2026-02-01 13:00", "2026-02-02 00:00"),  # 21:00: the window has closed, next morning
])
def test_window_in_the_borrowers_zone(now, expected):
    assert send_after(utc(now), [SH], WINDOW) == utc(expected)


def test_window_follows_daylight_saving_time():
    # Los Angeles: 08:00 is 16:00 UTC in winter and 15:00 UTC in summer
    assert send_after(utc("2026-01-15 12:00"), [LA], WINDOW) == utc("2026-01-15 16:00")
    assert send_after(utc("2026-07-15 12:00"), [LA], WINDOW) == utc("2026-07-15 15:00")


def test_unknown_zone_must_hold_in_every_served_zone():
    # 08:00 in Urumqi (UTC+6) is 10:00 in Shanghai: the first moment inside both windows
    got = send_after(utc("2026-01-31 18:00"), [SH, URUMQI], WINDOW)
    assert got == utc("2026-02-01 02:00")
    assert all(time(8) <= got.replace(tzinfo=ZoneInfo("UTC")).astimezone(z).time() < time(21) for z in (SH, URUMQI))


def test_zones_with_no_common_window_are_refused():
    with pytest.raises(ValueError):
        send_after(utc("2026-01-31 18:00"), [SH, LA], (time(8), time(10)))


@pytest.mark.parametrize("rules,window,ok", [
    ("cn", (time(8), time(22)), True), ("cn", (time(7, 59), time(21)), False),
    ("cn", (time(8), time(22, 1)), False), ("us", (time(8), time(21)), True),
    ("us", (time(8), time(22)), False), ("cn", (time(21), time(8)), False),
])
def test_statutory_window_cannot_be_widened(rules, window, ok):
    rule = ContactRules(rules=rules, window=window)
    if ok:
        check_contact_rules(rule)
    else:
        with pytest.raises(ValueError):
            check_contact_rules(rule)


def test_a_date_is_not_delivered_before_it_has_begun_where_the_borrower_is():
    # a run at 02:00 in Shanghai on 11-20 is 10:00 on 11-19 in Los Angeles: "1 day overdue as of
    # 11-20" waits for 08:00 on 11-20 there
    got = send_after(utc("2026-11-19 18:00"), [LA], WINDOW, day=date(2026, 11, 20))
    assert got == utc("2026-11-20 16:00")
    assert send_after(utc("2026-11-19 18:00"), [SH], WINDOW, day=date(2026, 11, 20)) == utc("2026-11-20 00:00")


def test_served_zones_are_checked_on_every_day_of_the_year():
    """08:00-20:00 in Shanghai and New York overlap in winter (00:00-01:00 UTC) but not once New
    York is on daylight saving time: a check on one winter day passed it, and the run crashed
    in July. Every day of the year is checked, so the gap is found."""
    ny = ZoneInfo("America/New_York")
    assert days_without_common_window([SH, ny], (time(8), time(21)), date(2026, 1, 1), 365) == []
    gaps = days_without_common_window([SH, ny], (time(8), time(20)), date(2026, 1, 1), 365)
    assert date(2026, 1, 5) not in gaps and date(2026, 7, 15) in gaps
    assert gaps[0] == date(2026, 3, 9)  # the Monday after New York moves its clocks
    with pytest.raises(ValueError):  # what the run would have met
        send_after(utc("2026-07-15 02:00"), [SH, ny], (time(8), time(20)))


def test_policy_automated_messages_in_order():
    rules = ContactRules()
    dispute, bankrupt = HoldFact(1, "dispute"), HoldFact(2, "bankruptcy")
    opt_sms = HoldFact(3, "opt-out", "sms", "+8613800000001")
    base = Situation(recipient="+8613800000001", rules=rules)
    assert decide("sms", base) is None
    assert decide("sms", Situation(holds=(dispute,), recipient="x")).rule == "HOLD-1"
    assert decide("letter", Situation(holds=(bankrupt,), recipient="x")).rule == "HOLD-3"
    assert decide("sms", Situation(promise=PromiseFact(100, date(2026, 2, 5), 0), recipient="x")).rule == "HOLD-4"
    assert decide("sms", Situation(holds=(opt_sms,), recipient="+8613800000001")).rule == "HOLD-2"
    assert decide("letter", Situation(holds=(opt_sms,), recipient="addr")) is None
    assert decide("email", Situation(holds=(HoldFact(4, "opt-out"),), recipient="a@b.c")).rule == "HOLD-2"
    assert decide("sms", Situation(recipient=None)).rule == "ADDR"
    assert decide("sms", Situation(recipient="x", shared_recipient=True)).rule == "WHO-4"
    assert decide("sms", Situation(recipient="x", sent_today=1)).rule == "WHEN-5"
    assert decide("sms", Situation(recipient="x", sent_7_days=7)).rule == "WHEN-5"
    assert decide("letter", Situation(recipient="x", sent_today=5, sent_7_days=50)) is None


def test_policy_calls():
    us = ContactRules(rules="us")
    ok = Situation(local_time=time(10))
    assert decide("call", ok) is None
    assert decide("call", Situation(local_time=time(21, 30))).rule == "WHEN-1"
    assert decide("call", Situation(local_time=time(10), attempts_today=6)).rule == "WHEN-3"
    assert decide("call", Situation(local_time=time(10), connected_today=3)).rule == "WHEN-2"
    assert decide("call", Situation(local_time=time(10), connected=False, connected_today=3)) is None
    held = decide("visit", Situation(local_time=time(10), holds=(HoldFact(9, "deceased"),)))
    assert held.rule == "HOLD-3" and held.overridable
    assert decide("call", Situation(local_time=time(10), holds=(HoldFact(9, "dispute"),))).rule == "HOLD-1"
    # WHEN-4 only under the us rules: 7 calls about the debt in 7 days, none within 7 days of a conversation
    assert decide("call", Situation(local_time=time(10), calls_7_days=7)) is None
    assert decide("call", Situation(local_time=time(10), calls_7_days=7, rules=us)).rule == "WHEN-4"
    assert decide("call", Situation(local_time=time(10), conversation_days_ago=6, rules=us)).rule == "WHEN-4"
    assert decide("call", Situation(local_time=time(10), conversation_days_ago=7, rules=us)) is None


def test_policy_third_parties():
    friend = PersonFact("张伟", "friend", refused=False)
    reachable, unreachable = (False, "reached yesterday"), (True, "wrong number")
    assert decide("third-party", Situation(local_time=time(10))).rule == "WHO-3"
    assert decide("third-party", Situation(local_time=time(10), person=friend,
                                           borrower_unreachable=reachable)).rule == "WHO-5"
    assert decide("third-party", Situation(local_time=time(10), person=friend, borrower_unreachable=unreachable)) is None
    refused = PersonFact("张伟", "friend", refused=True)
    assert decide("third-party", Situation(local_time=time(10), person=refused,
                                           borrower_unreachable=unreachable)).rule == "WHO-2"
    guarantor = PersonFact("李四", "guarantor", refused=False)
    assert decide("third-party", Situation(local_time=time(10), person=guarantor, borrower_unreachable=reachable)) is None


def test_policy_bureau_and_placements():
    told = Situation(dpd=40, notice_sent_on=date(2026, 3, 1), as_of=date(2026, 3, 20))
    assert decide("bureau", told) is None
    assert decide("bureau", Situation(dpd=40, notice_sent_on=date(2026, 3, 10), as_of=date(2026, 3, 20))).rule == "REC-2"
    assert decide("bureau", Situation(dpd=40, as_of=date(2026, 3, 20))).rule == "REC-2"
    for hold in (HoldFact(1, "dispute"), HoldFact(2, "complaint")):
        assert decide("bureau", Situation(holds=(hold,), dpd=40, notice_sent_on=date(2026, 3, 1),
                                          as_of=date(2026, 3, 20))) is not None
        assert decide("placement", Situation(holds=(hold,), dpd=100)) is not None
    assert decide("placement", Situation(dpd=0)).rule == "AGY-3"
    assert decide("placement", Situation(dpd=100)) is None
