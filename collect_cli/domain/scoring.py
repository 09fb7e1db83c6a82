"""The work-queue score: who a collector should call first today.

score = dpd_weight   × min(dpd, dpd_cap) / dpd_cap
      + amount_weight × min(overdue, amount_cap) / amount_cap        (0 … 100 with the defaults)

Both parts are capped so that one huge or very old account cannot hide everything else;
ties go to the older, then the larger debt. Exact arithmetic (Decimal), never float.

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
    handover_dpd: int = 90  # beyond this, legal / agency work, not a collector's call


def queue_score(dpd: int, overdue_minor: int, weights: QueueWeights = QueueWeights()) -> Decimal:
    dpd_part = Decimal(weights.dpd_weight * min(dpd, weights.dpd_cap)) / weights.dpd_cap
    cap_minor = weights.amount_cap * 100
    amount_part = Decimal(weights.amount_weight * min(overdue_minor, cap_minor)) / cap_minor
    return (dpd_part + amount_part).quantize(Decimal("0.1"))


def queue_sort_key(score: Decimal, dpd: int, overdue_minor: int, loan_id: str) -> tuple:
    """Most urgent first; loan_id makes the order total, so the queue is stable day to day."""
    return (-score, -dpd, -overdue_minor, loan_id)
