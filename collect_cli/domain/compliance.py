"""The rule sets of compliance.md as configuration: statutory limits, the contact window in
the borrower's zone (WHEN-1, WHEN-6), the kinds of hold, and the refusal every rule gives.

Every refusal names its rule id, so a suppressed message says which rule stopped it. The
decisions themselves are in domain.policy (who may be contacted, when) and domain.content
(what a message may say).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Statutory limits per rule set: a deployment may tighten them, never loosen them.
STATUTORY_WINDOW = {"cn": (time(8), time(22)), "us": (time(8), time(21))}  # WHEN-1
MAX_SMS_PER_DAY = 1  # WHEN-5 (house rule)
MAX_SMS_PER_7_DAYS = 7


@dataclass(frozen=True)
class ContactRules:
    rules: str = "cn"
    window: tuple[time, time] = (time(8), time(21))  # local time of the borrower, [start, end)
    sms_per_day: int = MAX_SMS_PER_DAY
    sms_per_7_days: int = MAX_SMS_PER_7_DAYS
    # WHEN-5's house rule for app push too: a phone that lights up every hour harasses as texts do
    push_per_day: int = MAX_SMS_PER_DAY
    push_per_7_days: int = MAX_SMS_PER_7_DAYS
    served_timezones: tuple[str, ...] = field(default=())  # WHEN-6; empty: the configured zone
    unreachable_days: int = 3  # WHO-5: no connected contact for this long before a contact person is asked
    late_entry_hours: int = 24  # REC-4: how long after a contact it may still be logged (--at)

    def caps(self, channel: str) -> tuple[int, int]:
        """WHEN-5: (a day's, 7 days') automated messages of a capped channel (sms, push)."""
        if channel == "sms":
            return self.sms_per_day, self.sms_per_7_days
        return self.push_per_day, self.push_per_7_days


def check_contact_rules(c: ContactRules) -> None:
    """Refuse a configuration that loosens a statutory limit; the message names the rule."""
    lo, hi = STATUTORY_WINDOW[c.rules]
    start, end = c.window
    if not start < end:
        raise ValueError("window: the start must be before the end")
    if start < lo or end > hi:
        raise ValueError(f"WHEN-1: the {c.rules} rules allow contact only within "
                         f"{lo:%H:%M}-{hi:%H:%M}; {start:%H:%M}-{end:%H:%M} is wider")
    if c.sms_per_day > MAX_SMS_PER_DAY or c.sms_per_7_days > MAX_SMS_PER_7_DAYS:
        raise ValueError(f"WHEN-5: at most {MAX_SMS_PER_DAY} automated SMS a day and "
                         f"{MAX_SMS_PER_7_DAYS} in 7 days per borrower")
    if c.push_per_day > MAX_SMS_PER_DAY or c.push_per_7_days > MAX_SMS_PER_7_DAYS:
        raise ValueError(f"WHEN-5: at most {MAX_SMS_PER_DAY} automated app push a day and "
                         f"{MAX_SMS_PER_7_DAYS} in 7 days per borrower")


def send_after(now_utc: datetime, zones: Iterable[ZoneInfo], window: tuple[time, time],
               day: date | None = None) -> datetime:
    """The first moment at or after `now_utc` inside the window in every zone (naive UTC), and,
    when `day` is given, on or after that day has begun in every zone: a message about a
    date is not delivered while that date is still to come where the borrower is.

    One zone for a borrower whose zone is known; every zone the lender serves otherwise (WHEN-6).
    """
    zones = list(zones)
    start, end = window
    t = now_utc.replace(tzinfo=UTC, second=0, microsecond=0)
    if t < now_utc.replace(tzinfo=UTC):
        t += timedelta(minutes=1)
    if day is not None:
        t = max([t] + [datetime.combine(day, time(0), z).astimezone(UTC) for z in zones])
    for _ in range(4 * 24 * 60 // 15):  # a window that holds somewhere within four days
        if all(start <= t.astimezone(z).time() < end for z in zones):
            return t.replace(tzinfo=None)
        # jump to the next window start in the first zone that is outside, else step 15 minutes
        outside = next(z for z in zones if not start <= t.astimezone(z).time() < end)
        local = t.astimezone(outside)
        nxt = local.replace(hour=start.hour, minute=start.minute, second=0, microsecond=0)
        if nxt <= local:
            nxt += timedelta(days=1)
        jump = nxt.astimezone(UTC)
        t = jump if len(zones) == 1 else min(jump, t + timedelta(minutes=15))
    raise ValueError("no moment inside the contact window in every served time zone")


def days_without_common_window(zones: Iterable[ZoneInfo], window: tuple[time, time], first: date,
                               days: int) -> list[date]:
    """The UTC days from `first` on which the windows of all `zones` never overlap (WHEN-6):
    a borrower of unknown zone could not be contacted on those days. Exact, by intervals:
    each zone's window of each local day, in UTC, intersected across zones, so every change
    of daylight saving time in the span is seen."""
    zones = list(zones)
    start, end = window
    common: list[tuple[datetime, datetime]] | None = None
    for zone in zones:
        spans = [(datetime.combine(d, start, zone).astimezone(UTC), datetime.combine(d, end, zone).astimezone(UTC))
                 for d in (first + timedelta(days=n) for n in range(-2, days + 2))]
        common = spans if common is None else _intersect(common, spans)
    bad = []
    for n in range(days):
        d = first + timedelta(days=n)
        lo = datetime.combine(d, time(0), UTC)
        hi = lo + timedelta(days=1)
        if not any(a < hi and b > lo for a, b in common or ()):
            bad.append(d)
    return bad


def _intersect(a: list[tuple[datetime, datetime]], b: list[tuple[datetime, datetime]]) -> list:
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo < hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


# Holds (compliance.md "Holds"): the rule each kind is.
HOLD_RULES = {
    "dispute": "HOLD-1",
    "opt-out": "HOLD-2",
    "bankruptcy": "HOLD-3",
    "deceased": "HOLD-3",
    "legal": "HOLD-3",
    "complaint": "HOLD-3",
    # a bureau dispute (CASE-1) keeps the loan's information out of the bureau file while it is
    # open (REC-2); collection goes on
    "bureau-dispute": "REC-2",
}
HOLD_REASONS = tuple(HOLD_RULES)
# A dispute is of one debt; every other hold concerns the person and holds all their loans
# (HOLD-3 applies to the borrower; an opt-out is the person's).
BORROWER_WIDE = {"opt-out", "bankruptcy", "deceased", "legal", "complaint"}


@dataclass(frozen=True)
class Refusal:
    rule: str  # rule id, e.g. HOLD-1, WHEN-5, ADDR, SAY-1, LEN
    reason: str
    overridable: bool = False  # a supervisor may allow the contact anyway, recording why

    def __str__(self) -> str:
        return f"{self.rule}: {self.reason}"
