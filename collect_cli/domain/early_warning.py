"""Early warning (风险预警): an explainable score for a current (M0) loan from its own history,
to step in before it is late. Each factor adds points, and says why:

- late installments: each installment paid after its due date, `late` points (at most
  `late_cap` of them);
- depth: the most days any installment was paid late, `depth` × min(days, 60) / 60;
- partial payments: each installment that had some money by its due date but not all,
  `partial` points (at most 3);
- broken promises in the last 365 days, `broken_promise` points each (at most 2);
- the borrower's other loans past due: `other_late` × their share;
- payment gap: days since the last payment beyond 35 (a monthly payer pays every ~30),
  `gap` × min(days − 35, 55) / 55, when an installment fell due in that time.

Days are day numbers (date.toordinal()), as in domain/timeline.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from collect_cli.domain.allocation import allocate_by_payment, in_effect
from collect_cli.domain.timeline import Ledger

ONE_PLACE = Decimal("0.1")


@dataclass(frozen=True)
class WatchWeights:
    late: int = 8
    late_cap: int = 4
    depth: int = 25
    partial: int = 5
    broken_promise: int = 15
    other_late: int = 20
    gap: int = 15
    threshold: int = 30  # a score at or over this is "on the watch list"


def watch_score(ledger: Ledger, day: int, *, broken_promises: int = 0, other_loans: int = 0, other_late: int = 0,
                weights: WatchWeights = WatchWeights()) -> tuple[Decimal, list[str]]:
    """The score as of `day` and its reasons, biggest first. Only what happened by `day` counts."""
    if ledger.rule.by_payment:
        pay_days, history = _by_payment_history(ledger, day)
    else:
        pay_days, history = ledger.paid_curve(until=day).days, _history(ledger, day)

    late = partial = deepest = 0
    last_due = None
    for due, paid_at_due, cleared, reached in history:
        last_due = due
        if not paid_at_due:
            late += 1
            partial += reached
            deepest = max(deepest, cleared - due)

    parts: list[tuple[Decimal, str]] = []
    if late:
        parts.append((Decimal(weights.late * min(late, weights.late_cap)), f"{late} installment(s) paid late"))
        parts.append((Decimal(weights.depth * min(deepest, 60)) / 60, f"up to {deepest} days late"))
    if partial:
        parts.append((Decimal(weights.partial * min(partial, 3)), f"{partial} partly paid by the due date"))
    if broken_promises:
        parts.append((Decimal(weights.broken_promise * min(broken_promises, 2)),
                      f"{broken_promises} broken promise(s) in a year"))
    if other_late:
        parts.append(other_late_part(other_late, other_loans, weights))
    gap = day - (pay_days[-1] if pay_days else day)
    if pay_days and gap > 35 and last_due is not None and last_due > pay_days[-1]:
        parts.append((Decimal(weights.gap * min(gap - 35, 55)) / 55, f"no payment for {gap} days"))
    parts = [(p.quantize(ONE_PLACE), why) for p, why in parts if p > 0]
    parts.sort(key=lambda t: -t[0])
    score = sum((p for p, _ in parts), Decimal(0))
    return score, [f"{why} +{p}" for p, why in parts]


def _history(ledger: Ledger, day: int) -> list[tuple[int, bool, int, bool]]:
    """Per installment due before `day`: its due day, whether it was paid in full on it, the
    day it was (`day` if not by then), and whether money reached it by its due day. Under the
    default rule the running totals tell: an installment is paid when what was paid covers it
    and all before it."""
    curve = ledger.paid_curve(until=day)
    out, before = [], 0
    for (_, due, _, _), running in zip(ledger.schedule, ledger.cum, strict=True):
        if due >= day:
            break
        at_due = curve.by(due)
        cleared = next((d for d, c in zip(curve.days, curve.totals, strict=True) if c >= running), day)
        out.append((due, at_due >= running, cleared, at_due > before))
        before = running
    return out


def _by_payment_history(ledger: Ledger, day: int) -> tuple[list[int], list[tuple[int, bool, int, bool]]]:
    """As `_history`, under a by-payment rule: the payments in effect on `day`, allocated by
    the rule (the days they were made, and per installment the same facts)."""
    schedule = [(due, p, o) for _, due, p, o in ledger.schedule]
    counted = in_effect([(d, a) for _, d, a in ledger.payments], ledger.voids, day)
    full_on = allocate_by_payment(schedule, counted, day, ledger.rule, ledger.penalty_off).full_on
    out = []
    for i, (due, _, _) in enumerate(schedule):
        if due >= day:
            break
        by_due = allocate_by_payment(schedule, [(d, a) for d, a in counted if d <= due], due, ledger.rule,
                                     ledger.penalty_off)
        cleared = full_on[i]
        out.append((due, cleared is not None and cleared <= due, day if cleared is None else cleared,
                     by_due.other[i] + by_due.principal[i] > 0))
    return [d for d, _ in counted], out


def other_late_part(late: int, others: int, weights: WatchWeights) -> tuple[Decimal, str]:
    """The points for the borrower's other loans past due, and why."""
    points = (Decimal(weights.other_late * late) / max(others, 1)).quantize(ONE_PLACE)
    return points, f"{late} of the borrower's {others} other loan(s) past due"
