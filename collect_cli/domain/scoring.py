"""The work-queue score: who a collector should call first today, and why.

score = dpd_weight    × min(dpd, dpd_cap) / dpd_cap                    (60)
      + amount_weight × min(overdue, amount_cap) / amount_cap          (40)
      + promise_due_weight        when a promise falls due today       (15)
      + broken_promise_weight     when a promise broke in the last
                                  broken_within_days days               (20, 7 days)
      + contact_gap_weight × min(days since the last contact, cap) / cap,
                                  full when never contacted             (10, 14 days)
      + other_loans_weight × the borrower's other delinquent loans,
                                  at most two                           (5)

Both ledger parts are capped so that one huge or very old account cannot hide everything
else; ties go to the older, then the larger debt, then the loan id. Exact arithmetic
(Decimal), never float. Each account lists the parts that gave it points.

Accounts more than `handover_dpd` days past due (default 90: M4 and over) are not in the
collectors' queue: reminders.md hands them to the legal / agency queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class QueueWeights:
    dpd_weight: int = 60
    dpd_cap: int = 90  # days
    amount_weight: int = 40
    amount_cap: int = 10_000  # currency units (yuan)
    promise_due_weight: int = 15
    broken_promise_weight: int = 20
    broken_within_days: int = 7
    contact_gap_weight: int = 10
    contact_gap_cap: int = 14  # days
    other_loans_weight: int = 5
    handover_dpd: int = 90  # beyond this, legal / agency work, not a collector's call


@dataclass(frozen=True)
class History:
    """What the queue knows of an account beyond the ledger, as of the day."""

    promise_due_today: bool = False
    promise_broken_days_ago: int | None = None  # the latest broken promise
    days_since_contact: int | None = None  # None: never contacted
    other_delinquent_loans: int = 0


def queue_score(dpd: int, overdue_minor: int, history: History = History(),
                weights: QueueWeights = QueueWeights()) -> tuple[Decimal, list[str]]:
    """The score and the reasons behind it (largest first)."""
    parts: list[tuple[Decimal, str]] = []
    parts.append((Decimal(weights.dpd_weight * min(dpd, weights.dpd_cap)) / weights.dpd_cap, f"{dpd} days past due"))
    cap = weights.amount_cap * 100
    parts.append((Decimal(weights.amount_weight * min(overdue_minor, cap)) / cap, "overdue amount"))
    if history.promise_due_today:
        parts.append((Decimal(weights.promise_due_weight), "promise due today"))
    if history.promise_broken_days_ago is not None and history.promise_broken_days_ago <= weights.broken_within_days:
        parts.append((Decimal(weights.broken_promise_weight),
                      f"promise broken {history.promise_broken_days_ago} day(s) ago"))
    gap = history.days_since_contact
    if gap is None:
        parts.append((Decimal(weights.contact_gap_weight), "never contacted"))
    elif gap > 0:
        parts.append((Decimal(weights.contact_gap_weight * min(gap, weights.contact_gap_cap)) / weights.contact_gap_cap,
                      f"last contact {gap} day(s) ago"))
    if history.other_delinquent_loans:
        n = min(history.other_delinquent_loans, 2)
        parts.append((Decimal(weights.other_loans_weight * n), f"{history.other_delinquent_loans} other loan(s) late"))
    score = sum((p for p, _ in parts), Decimal(0)).quantize(Decimal("0.1"))
    reasons = [f"{why} +{points.quantize(Decimal('0.1'))}" for points, why in sorted(parts, key=lambda p: -p[0]) if points]
    return score, reasons


def queue_sort_key(score: Decimal, dpd: int, overdue_minor: int, loan_id: str) -> tuple:
    """Most urgent first; loan_id makes the order total, so the queue is stable day to day."""
    return (-score, -dpd, -overdue_minor, loan_id)
