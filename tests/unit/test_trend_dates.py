"""The dates of a trend report (--from/--to/--every)."""

from datetime import date

D = date.fromisoformat


def test_trend_dates():
    from collect_cli.services.analyst import dates_between

    assert dates_between(D("2026-06-30"), D("2026-09-15"), "month") == [D("2026-06-30"), D("2026-07-31"),
                                                                       D("2026-08-31"), D("2026-09-15")]
    assert dates_between(D("2026-01-15"), D("2026-03-15"), "month") == [D("2026-01-15"), D("2026-02-15"),
                                                                       D("2026-03-15")]
    assert dates_between(D("2026-01-31"), D("2026-03-01"), "month") == [D("2026-01-31"), D("2026-02-28"),
                                                                       D("2026-03-01")]
    assert dates_between(D("2026-01-01"), D("2026-01-15"), "week") == [D("2026-01-01"), D("2026-01-08"),
                                                                      D("2026-01-15")]


def test_month_after_is_relativedelta():
    from dateutil.relativedelta import relativedelta

    from collect_cli.domain.plans import month_after

    for start in (D("2024-01-31"), D("2025-02-28"), D("2026-03-30"), D("2026-12-15"), D("2028-02-29")):
        for months in range(-30, 40):
            assert month_after(start, months) == start + relativedelta(months=months), (start, months)


def test_months_on_book():
    from collect_cli.services.analyst import _months_on_book

    start = D("2026-01-31")
    assert [_months_on_book(start, d) for d in (D("2026-02-01"), D("2026-02-28"), D("2026-03-01"),
                                                D("2026-03-31"), D("2026-04-01"))] == [1, 1, 2, 2, 3]
