"""The agency register's rules (AGY-2): commission specs, the gate on new placements, renewals."""

from __future__ import annotations

from datetime import date

import pytest

from collect_cli.domain.agencies import (
    Agency,
    AgencyRuleError,
    Evaluation,
    check_renewal,
    commission,
    commission_text,
    may_place,
    parse_commission,
    rate_for,
)

BUCKETS = ("M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7+")


def test_commission_by_bucket_or_by_band():
    by_bucket = parse_commission("M3=15%, M4=20.5%", BUCKETS)
    assert commission_text(by_bucket) == "M3=15%,M4=20.5%"
    assert rate_for(by_bucket, bucket="M4", dpd=100) == 2050 and rate_for(by_bucket, bucket="M2", dpd=45) == 0
    bands = parse_commission("61-90=15%,91-180=20%,181+=30%", BUCKETS)
    assert [rate_for(bands, bucket=None, dpd=d) for d in (60, 61, 90, 91, 180, 181, 5000)] == \
        [0, 1500, 1500, 2000, 2000, 3000, 3000]


@pytest.mark.parametrize("spec, why", [
    ("M3=15%,61-90=3%", "not both"), ("61-90=15%,90+=3%", "overlap"), ("91-61=1%", "backwards"),
    ("M9=1%", "neither a bucket"), ("M3=51%", "from 0%"), ("M3=-1%", "from 0%"), ("M3=1.234%", "2 decimals"),
    ("M3=abc", "not a percentage"), ("M3=NaN", "from 0%"), ("M3", "BUCKET=RATE"), ("", "no rate"),
    ("M3=1%,M3=2%", "twice"),
])
def test_bad_commission_specs_are_refused(spec, why):
    with pytest.raises(AgencyRuleError, match=why):
        parse_commission(spec, BUCKETS)


def test_commission_is_rounded_half_up_in_minor_units():
    assert commission(10_001, 1500) == 1500  # 1,500.15 fen -> 1,500
    assert commission(10_003, 1500) == 1500  # 1,500.45
    assert commission(10_004, 1500) == 1501  # 1,500.6
    assert commission(333, 5000) == 167  # 166.5 -> 167, not banker's rounding


ACME = Agency("Acme", "approved", date(2026, 1, 1), date(2026, 12, 31), (), contract_set_on=date(2026, 1, 1))
PASS = Evaluation(date(2025, 12, 20), "pass", "pass", "pass")


def test_new_placements_need_the_white_list_the_contract_and_a_pass_within_a_year():
    assert may_place(ACME, [PASS], date(2026, 6, 1)) is None
    assert may_place(ACME, [PASS], date(2026, 12, 20)) is None  # 365 days after the pass
    assert "more than 365 days" in may_place(ACME, [PASS], date(2026, 12, 21)).reason
    assert "no passing evaluation" in may_place(ACME, [Evaluation(date(2026, 3, 1), "pass", "fail", "pass")],
                                                date(2026, 6, 1)).reason
    assert "ended on 2026-12-31" in may_place(ACME, [PASS, Evaluation(date(2026, 12, 1), "pass", "pass", "pass")],
                                              date(2027, 1, 1)).reason
    assert "begins on" in may_place(ACME, [PASS], date(2025, 12, 31)).reason
    from dataclasses import replace
    assert "white list (suspended)" in may_place(replace(ACME, status="suspended"), [PASS], date(2026, 6, 1)).reason
    assert may_place(ACME, [Evaluation(date(2026, 7, 1), "pass", "pass", "pass")], date(2026, 6, 1)) is not None


def test_a_renewal_needs_a_pass_since_the_contract_was_set():
    with pytest.raises(AgencyRuleError, match="AGY-2"):
        check_renewal(ACME, date(2027, 12, 31), [PASS], today=date(2026, 12, 1))  # the pass is older
    check_renewal(ACME, date(2027, 12, 31), [PASS, Evaluation(date(2026, 11, 30), "pass", "pass", "pass")],
                  today=date(2026, 12, 1))
    check_renewal(ACME, date(2026, 6, 30), [], today=date(2026, 3, 1))  # a shorter contract is no renewal
