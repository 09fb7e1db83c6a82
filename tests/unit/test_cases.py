"""Case deadlines and steps (domain.cases), held to the rules' own day counts, and the words
that make a reply a dispute or a complaint."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from collect_cli.config import load_settings
from collect_cli.domain.cases import CaseDays, CaseEvent, CaseRuleError, due_after, extension, fold
from collect_cli.domain.replies import case_keywords
from collect_cli.errors import ConfigError


def _by_counting(received: date, days: int) -> date:
    """An independent count: the first day counted is the day after receipt (《民法典》 Art 201)."""
    day, counted = received, 0
    while counted < days:
        day += timedelta(days=1)
        counted += 1
    return day


@pytest.mark.parametrize("received, days, due", [
    (date(2027, 1, 31), 20, date(2027, 2, 20)),  # CASE-1 over a month end
    (date(2027, 2, 14), 15, date(2027, 3, 1)),  # CASE-2 over February's end
    (date(2028, 2, 14), 15, date(2028, 2, 29)),  # a leap year: the 29th exists
    (date(2026, 12, 20), 20, date(2027, 1, 9)),  # over a year end
    (date(2026, 4, 30), 30, date(2026, 5, 30)),  # a complex complaint: 30 days, not "a month"
    (date(2026, 10, 1), 15, date(2026, 10, 16)),  # a holiday week is not skipped: that would be looser
])
def test_deadlines_count_calendar_days_from_the_day_after_receipt(received, days, due):
    assert due_after(received, days) == due == _by_counting(received, days)


def _complaint(received=date(2026, 11, 2), *more: CaseEvent):
    opened = CaseEvent("open", received, owner="li", due_on=due_after(received, 15), agent="li")
    return fold("complaint", received, [opened, *more])


def test_a_complaint_is_extended_to_30_days_then_30_more_with_someone_elses_approval():
    state = _complaint()
    assert state.due_on == date(2026, 11, 17)
    first = extension(state, CaseDays(), today=date(2026, 11, 10), agent="li", reason="complex", approved_by=None)
    assert first == date(2026, 12, 2)  # 30 days from receipt
    state = _complaint(date(2026, 11, 2), CaseEvent("extend", date(2026, 11, 10), due_on=first, reason="complex"))
    with pytest.raises(CaseRuleError, match="approval"):
        extension(state, CaseDays(), today=date(2026, 11, 20), agent="li", reason="more", approved_by=None)
    for same in (" LI ", "ＬＩ", "l\u200bi"):  # the same name in capitals, full width, with a zero-width space
        with pytest.raises(CaseRuleError, match="someone else"):
            extension(state, CaseDays(), today=date(2026, 11, 20), agent="li", reason="more", approved_by=same)
    second = extension(state, CaseDays(), today=date(2026, 11, 20), agent="li", reason="more", approved_by="zhao")
    assert second == date(2027, 1, 1)
    state = _complaint(date(2026, 11, 2), CaseEvent("extend", date(2026, 11, 10), due_on=first, reason="complex"),
                       CaseEvent("extend", date(2026, 11, 20), due_on=second, reason="more", approved_by="zhao"))
    assert state.extensions == 2 and state.due_on == second
    with pytest.raises(CaseRuleError, match="at most twice"):
        extension(state, CaseDays(), today=date(2026, 12, 1), agent="li", reason="again", approved_by="zhao")


def test_no_extension_after_the_deadline_without_a_reason_or_for_a_dispute():
    state = _complaint()
    with pytest.raises(CaseRuleError, match="passed"):
        extension(state, CaseDays(), today=date(2026, 11, 18), agent="li", reason="complex", approved_by=None)
    assert extension(state, CaseDays(), today=date(2026, 11, 17), agent="li", reason="complex",
                     approved_by=None)  # on the last day it still may
    with pytest.raises(CaseRuleError, match="reason"):
        extension(state, CaseDays(), today=date(2026, 11, 10), agent="li", reason="  ", approved_by=None)
    dispute = fold("dispute", date(2026, 11, 2), [CaseEvent("open", date(2026, 11, 2), due_on=date(2026, 11, 22))])
    with pytest.raises(CaseRuleError, match="CASE-3"):
        extension(dispute, CaseDays(), today=date(2026, 11, 3), agent="li", reason="complex", approved_by=None)


def test_a_shorter_configured_complex_deadline_is_used(tmp_path):
    f = tmp_path / "collect.toml"
    f.write_text("[cases]\ncomplaint_days = 10\ncomplaint_complex_days = 20\n", encoding="utf-8")
    days = load_settings(config=str(f)).cases.days
    state = _complaint()
    assert extension(state, days, today=date(2026, 11, 3), agent="li", reason="complex",
                     approved_by=None) == date(2026, 11, 22)


@pytest.mark.parametrize("key, value, rule", [
    ("bureau_dispute_days", 21, "CASE-1"), ("complaint_days", 16, "CASE-2"),
    ("complaint_complex_days", 31, "CASE-2"), ("complaint_extension_days", 31, "CASE-2"),
])
def test_a_deadline_longer_than_the_rule_is_refused(tmp_path, key, value, rule):
    f = tmp_path / "collect.toml"
    f.write_text(f"[cases]\n{key} = {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rule):
        load_settings(config=str(f))


@pytest.mark.parametrize("text, kinds", [
    ("这笔钱不是我借的", {"dispute"}),
    ("我对金額有異議", {"dispute"}),  # traditional characters
    ("I dispute this, it is NOT MY LOAN", {"dispute"}),
    ("我要投诉你们的催收员", {"complaint"}),
    ("再打电话我就打12378举报", {"complaint"}),
    ("金额不对，我要投诉", {"dispute", "complaint"}),
    ("I never took this loan", {"dispute"}), ("I don't owe this", {"dispute"}), ("这钱我没借", {"dispute"}),
    ("我不欠你们钱", {"dispute"}), ("不是本人办理的", {"dispute"}),
    ("没有异议，下周还", set()),  # a denial of a dispute is none
    ("好的，明天还", set()),
    ("I paid 315 yuan yesterday", set()),  # a number that looks like a hotline is no complaint
    ("STOP", set()),
])
def test_reply_words_that_open_a_case(text, kinds):
    assert set(case_keywords(text)) == kinds


def test_configured_words_open_cases_too():
    assert case_keywords("我要找媒体", extra_complaint=("找媒体",)) == {"complaint": "找媒体"}
