"""Contact window (WHEN-1, WHEN-6), statutory limits and the hold gates."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from collect_cli.domain.compliance import (
    ContactRules,
    Hold,
    check_contact_rules,
    frequency_gate,
    hold_gate,
    opt_out_gate,
    send_after,
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


def test_frequency_gate():
    rules = ContactRules()
    assert frequency_gate("sms", 0, 0, rules) is None
    assert frequency_gate("sms", 1, 1, rules).rule == "WHEN-5"
    assert frequency_gate("sms", 0, 7, rules).rule == "WHEN-5"
    assert frequency_gate("letter", 5, 50, rules) is None


def test_hold_gates():
    assert hold_gate([Hold("dispute")]).rule == "HOLD-1"
    assert hold_gate([Hold("deceased")]).rule == "HOLD-3"
    assert hold_gate([Hold("opt-out", "sms")]) is None
    assert opt_out_gate([Hold("opt-out", "sms")], "sms").rule == "HOLD-2"
    assert opt_out_gate([Hold("opt-out", "sms")], "letter") is None
    assert opt_out_gate([Hold("opt-out")], "email").rule == "HOLD-2"
