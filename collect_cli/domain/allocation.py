"""How a loan's payments pay its schedule: the allocation rule of its product.

- `fee_interest_principal` (the default; Apache Fineract's mifos-standard-strategy without
  penalty charges): installments oldest first (due_on, seq), within one fees, interest, then
  principal.
- `penalty_interest_principal` (罚息 → 利息 → 本金): each payment first pays the penalty
  interest accrued up to the day before it (domain/penalty.py: per day, on overdue
  principal), then the installments as the default does.
- `interest_first` (vertical, Fineract's rbi-india-strategy, "Overdue/Due Fee/Int,
  Principal"): a payment made while an installment is overdue pays the fees and interest of
  every installment due by its day, oldest first, then principal of every installment,
  oldest first, then what is left as the default does; a payment while nothing is overdue
  goes as the default does.

The default depends only on the sum paid (allocating payments one at a time gives what
allocating their sum gives), so the store sums payments and the lean replay keeps running
totals. The other two depend on the day and order of payments: they are allocated payment
by payment in day order. A reversed payment is taken out and the payments left are
allocated again from the start, as Fineract reprocesses a loan's transactions after an
undo, so a replay after the reversal is the history in which the payment never happened.

The core works on day numbers and plain tuples: the engine (domain/loan_state.py) and the
lean replay of the reports (domain/timeline.py) both call it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

FEE_INTEREST_PRINCIPAL = "fee_interest_principal"
PENALTY_INTEREST_PRINCIPAL = "penalty_interest_principal"
INTEREST_FIRST = "interest_first"
STRATEGIES = (FEE_INTEREST_PRINCIPAL, PENALTY_INTEREST_PRINCIPAL, INTEREST_FIRST)


@dataclass(frozen=True, slots=True)
class Rule:
    """A loan's allocation: its product's strategy, and the penalty rate that accrues on it
    (daily, already capped by AMT-2; 0 when its product charges none)."""

    strategy: str = FEE_INTEREST_PRINCIPAL
    penalty_rate: Decimal = Decimal(0)

    @property
    def by_payment(self) -> bool:
        """Whether the day and order of payments matter (else their sum decides)."""
        return self.strategy != FEE_INTEREST_PRINCIPAL


SUM_RULE = Rule()


@dataclass(frozen=True)
class Installment:
    seq: int
    due_on: date
    principal_due: int  # minor units
    interest_due: int
    fee_due: int = 0

    @property
    def total_due(self) -> int:
        return self.principal_due + self.interest_due + self.fee_due


@dataclass(frozen=True)
class InstallmentPosition:
    """An installment after allocation: what of it is paid and what is left."""

    installment: Installment
    fee_paid: int
    interest_paid: int
    principal_paid: int

    @property
    def paid(self) -> int:
        return self.fee_paid + self.interest_paid + self.principal_paid

    @property
    def unpaid(self) -> int:
        return self.installment.total_due - self.paid


def allocate(installments: Iterable[Installment], paid: int) -> tuple[list[InstallmentPosition], int]:
    """The default rule on the sum paid: oldest first (due_on, seq); fees, interest, then
    principal. Returns the positions and the credit left after the last installment."""
    positions = []
    left = paid
    for inst in sorted(installments, key=lambda i: (i.due_on, i.seq)):
        fee = min(left, inst.fee_due)
        left -= fee
        interest = min(left, inst.interest_due)
        left -= interest
        principal = min(left, inst.principal_due)
        left -= principal
        positions.append(InstallmentPosition(inst, fee, interest, principal))
    return positions, left


@dataclass(frozen=True, slots=True)
class Paid:
    """What the payments paid by a day, per installment in allocation order."""

    other: list[int]  # fees and interest
    principal: list[int]
    credit: int  # beyond the whole schedule
    penalty_accrued: int  # minor units, rounded half up once
    penalty_paid: int
    full_on: list[int | None]  # the first day each installment was paid in full, if it was


def allocate_by_payment(schedule: Sequence[tuple[int, int, int]], payments: Iterable[tuple[int, int]], until: int,
                        rule: Rule, penalty_off: Sequence[tuple[int, int]] = (),
                        late_on: list[tuple[int, bool]] | None = None) -> Paid:
    """Allocate `payments` (day, amount) made by day `until` to `schedule` ((due day,
    principal, fees + interest) in allocation order) under `rule`, a payment day at a time;
    penalty accrues up to and including `until` on the overdue principal this allocation
    leaves. Under a by-payment rule `payments` are those in effect (no reversal rows, none
    reversed: `in_effect`); under the default rule the running total decides, so a reversal
    may be a negative payment. `penalty_off`: (day, amount) of penalty waived from that
    day, which a payment under the penalty-first rule then need not pay. `late_on`, when
    given, gets (day, late) for every day lateness may change (a payment day, the day after
    a due date): late when an installment due before the day is not paid in full after it."""
    n = len(schedule)
    other, principal = [0] * n, [0] * n
    # an installment of nothing is paid from its due day
    full_on: list[int | None] = [due if not p and not o else None for due, p, o in schedule]
    # a day's payments are allocated as one: the ledger has their day, not their time
    by_day: dict[int, int] = {}
    for day, amount in payments:
        if amount < 0 and rule.by_payment:
            raise ValueError("a by-payment rule takes the payments in effect, not reversal rows (in_effect)")
        if day <= until:
            by_day[day] = by_day.get(day, 0) + amount
    rate = rule.penalty_rate
    # overdue principal (what penalty accrues on) changes the day after a due date and on a payment day
    overdue_from = {due + 1 for due, _, _ in schedule if due < until} if rate or late_on is not None else ()
    days = sorted({*by_day, *overdue_from})
    accrued = Decimal(0)
    penalty_paid = credit = total = 0
    previous, overdue_principal = None, 0
    for day in days:
        if previous is not None and overdue_principal:
            accrued += overdue_principal * rate * (day - previous)
        amount = left = by_day.get(day, 0)
        if amount and not rule.by_payment:
            # the running total decides (so a reversal may come as a negative payment)
            total += amount
            other[:], principal[:] = [0] * n, [0] * n
            credit = _fill(schedule, other, principal, total)
        elif amount:
            if rule.strategy == PENALTY_INTEREST_PRINCIPAL:
                owed = _rounded(accrued) - penalty_paid - sum(a for d, a in penalty_off if d <= day)
                pay = min(left, max(owed, 0))
                penalty_paid += pay
                left -= pay
            if left and rule.strategy == INTEREST_FIRST and any(
                    schedule[i][0] < day and full_on[i] is None for i in range(n)):  # something is overdue
                for i in range(n):
                    if schedule[i][0] <= day:
                        left = _pay(other, i, schedule[i][2], left)
                for i in range(n):
                    left = _pay(principal, i, schedule[i][1], left)
            credit += _fill(schedule, other, principal, left)
        if amount:
            for i in range(n):
                if full_on[i] is None and other[i] == schedule[i][2] and principal[i] == schedule[i][1]:
                    full_on[i] = day
        if rate:
            overdue_principal = sum(schedule[i][1] - principal[i] for i in range(n) if schedule[i][0] < day)
        if late_on is not None:
            late_on.append((day, any(schedule[i][0] < day and full_on[i] is None for i in range(n))))
        previous = day
    if previous is not None and overdue_principal:
        accrued += overdue_principal * rate * (until + 1 - previous)
    return Paid(other, principal, credit, _rounded(accrued), penalty_paid, full_on)


def _fill(schedule: Sequence[tuple[int, int, int]], other: list[int], principal: list[int], left: int) -> int:
    """The default order: oldest first, fees and interest, then principal; returns what is left."""
    for i, (_, principal_due, other_due) in enumerate(schedule):
        if left <= 0:
            break
        left = _pay(other, i, other_due, left)
        left = _pay(principal, i, principal_due, left)
    return left


def _pay(paid: list[int], i: int, due: int, left: int) -> int:
    take = min(left, due - paid[i])
    if take > 0:
        paid[i] += take
        return left - take
    return left


def _rounded(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def positions_by_payment(installments: Iterable[Installment], payments: Iterable[tuple[date, int]], as_of: date,
                         rule: Rule, penalty_off: Sequence[tuple[date, int]] = ()
                         ) -> tuple[list[InstallmentPosition], Paid]:
    """The engine's positions and `Paid` of `allocate_by_payment` on dates (`payments` as it
    takes them); fees come before interest within what an installment's fees and interest
    got, as in every rule."""
    ordered = sorted(installments, key=lambda i: (i.due_on, i.seq))
    schedule = [(i.due_on.toordinal(), i.principal_due, i.interest_due + i.fee_due) for i in ordered]
    paid = allocate_by_payment(schedule, ((d.toordinal(), a) for d, a in payments), as_of.toordinal(), rule,
                               [(d.toordinal(), a) for d, a in penalty_off])
    positions = []
    for inst, other, principal in zip(ordered, paid.other, paid.principal, strict=True):
        fee = min(other, inst.fee_due)
        positions.append(InstallmentPosition(inst, fee, other - fee, principal))
    return positions, paid


def in_effect(payments: Iterable[tuple[int, int]], voids: Iterable[tuple[int, int, int]], day: int
              ) -> list[tuple[int, int]]:
    """The payments ((day, amount), reversals left out) that count on `day`: made by then and
    not reversed by then. `voids`: (reversal day, paid day, amount) of each reversal."""
    out = [(d, a) for d, a in payments if d <= day and a > 0]
    for reversed_on, paid_on, amount in voids:
        if reversed_on <= day and (paid_on, amount) in out:
            out.remove((paid_on, amount))
    return out
