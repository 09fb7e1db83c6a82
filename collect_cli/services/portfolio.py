"""The portfolio as of a date: every loan's state, streamed from the store through the engine."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection

from collect_cli.config import Settings
from collect_cli.domain.loan_events import standing
from collect_cli.domain.loan_state import Installment, LoanState, state_from_paid
from collect_cli.domain.plans import class_floor, schedule_before
from collect_cli.store import queries as q


@dataclass(frozen=True)
class Account:
    """A loan with its borrower and its state as of a date."""

    loan_id: str
    borrower_id: str
    borrower_name: str
    phone: str
    email: str | None
    address: str | None
    locale: str
    timezone: str | None  # None: the configured zone
    product: str
    principal: int
    disbursed_on: date
    state: LoanState
    annual_rate_ppm: int | None = None
    penalty_waived: int = 0  # penalty interest waived by waivers in effect by the state's date


LATE_CHUNK = 5000  # loan ids per IN list: under every backend's parameter limit


def iter_accounts(conn: Connection, *, as_of: date, settings: Settings, product: str | None = None,
                  loan_ids: Sequence[str] | None = None, late_only: bool = False) -> Iterator[Account]:
    """Each loan disbursed by `as_of`, in loan_id order, with its state as of `as_of`;
    with `late_only`, only the loans past due (DPD > 0) and still this lender's to collect
    (not transferred), chosen by the database.

    Loans and schedules come as two streams with the same filter and the same database order
    and are merged here, so memory holds one loan's schedule at a time, whatever the size of
    the book. A loan whose schedule is not the next one has none.
    """
    if late_only:  # the database picks the late loans; they are read a chunk at a time
        # (a loan whose schedule changed after `as_of` is judged on its schedule of then, by the engine)
        ids = sorted(set(q.late_loan_ids(conn, as_of)) | set(q.schedule_batches_after(conn, as_of)))
        if loan_ids is not None:
            asked = set(loan_ids)
            ids = [i for i in ids if i in asked]
        for first in range(0, len(ids), LATE_CHUNK):
            chunk = iter_accounts(conn, as_of=as_of, settings=settings, product=product,
                                  loan_ids=ids[first:first + LATE_CHUNK])
            yield from (a for a in chunk if a.state.dpd > 0 and a.state.status == "open")
        return
    schedules = _schedules(q.stream_installments(conn, as_of, product=product, loan_ids=loan_ids))
    pending = next(schedules, None)
    # plans and dated schedule changes are few (each a person's or the core system's
    # decision): plans made by `as_of` floor the classification; changes that take effect
    # after it are undone to replay the schedule of then
    restructured = q.latest_plans(conn, as_of, loan_ids)
    earlier = _schedules_before_plans(conn, as_of, loan_ids)
    events = q.events_of(conn, loan_ids)  # few: the core system's write-offs, transfers, pauses
    penalty_off = q.penalty_waived(conn, as_of, loan_ids)  # few: a collector granted each
    for loan in q.stream_loans(conn, as_of, product=product, loan_ids=loan_ids):
        schedule: list[Installment] = []
        if pending is not None and pending[0] == loan.loan_id:
            schedule = pending[1]
            pending = next(schedules, None)
        schedule = earlier.get(loan.loan_id, schedule)
        plan = restructured.get(loan.loan_id)
        yield Account(
            loan_id=loan.loan_id,
            borrower_id=loan.borrower_id,
            borrower_name=loan.name,
            phone=loan.phone,
            email=loan.email,
            address=loan.address,
            locale=loan.locale,
            timezone=loan.timezone,
            product=loan.product,
            principal=loan.principal,
            disbursed_on=loan.disbursed_on,
            annual_rate_ppm=loan.annual_rate_ppm,
            penalty_waived=penalty_off.get(loan.loan_id, 0),
            state=state_from_paid(schedule, int(loan.paid), as_of, grace_days=settings.grace_days,
                                  buckets=settings.buckets,
                                  class_floor=plan and class_floor(plan.plan_on, plan.classification, as_of,
                                                                   settings.plans.observation_days),
                                  standing=standing(events.get(loan.loan_id, ()), as_of)),
        )


def _schedules_before_plans(conn: Connection, as_of: date, loan_ids: Sequence[str] | None) -> dict[str, list[Installment]]:
    later = q.schedule_batches_after(conn, as_of, loan_ids)
    out: dict[str, list[Installment]] = {}
    ids = sorted(later)
    for first in range(0, len(ids), LATE_CHUNK):
        current, replaced = q.schedules_and_replaced(conn, ids[first:first + LATE_CHUNK])
        out.update({i: schedule_before(current[i], later[i], replaced) for i in current})
    return out


def _schedules(rows) -> Iterator[tuple[str, list[Installment]]]:
    current: str | None = None
    schedule: list[Installment] = []
    for loan_id, *fields in rows:  # (loan_id, seq, due_on, principal, interest, fee): unpacked, it is faster
        if loan_id != current:
            if current is not None:
                yield current, schedule
            current, schedule = loan_id, []
        schedule.append(Installment(*fields))
    if current is not None:
        yield current, schedule
