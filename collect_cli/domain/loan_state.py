"""The state of one loan as of a date: payment allocation, DPD, overdue, outstanding, bucket.

This is the contract of shared/spec/ledger.md ("The engine"). DPD is Apache Fineract's
pastDueDays: days since the due date of the oldest installment that still has unpaid money.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from collect_cli.domain.allocation import (
    SUM_RULE,
    Installment,
    InstallmentPosition,
    Rule,
    allocate,
    positions_by_payment,
)
from collect_cli.domain.buckets import DEFAULT_BUCKETS, Bucket, bucket_for, classify
from collect_cli.domain.loan_events import NO_EVENTS, Standing, paused_days


@dataclass(frozen=True)
class LoanState:
    as_of: date
    status: str  # "open" | "closed" | "transferred" (to another creditor: no longer ours to collect)
    dpd: int  # effective: calendar days past due less the days delinquency was paused
    delinquent_days: int  # dpd less grace days; decides the bucket
    bucket: str | None  # None when closed
    classification: str | None  # None when closed
    overdue: int  # unpaid money of all overdue installments (minor units)
    overdue_principal: int
    outstanding_principal: int
    total_unpaid: int
    credit: int  # money paid beyond the whole schedule
    paid_to_date: int
    next_due_on: date | None  # oldest installment not yet overdue with unpaid money
    next_due_amount: int
    oldest_overdue_seq: int | None
    positions: tuple[InstallmentPosition, ...]
    calendar_dpd: int = 0  # as the calendar counts, pauses included
    standing: Standing = NO_EVENTS  # the loan's events as of the date (write-off, transfer, pauses)


def loan_state(
    installments: Iterable[Installment],
    payments: Iterable[tuple[date, int]],
    as_of: date,
    *,
    grace_days: int = 0,
    buckets: tuple[Bucket, ...] = DEFAULT_BUCKETS,
    standing: Standing = NO_EVENTS,
    rule: Rule = SUM_RULE,
) -> LoanState:
    """The loan as of `as_of`. Payments and events dated after `as_of` are ignored, so any
    date replays. Under the default rule a reversal may be given as a negative payment on
    its own day; under a by-payment rule `payments` are those in effect as of `as_of` (the
    reversed ones and their reversals left out: domain/allocation.py)."""
    payments = [(d, a) for d, a in payments if d <= as_of]
    return state_of(installments, payments, as_of, rule=rule, grace_days=grace_days, buckets=buckets,
                    standing=standing)


def state_of(installments: Iterable[Installment], payments: list[tuple[date, int]], as_of: date, *,
             rule: Rule, penalty_off: list[tuple[date, int]] | tuple = (), **terms) -> LoanState:
    """As `state_from_paid`, from the payments themselves when the rule needs them (their
    sum otherwise): `payments` made by `as_of` and in effect then."""
    paid = sum(a for _, a in payments)
    if not rule.by_payment:
        return state_from_paid(installments, paid, as_of, **terms)
    positions, allocated = positions_by_payment(installments, payments, as_of, rule, penalty_off)
    return _state(positions, allocated.credit, paid, as_of, **terms)


def state_from_paid(
    installments: Iterable[Installment],
    paid: int,
    as_of: date,
    *,
    grace_days: int = 0,
    buckets: tuple[Bucket, ...] = DEFAULT_BUCKETS,
    class_floor: str | None = None,
    standing: Standing = NO_EVENTS,
) -> LoanState:
    """As `loan_state` under the default rule, given the sum of payments up to `as_of` (what
    the store aggregates).
    `class_floor`: the classification may not be better than this (a restructured loan).
    `standing`: the loan's events as of `as_of`: settled early, it is closed whatever was left
    (the core system, the book of record, closed it); transferred, it is no longer this
    lender's to collect (no bucket); paused days do not age its delinquency."""
    positions, credit = allocate(installments, paid)
    return _state(positions, credit, paid, as_of, grace_days=grace_days, buckets=buckets, class_floor=class_floor,
                  standing=standing)


def _state(positions: list[InstallmentPosition], credit: int, paid: int, as_of: date, *, grace_days: int = 0,
           buckets: tuple[Bucket, ...] = DEFAULT_BUCKETS, class_floor: str | None = None,
           standing: Standing = NO_EVENTS) -> LoanState:
    overdue = overdue_principal = total_unpaid = principal_due = principal_paid = 0
    oldest_overdue: InstallmentPosition | None = None
    next_due: InstallmentPosition | None = None
    for pos in positions:
        inst = pos.installment
        principal_due += inst.principal_due
        principal_paid += pos.principal_paid
        total_unpaid += pos.unpaid
        if pos.unpaid == 0:
            continue
        if inst.due_on < as_of:  # on its due date an installment is not yet overdue
            overdue += pos.unpaid
            overdue_principal += inst.principal_due - pos.principal_paid
            if oldest_overdue is None:
                oldest_overdue = pos
        elif next_due is None:
            next_due = pos

    if standing.settled_on is not None:  # what was left is no longer owed
        overdue = overdue_principal = total_unpaid = 0
        oldest_overdue = next_due = None
        principal_due = principal_paid
    # A loan without a schedule is not "closed": nothing has been agreed, so nothing is paid off.
    closed = (bool(positions) and total_unpaid == 0) or standing.settled_on is not None
    calendar_dpd = (as_of - oldest_overdue.installment.due_on).days if oldest_overdue else 0
    dpd = calendar_dpd - paused_days(standing.pauses, oldest_overdue.installment.due_on, as_of) \
        if oldest_overdue and standing.pauses else calendar_dpd
    delinquent_days = max(0, dpd - grace_days)
    status = "closed" if closed else "transferred" if standing.transferred_on is not None else "open"
    return LoanState(
        as_of=as_of,
        status=status,
        dpd=dpd,
        delinquent_days=delinquent_days,
        bucket=bucket_for(delinquent_days, buckets) if status == "open" else None,
        classification=classify(dpd, class_floor) if status == "open" else None,
        overdue=overdue,
        overdue_principal=overdue_principal,
        outstanding_principal=principal_due - principal_paid,
        total_unpaid=total_unpaid,
        credit=credit,
        paid_to_date=paid,
        next_due_on=next_due.installment.due_on if next_due else None,
        next_due_amount=next_due.unpaid if next_due else 0,
        oldest_overdue_seq=oldest_overdue.installment.seq if oldest_overdue else None,
        positions=tuple(positions),
        calendar_dpd=calendar_dpd,
        standing=standing,
    )
