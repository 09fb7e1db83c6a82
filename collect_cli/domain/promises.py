"""Promises to pay: when they hold reminders, and whether they were kept, from the ledger."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Verdict:
    status: str  # kept | partly_kept | broken
    paid: int  # minor units paid from the day it was made to its date + grace


def holds_reminders(due_on: date, grace_days: int, as_of: date) -> bool:
    """HOLD-4: no automated reminders until the promised date plus grace."""
    return as_of <= due_on + timedelta(days=grace_days)


def evaluate(*, amount: int, made_on: date, due_on: date, grace_days: int,
             payments: Iterable[tuple[date, int]], as_of: date) -> Verdict | None:
    """None while the promise still runs; then kept (paid in full), partly kept or broken."""
    last = due_on + timedelta(days=grace_days)
    if as_of <= last:
        return None
    paid = sum(a for d, a in payments if made_on <= d <= last)
    if paid >= amount:
        return Verdict("kept", paid)
    return Verdict("partly_kept" if paid else "broken", paid)
