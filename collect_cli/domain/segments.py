"""Segments (分类管理, differentiated handling): what kind of case a delinquent account is.

Rules, first match wins, each from the account's own history:
- unreachable  (skip-trace): the latest call was a wrong number, or the last 3 calls in
  14 days all went unanswered;
- unwilling    (escalate): a refusal in the last 30 days, or 2 or more broken promises
  in this episode;
- hardship     (offer a plan): a promise partly kept in this episode;
- first-time   (soft reminder): the first delinquency of the loan, at most 30 days past due;
- standard     otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

SEGMENTS = ("unreachable", "unwilling", "hardship", "first-time", "standard")
ACTIONS = {"unreachable": "skip-trace", "unwilling": "escalate", "hardship": "offer a plan",
           "first-time": "soft reminder", "standard": "call"}


@dataclass(frozen=True)
class CallRecord:
    day: date
    outcome: str


def segment(*, as_of: date, dpd: int, episodes: int, calls: list[CallRecord],
            promise_verdicts: list[str]) -> str:
    """calls: this loan's calls, oldest first; promise_verdicts: settled promises of this episode."""
    recent = [c for c in calls if (as_of - c.day).days <= 14]
    if calls and calls[-1].outcome == "wrong-number":
        return "unreachable"
    if len(recent) >= 3 and all(c.outcome in ("no-answer", "wrong-number") for c in recent[-3:]):
        return "unreachable"
    if any(c.outcome == "refused" and (as_of - c.day).days <= 30 for c in calls):
        return "unwilling"
    if promise_verdicts.count("broken") >= 2:
        return "unwilling"
    if "partly_kept" in promise_verdicts:
        return "hardship"
    if episodes <= 1 and dpd <= 30:
        return "first-time"
    return "standard"
