"""LIM-1: when a claim is time-barred, so that no message threatens legal action on it (SAY-7).

cn: three years (《民法典》 Art 188) from the day the oldest unpaid installment fell due,
renewed (Art 195) by a payment, a promise to pay or a demand (a collection message sent, a
conversation with the borrower). Counting from the oldest unpaid installment is the
stricter reading: Art 189 lets an installment debt run from its last installment, which
would call a debt live for longer. us: the years and what renews them are configured.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def limitation_ends(oldest_unpaid_due: date | None, renewals: Mapping[str, Iterable[date]], *, years: int,
                    renewed_by: Iterable[str]) -> date | None:
    """The last day legal action may be threatened; None when nothing is overdue.

    Renewals are walked in date order: one made while the period is still running restarts
    it from its day; once the period has run out, nothing later revives it (a payment, a
    promise, a logged call or the tool's own message after expiry renews nothing: the
    stricter reading; whether a debtor waived the defence is counsel's call, not the tool's)."""
    if oldest_unpaid_due is None:
        return None
    start = oldest_unpaid_due + timedelta(days=1)
    ends = add_years(start, years) - timedelta(days=1)
    days = sorted({day for kind in set(renewed_by) for day in renewals.get(kind, ())})
    for day in days:
        if day > ends:
            break  # expired: nothing after it revives the claim
        if day > start:
            start = day
            ends = add_years(start, years) - timedelta(days=1)
    return ends


def time_barred(as_of: date, ends: date | None) -> bool:
    return ends is not None and as_of > ends
