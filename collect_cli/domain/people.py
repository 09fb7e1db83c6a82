"""People other than the borrower (WHO-2, WHO-5), and whether the borrower is reachable.

A contact person is a record, not a label typed on a call: their refusal binds to the
person, found by a normalised name or by their number, so "张伟 ", "张 伟" and the same
number under another name are one person.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from collect_cli.domain.text_forms import fold, letters_of

# relation -> whether the person is related to the debt (WHO-5): a guarantor is liable for it
# (WHO-1: collection messages may go to them where the contract allows); a spouse may be,
# where the loan paid household costs. Everyone else is unrelated: only asked to help reach
# the borrower, never told of the debt.
RELATIONS = {
    "guarantor": "debt-related",
    "spouse": "debt-related",
    "parent": "unrelated",
    "child": "unrelated",
    "sibling": "unrelated",
    "relative": "unrelated",
    "friend": "unrelated",
    "colleague": "unrelated",
    "employer": "unrelated",
    "emergency": "unrelated",
    "other": "unrelated",
}
UNREACHABLE_DAYS = 3  # default: no connected contact with the borrower for this many days


def name_key(name: str) -> str:
    """A name as refusals find it: case, width, spaces and punctuation do not matter."""
    return letters_of(fold(name))[:100]


@dataclass(frozen=True)
class Attempt:
    """A contact with the borrower themselves (not a third party): when and how it ended."""

    at: datetime  # UTC
    connected: bool
    wrong_number: bool


def unreachable(attempts: Iterable[Attempt], now: datetime, days: int) -> tuple[bool, str]:
    """Whether the borrower is recorded unreachable at `now` (WHO-5), and why (or why not).

    Unreachable: the latest attempt found a wrong number, or attempts have failed for at
    least `days` days without a connected contact since. Never right after the borrower
    answered, and never without attempts on record."""
    history = sorted((a for a in attempts if a.at <= now), key=lambda a: a.at)
    if not history:
        return False, "no attempt to reach the borrower is on record"
    last = history[-1]
    if last.wrong_number:
        return True, "the latest call found a wrong number"
    connected = [a for a in history if a.connected]
    since = connected[-1].at if connected else None
    if since is not None and now - since < timedelta(days=days):
        return False, f"the borrower was reached {_ago(now - since)} ago"
    failing = [a for a in history if not a.connected and (since is None or a.at > since)]
    if not failing:
        return False, "no failed attempt since the borrower was last reached"
    if now - failing[0].at < timedelta(days=days):
        return False, f"attempts have failed for {_ago(now - failing[0].at)}, less than {days} days"
    return True, f"no connected contact for {days} days or more while trying since {failing[0].at:%Y-%m-%d}"


def _ago(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24} day(s)" if hours >= 24 else f"{hours} hour(s)"
