"""Compliance rules of compliance.md that code enforces: contact window and caps, holds, lexicon.

Every refusal names its rule id, so a suppressed message says which rule stopped it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from collect_cli.domain.money import fmt_grouped

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
    served_timezones: tuple[str, ...] = field(default=())  # WHEN-6; empty: the configured zone


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


def send_after(now_utc: datetime, zones: Iterable[ZoneInfo], window: tuple[time, time]) -> datetime:
    """The first moment at or after `now_utc` inside the window in every zone (naive UTC).

    One zone for a borrower whose zone is known; every zone the lender serves otherwise (WHEN-6).
    """
    zones = list(zones)
    start, end = window
    t = now_utc.replace(tzinfo=UTC, second=0, microsecond=0)
    if t < now_utc.replace(tzinfo=UTC):
        t += timedelta(minutes=1)
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


# SAY-1: words a collection message must never use (threats, shaming, false authority,
# pushing new borrowing, fees "for collection"). Extendable in collect.toml.
LEXICON = (
    "坐牢", "拘留", "逮捕", "公安", "警察", "法院传票", "传票", "曝光", "通讯录", "上门", "借新还旧",
    "手续费", "家人", "单位", "黑名单", "后果自负", "老赖", "诈骗",
    "arrest", "jail", "prison", "warrant", "police", "sheriff", "criminal", "shame", "deadbeat",
    "your employer", "your family", "borrow to repay",
)

# Holds (compliance.md "Holds"): which channels each kind stops.
HOLD_RULES = {
    "dispute": "HOLD-1",
    "opt-out": "HOLD-2",
    "bankruptcy": "HOLD-3",
    "deceased": "HOLD-3",
    "legal": "HOLD-3",
    "complaint": "HOLD-3",
}
HOLD_REASONS = tuple(HOLD_RULES)
# Kinds that concern the person, not one loan: they hold every loan of the borrower.
BORROWER_WIDE = {"opt-out", "bankruptcy", "deceased", "legal"}


@dataclass(frozen=True)
class Hold:
    reason: str
    channel: str | None = None  # opt-out: the channel opted out of (None: every channel)


@dataclass(frozen=True)
class Refusal:
    rule: str  # rule id, e.g. HOLD-1, WHEN-5, ADDR, SAY-1, LEN
    reason: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.reason}"


def hold_gate(holds: Iterable[Hold]) -> Refusal | None:
    """HOLD-1 and HOLD-3: a dispute or a no-contact hold stops every automated message."""
    for h in holds:
        if h.reason == "dispute":
            return Refusal("HOLD-1", "the account is disputed; no collection messages until it is resolved")
        if h.reason != "opt-out":
            return Refusal("HOLD-3", f"no contact: {h.reason}")
    return None


def promise_gate(amount: int, due_on: date, grace_days: int) -> Refusal:
    """HOLD-4: a promise to pay holds automated reminders until its date plus grace."""
    return Refusal("HOLD-4", f"promise to pay {fmt_grouped(amount)} by {due_on.isoformat()} "
                             f"(+{grace_days} days grace)")


def opt_out_gate(holds: Iterable[Hold], channel: str) -> Refusal | None:
    """HOLD-2: an opt-out stops SMS and email on its channel (None: both)."""
    for h in holds:
        if h.reason == "opt-out" and channel in ("sms", "email") and h.channel in (None, channel):
            return Refusal("HOLD-2", f"the borrower opted out of {channel}")
    return None


def frequency_gate(channel: str, sent_today: int, sent_7_days: int, rules: ContactRules) -> Refusal | None:
    """WHEN-5: automated SMS per borrower per day and per 7 days (counting what is queued)."""
    if channel != "sms":
        return None
    if sent_today >= rules.sms_per_day:
        return Refusal("WHEN-5", f"the borrower already has {sent_today} SMS for that day (limit {rules.sms_per_day})")
    if sent_7_days >= rules.sms_per_7_days:
        return Refusal("WHEN-5", f"the borrower already has {sent_7_days} SMS in 7 days (limit {rules.sms_per_7_days})")
    return None


# Calls and visits logged by collectors (WHEN-1..3).
MAX_CONNECTED_CALLS = 3  # WHEN-2, cn: connected voice calls per borrower per day
MAX_DIAL_ATTEMPTS = 6  # WHEN-3: dial attempts to one number per day
CONNECTED = ("reached", "promise", "refused", "dispute", "paid-claim", "third-party")


def call_gate(*, local_time: time, window: tuple[time, time], connected: bool, connected_today: int,
              attempts_today: int) -> Refusal | None:
    """Whether a call (or visit) may be made now; counts are the borrower's day so far."""
    start, end = window
    if not start <= local_time < end:
        return Refusal("WHEN-1", f"{local_time:%H:%M} is outside the borrower's contact window "
                                 f"{start:%H:%M}-{end:%H:%M}")
    if attempts_today >= MAX_DIAL_ATTEMPTS:
        return Refusal("WHEN-3", f"{attempts_today} dial attempts to this number today (limit {MAX_DIAL_ATTEMPTS})")
    if connected and connected_today >= MAX_CONNECTED_CALLS:
        return Refusal("WHEN-2", f"{connected_today} connected calls with the borrower today "
                                 f"(limit {MAX_CONNECTED_CALLS})")
    return None
