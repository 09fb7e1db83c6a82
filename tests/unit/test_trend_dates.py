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
