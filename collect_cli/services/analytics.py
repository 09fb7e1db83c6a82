"""The whole book replayed on many dates in one pass: the ground under the analyst reports.

Loans, schedules and payments stream from the store in loan order as day numbers and are
merged here, one loan in memory at a time; a reversal is a negative payment on its own day,
which the lean replay sums like any other, and a loan's events (write-off, sale, settlement,
pauses) are applied to its lean state of each day as the engine applies them. The few loans
whose schedule changed by day (plans, complete schedules, waivers) are computed by the
engine itself on each date (it replays their schedule of then and floors their class).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial, reduce
from itertools import groupby
from operator import itemgetter

from sqlalchemy import Connection

from collect_cli.config import Settings
from collect_cli.domain.allocation import SUM_RULE
from collect_cli.domain.buckets import bucket_for, classify
from collect_cli.domain.loan_events import NO_EVENTS, Standing, paused_days, standing
from collect_cli.domain.timeline import Ledger, Snapshot, snapshots
from collect_cli.services.forks import in_forks
from collect_cli.services.portfolio import iter_accounts, rule_for
from collect_cli.store import queries as q
from collect_cli.store.database import export_snapshot


@dataclass(frozen=True, slots=True)
class Position:
    """A loan on a date, as the reports need it."""

    dpd: int
    overdue: int  # minor units
    outstanding: int  # outstanding principal, minor units
    bucket: str | None  # None when closed or transferred
    classification: str | None  # None when closed or transferred
    status: str = "open"  # open | closed | transferred (sold to another creditor)
    written_off: bool = False  # written off (核销) by the date: off the books, still collected

    @property
    def state(self) -> str:
        """Its bucket, or "closed", or "transferred"."""
        return self.bucket or self.status


@dataclass(frozen=True, slots=True)
class BookLoan:
    loan_id: str
    borrower_id: str
    product: str
    disbursed: int  # day number
    principal: int
    ledger: Ledger


Part, WHOLE = q.Part, q.WHOLE  # a loan-id range: lo <= loan_id < hi
PARALLEL_MIN = 20_000  # loans: below this one process is faster than starting others


def iter_book(conn: Connection, *, settings: Settings, product: str | None = None,
              part: Part = WHOLE) -> Iterator[BookLoan]:
    """Each loan of the part with its lean ledger; a loan whose product allocates payment by
    payment carries its rule, what its reversals took out and its penalty waivers (few)."""
    loan_rows, schedule_rows, payment_rows = q.stream_ledger_rows(conn, product=product, part=part)
    schedules, pays = _grouped(schedule_rows), _grouped(payment_rows)
    next_schedule, next_pay = next(schedules, None), next(pays, None)
    by_payment = settings.allocation.any_by_payment
    voids = q.reversals_of(conn, part) if by_payment else {}
    waived = q.penalty_waivers(conn, date.max, part=part) if by_payment else {}
    for loan_id, borrower_id, prod, disbursed, principal, rate_ppm in loan_rows:
        schedule, paid = (), ()
        if next_schedule is not None and next_schedule[0] == loan_id:
            schedule, next_schedule = next_schedule[1], next(schedules, None)
            schedule.sort(key=itemgetter(1))  # by due day; stable, so seq order among equal days
        if next_pay is not None and next_pay[0] == loan_id:
            paid, next_pay = next_pay[1], next(pays, None)
        rule = rule_for(settings, prod, rate_ppm, date.fromordinal(disbursed)) if by_payment else SUM_RULE
        ledger = Ledger(schedule, paid) if not rule.by_payment else Ledger(
            schedule, paid, rule, sorted(voids.get(loan_id, ())),
            [(d.toordinal(), a) for d, a in waived.get(loan_id, ())])
        yield BookLoan(loan_id, borrower_id, prod, disbursed, principal, ledger)


def _grouped(rows) -> Iterator[tuple[str, list[tuple]]]:
    """Consecutive rows of one loan (the rows keep the loan id first, as the store gave them)."""
    for loan_id, group in groupby(rows, key=itemgetter(0)):
        yield loan_id, list(group)


def positions_on(conn: Connection, days: Sequence[date], *, settings: Settings, product: str | None = None,
                 part: Part = WHOLE) -> Iterator[tuple[BookLoan, list[Position | None]]]:
    """Each loan with its position on each of `days` (None: not yet disbursed then)."""
    ordinals = [d.toordinal() for d in days]
    # a loan with a plan or a dated schedule change (few): the engine replays the schedule
    # in force on each day; a loan's events (few) are applied to its lean state of the day
    rescheduled = q.rescheduled_loan_ids(conn, part)
    by_engine = _engine_positions(conn, rescheduled, days, settings) if rescheduled else {}
    events = q.events_of(conn, q.event_loan_ids(conn, part))
    for loan in iter_book(conn, settings=settings, product=product, part=part):
        if loan.loan_id in by_engine:
            yield loan, by_engine[loan.loan_id]
            continue
        snaps = snapshots(loan.ledger, ordinals)
        mine = events.get(loan.loan_id)
        yield loan, [(position_of(s, settings, _on(mine, day)) if loan.disbursed <= day else None)
                     for s, day in zip(snaps, ordinals, strict=True)]


def _on(events, day: int) -> tuple[Standing, date] | None:
    return (standing(events, date.fromordinal(day)), date.fromordinal(day)) if events else None


def position_of(s: Snapshot, settings: Settings, events: tuple[Standing, date] | None = None) -> Position:
    """The lean state as the engine states it (domain/loan_state.py), with the loan's events
    as they stand on the day: settled is closed (nothing owed), sold is transferred, pauses
    take their frozen days off DPD."""
    if s.closed:
        return Position(s.dpd, s.overdue, s.outstanding, None, None, "closed")
    now, day = events or (NO_EVENTS, None)
    if now.settled_on is not None:
        return Position(0, 0, 0, None, None, "closed")
    dpd = s.dpd
    if dpd and now.pauses:  # the oldest overdue installment fell due dpd days before
        dpd -= paused_days(now.pauses, day - timedelta(days=dpd), day)
    written_off = now.written_off_on is not None
    if now.transferred_on is not None:
        return Position(dpd, s.overdue, s.outstanding, None, None, "transferred", written_off)
    return Position(dpd, s.overdue, s.outstanding, bucket_for(max(0, dpd - settings.grace_days), settings.buckets),
                    classify(dpd), "open", written_off)


def _engine_positions(conn: Connection, loan_ids: list[str], days: Sequence[date],
                      settings: Settings) -> dict[str, list[Position | None]]:
    out: dict[str, list[Position | None]] = {i: [None] * len(days) for i in loan_ids}
    for n, day in enumerate(days):
        for a in iter_accounts(conn, as_of=day, settings=settings, loan_ids=loan_ids):
            s = a.state
            out[a.loan_id][n] = Position(s.dpd, s.overdue, s.outstanding_principal, s.bucket, s.classification,
                                         s.status, s.standing.written_off_on is not None)
    return out


def ledger_of(acc, payments: list[tuple[date, int]]) -> Ledger:
    """An engine account (its schedule in force on its date) as a lean Ledger; under a
    by-payment rule, with the payments in effect on its date and its rule."""
    schedule = [p.installment for p in acc.state.positions]
    if acc.payments is None:
        return Ledger.of(acc.loan_id, schedule, payments)
    lean = Ledger.of(acc.loan_id, schedule, acc.payments)
    return Ledger(lean.schedule, lean.payments, acc.rule, (), [(d.toordinal(), a) for d, a in acc.penalty_off])


def engine_ledgers(conn: Connection, loan_ids: list[str], as_of: date, settings: Settings) -> dict[str, tuple]:
    """(account, Ledger) of these loans as the engine sees them on `as_of`: the schedule in
    force then (restructured loans), and the payments made by then."""
    if not loan_ids:
        return {}
    pays = q.payments_of(conn, loan_ids, as_of)
    return {a.loan_id: (a, ledger_of(a, pays[a.loan_id]))
            for a in iter_accounts(conn, as_of=as_of, settings=settings, loan_ids=loan_ids)}


def fold_book(conn: Connection, work: Callable, args: tuple, merge: Callable):
    """`work(conn, *args, part=…)` over the whole book, merged with `merge(a, b)`, reading the
    book as of one moment (an import committing meanwhile is in the whole report or not at all).

    A big book is cut into as many loan-id ranges as there are cores (at most 4), each
    replayed in a forked process with its own database connection: the replay is CPU-bound
    Python, and the reports sum what each range found. On PostgreSQL every part reads the
    snapshot this process exported; on SQLite each takes its own as it starts."""
    workers = min(cores(), 4)
    total = q.count_loans(conn)
    with conn.engine.connect() as reader:
        snapshot = export_snapshot(reader)
        if workers < 2 or total < PARALLEL_MIN:
            return work(reader, *args, part=WHOLE)
        parts = q.cut_into(reader, workers)
        partials = in_forks(conn.engine, snapshot, partial(_work_on_part, work, args), parts,
                            "a process of the parallel replay died (out of memory?); nothing was written: "
                            "run the report again")
    return reduce(merge, partials)


def cores() -> int:
    """The cores this process may run on (its CPU affinity, which a container may narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _work_on_part(work: Callable, args: tuple, conn: Connection, part: Part):
    return work(conn, *args, part=part)