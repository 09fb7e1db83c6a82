"""The ledger's reads: streamed in loan order for the engine (the whole book, or a part of
it), and by batch of loans for the nightly run and the commands."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import date

from sqlalchemy import Connection, Row, and_, func, literal, or_, select, union_all

from collect_cli.domain.loan_events import LoanEvent
from collect_cli.store.queries.base import (
    WHOLE,
    Part,
    _in,
    _in_part,
    _in_range,
    _of_products,
    _per_loan,
    borrowers,
    history,
    installments,
    loan_events,
    loans,
    payments,
    plans,
    schedule_changes,
)
from collect_cli.store.queries.ledger_writes import EVENT_FIELDS


def events_of(conn: Connection, loan_ids: Sequence[str] | None = None) -> dict[str, list[LoanEvent]]:
    """Per loan with events (of the ids, or all), its events in date order: they are few (a
    person or the core system decided each), so the whole book's fit in memory."""
    stmt = select(loan_events.c.loan_id, *(loan_events.c[f] for f in EVENT_FIELDS))
    if loan_ids is not None:
        stmt = stmt.where(_in(conn, loan_events.c.loan_id, loan_ids))
    out: dict[str, list[LoanEvent]] = defaultdict(list)
    for loan_id, *fields in conn.execute(stmt.order_by(loan_events.c.event_on, loan_events.c.id)):
        out[loan_id].append(LoanEvent(*fields))
    return dict(out)


def stream_loans(conn: Connection, as_of: date, *, product: str | None = None,
                 loan_ids: Sequence[str] | None = None, part: Part = WHOLE) -> Iterator[Row]:
    """Loans disbursed by `as_of`, with borrower and the sum paid up to `as_of`, by loan_id."""
    # correlated, over the (loan_id, paid_on) index: as fast as one aggregate for the whole
    # book, and much faster for a chunk of loans (an aggregate would read every payment)
    paid = (
        select(func.coalesce(func.sum(payments.c.amount), literal(0)))
        .where(payments.c.loan_id == loans.c.loan_id, payments.c.paid_on <= as_of)
        .scalar_subquery()
    )
    stmt = (
        select(
            loans.c.loan_id, loans.c.borrower_id, loans.c.principal, loans.c.disbursed_on,
            loans.c.annual_rate_ppm, loans.c.product, borrowers.c.name, borrowers.c.phone, borrowers.c.email,
            borrowers.c.push_id, borrowers.c.address, borrowers.c.locale, borrowers.c.timezone, paid.label("paid"),
        )
        .join(borrowers, borrowers.c.borrower_id == loans.c.borrower_id)
        .where(_loan_filter(as_of, product, loan_ids, part))
        .order_by(loans.c.loan_id)
    )
    # options on the statement: on the connection they would stay on for its later statements
    yield from conn.execute(stmt.execution_options(stream_results=True, yield_per=5000))


def stream_installments(conn: Connection, as_of: date, *, product: str | None = None,
                        loan_ids: Sequence[str] | None = None, part: Part = WHOLE) -> Iterator[Row]:
    """The schedules of the same loans as `stream_loans`, in the same loan order."""
    stmt = (
        select(installments.c.loan_id, installments.c.seq, installments.c.due_on,
               installments.c.principal_due, installments.c.interest_due, installments.c.fee_due)
        .join(loans, loans.c.loan_id == installments.c.loan_id)
        .where(_loan_filter(as_of, product, loan_ids, part, installments))
        .order_by(installments.c.loan_id, installments.c.due_on, installments.c.seq)
    )
    # options on the statement: on the connection they would stay on for its later statements
    yield from conn.execute(stmt.execution_options(stream_results=True, yield_per=5000))


def stream_payments_in_effect(conn: Connection, as_of: date, products: tuple[frozenset[str], bool], *,
                              product: str | None = None, loan_ids: Sequence[str] | None = None,
                              part: Part = WHOLE) -> Iterator[tuple[str, date, int]]:
    """(loan_id, paid_on, amount) of the payments in effect on `as_of` (made by then, not
    reversed by then; no reversal rows) of the same loans as `stream_loans` whose product is
    one of `products` (domain/allocation.py's by-payment rules), in loan and day order."""
    stmt = _in_effect(select(payments.c.loan_id, payments.c.paid_on, payments.c.amount), as_of)
    stmt = (stmt.join(loans, loans.c.loan_id == payments.c.loan_id)
            .where(_loan_filter(as_of, product, loan_ids, part, payments), _of_products(loans.c.product, products))
            .order_by(payments.c.loan_id, payments.c.paid_on))  # the (loan_id, paid_on) index's order
    if loan_ids is not None:  # on the payments too, so that their index serves a chunk
        stmt = stmt.where(_in(conn, payments.c.loan_id, loan_ids))
    # PostgreSQL plans a server-side cursor for its first tenth; with this join and anti-join,
    # on tables whose statistics a bulk import left stale, that plan was a nested loop over a
    # scanned table (quadratic: minutes at 100k loans). This stream is read to its end.
    on_pg = conn.dialect.name == "postgresql"
    if on_pg:
        conn.exec_driver_sql("SET LOCAL cursor_tuple_fraction = 1")
    try:
        rows = conn.execute(stmt.execution_options(stream_results=True, yield_per=5000))  # planned now
    finally:
        if on_pg:
            conn.exec_driver_sql("SET LOCAL cursor_tuple_fraction = DEFAULT")
    yield from rows


def due_loan_ids(conn: Connection, as_of: date, products: tuple[frozenset[str], bool],
                 penalty_first: frozenset[str] = frozenset()) -> list[str]:
    """The loans of `products` (by-payment rules) that may be late on `as_of`, which a sum
    paid cannot tell (money went to the interest of later installments, or to penalty): those
    with an installment due before `as_of` that are not paid off. Paid off is "paid at least
    the whole schedule" except under a penalty-first rule that charges penalty
    (`penalty_first`): there money went to penalty too, so every such loan is handed over."""
    fell_due = select(installments.c.loan_id).where(installments.c.loan_id == loans.c.loan_id,
                                                     installments.c.due_on < as_of).exists()
    scheduled = (select(func.sum(installments.c.principal_due + installments.c.interest_due + installments.c.fee_due))
                 .where(installments.c.loan_id == loans.c.loan_id).scalar_subquery())
    paid = (select(func.coalesce(func.sum(payments.c.amount), literal(0)))
            .where(payments.c.loan_id == loans.c.loan_id, payments.c.paid_on <= as_of).scalar_subquery())
    owing = or_(loans.c.product.in_(sorted(penalty_first)), paid < scheduled) if penalty_first else paid < scheduled
    stmt = select(loans.c.loan_id).where(loans.c.disbursed_on <= as_of, _of_products(loans.c.product, products),
                                         fell_due, owing)
    return list(conn.execute(stmt.order_by(loans.c.loan_id)).scalars())


def products(conn: Connection) -> list[str]:
    """The products the ledger knows."""
    return list(conn.execute(select(loans.c.product).where(loans.c.product.is_not(None)).distinct()
                             .order_by(loans.c.product)).scalars())


def _loan_filter(as_of: date, product: str | None, loan_ids: Sequence[str] | None, part: Part = WHOLE,
                 table=loans):
    """The loans disbursed by `as_of` (of the product, of the ids, of the part); the part is
    also put on `table`'s loan_id, so that the index of the table streamed serves the range."""
    conds = [loans.c.disbursed_on <= as_of]
    if product:
        conds.append(loans.c.product == product)
    if loan_ids is not None:
        conds.append(loans.c.loan_id.in_(list(loan_ids)))
    for t in (loans,) if table is loans else (loans, table):
        conds += _in_range(t.c.loan_id, part)
    return and_(*conds)


def late_loan_ids(conn: Connection, as_of: date) -> list[str]:
    """The loans past due on `as_of`, by loan_id, set-based: allocation pays installments oldest
    first, so a loan has an overdue installment exactly when what it paid by `as_of` is less
    than what fell due before `as_of`. (The engine still computes each of them; this only
    spares it the others.)"""
    fell_due = (
        select(installments.c.loan_id,
               func.sum(installments.c.principal_due + installments.c.interest_due + installments.c.fee_due)
               .label("due"))
        .where(installments.c.due_on < as_of)
        .group_by(installments.c.loan_id)
        .subquery()
    )
    paid = (
        select(payments.c.loan_id, func.sum(payments.c.amount).label("paid"))
        .where(payments.c.paid_on <= as_of)
        .group_by(payments.c.loan_id)
        .subquery()
    )
    stmt = (select(fell_due.c.loan_id)
            .outerjoin(paid, paid.c.loan_id == fell_due.c.loan_id)
            .where(func.coalesce(paid.c.paid, literal(0)) < fell_due.c.due)
            .order_by(fell_due.c.loan_id))
    return list(conn.execute(stmt).scalars())


def payments_of(conn: Connection, loan_ids: Sequence[str], as_of: date, *,
                reversed_out: bool = False) -> dict[str, list[tuple[date, int]]]:
    """Per loan, its payments up to `as_of` as (day, amount), a reversal negative on its own
    day. `reversed_out`: without the payments reversed by `as_of` and their reversals, for
    what asks whether money came in (a promise kept, a waiver's condition): a bounced
    payment never paid anything."""
    out: dict[str, list[tuple[date, int]]] = {i: [] for i in loan_ids}
    if loan_ids:
        stmt = (select(payments.c.loan_id, payments.c.paid_on, payments.c.amount)
                .where(_in(conn, payments.c.loan_id, loan_ids), payments.c.paid_on <= as_of))
        if reversed_out:
            stmt = _in_effect(stmt, as_of)
        rows = conn.execute(stmt)
        for loan_id, paid_on, amount in rows:
            out[loan_id].append((paid_on, amount))
    return out


def _in_effect(stmt, as_of: date):
    """Only the payments that count on `as_of`: not a reversal, not reversed by then."""
    reversal = payments.alias("reversal")
    undone = select(reversal.c.payment_id).where(reversal.c.reverses == payments.c.payment_id,
                                                 reversal.c.paid_on <= as_of).exists()
    # not `reverses IS NULL`: SQLite would then read every payment through the reverses index
    return stmt.where(payments.c.paid_on <= as_of, func.coalesce(payments.c.reverses, literal("")) == "", ~undone)


def reversed_later(conn: Connection, loan_ids: Sequence[str], as_of: date) -> dict[str, int]:
    """Per loan, the money of payments made by `as_of` and reversed after it: what a replay of
    `as_of` counts as paid and the ledger now knows was never paid."""
    if not loan_ids:
        return {}
    original = payments.alias("original")
    rows = conn.execute(select(payments.c.loan_id, func.sum(original.c.amount))
                        .join(original, original.c.payment_id == payments.c.reverses)
                        .where(_in(conn, payments.c.loan_id, loan_ids), payments.c.paid_on > as_of,
                               original.c.paid_on <= as_of)
                        .group_by(payments.c.loan_id))
    return {loan_id: int(amount) for loan_id, amount in rows}


def borrower_loan_ids(conn: Connection, loan_id: str) -> list[str]:
    """Every loan of the borrower of `loan_id` (empty when there is no such loan)."""
    owner = select(loans.c.borrower_id).where(loans.c.loan_id == loan_id).scalar_subquery()
    return list(conn.execute(select(loans.c.loan_id).where(loans.c.borrower_id == owner)
                             .order_by(loans.c.loan_id)).scalars())


def payments_list(conn: Connection, loan_ids: Sequence[str]) -> list[Row]:
    return conn.execute(select(payments).where(_in(conn, payments.c.loan_id, loan_ids))
                        .order_by(payments.c.paid_on, payments.c.payment_id)).all()


def schedule_batches(conn: Connection, loan_ids: Sequence[str]) -> dict[str, set[int]]:
    """Per loan, the batches that wrote its schedule rows as they are now."""
    out: dict[str, set[int]] = {i: set() for i in loan_ids}
    for loan_id, batch_id in conn.execute(select(installments.c.loan_id, installments.c.batch_id).distinct()
                                          .where(_in(conn, installments.c.loan_id, loan_ids))):
        out[loan_id].add(batch_id)
    return out


def plans_of(conn: Connection, loan_ids: Sequence[str]) -> dict[str, list[Row]]:
    """Per loan, its plans, oldest first."""
    return _per_loan(conn, plans, loan_ids)


def planned_loan_ids(conn: Connection, part: tuple[str | None, str | None] = (None, None)) -> list[str]:
    """The loans with a restructuring plan of any date (lo <= loan_id < hi, as the database
    orders them, when `part` = (lo, hi))."""
    return sorted(conn.execute(_in_part(select(plans.c.loan_id).distinct(), plans, part)).scalars())


def event_loan_ids(conn: Connection, part: tuple[str | None, str | None] = (None, None)) -> list[str]:
    """The loans with loan events of any date (lo <= loan_id < hi when `part` says so)."""
    return sorted(conn.execute(_in_part(select(loan_events.c.loan_id).distinct(), loan_events, part)).scalars())


def rescheduled_loan_ids(conn: Connection, part: tuple[str | None, str | None] = (None, None)) -> list[str]:
    """The loans whose schedule differs by day: restructured ones and those with dated
    schedule changes (complete schedules, waivers). The lean replay leaves them to the engine."""
    changed = conn.execute(_in_part(select(schedule_changes.c.loan_id).distinct(), schedule_changes, part)).scalars()
    return sorted({*planned_loan_ids(conn, part), *changed})


def engine_loan_ids(conn: Connection, part: tuple[str | None, str | None] = (None, None)) -> list[str]:
    """The rescheduled loans and those with loan events (write-off, transfer, settlement,
    pauses): what the reports that read a loan's history (watch list, collections) leave to
    the engine. They are few: a person or the core system decided each."""
    return sorted({*rescheduled_loan_ids(conn, part), *event_loan_ids(conn, part)})


def latest_plans(conn: Connection, as_of: date, loan_ids: Sequence[str] | None = None) -> dict[str, Row]:
    """Per loan with a plan made by `as_of`, its latest plan."""
    stmt = select(plans).where(plans.c.plan_on <= as_of).order_by(plans.c.id)
    if loan_ids is not None:
        stmt = stmt.where(_in(conn, plans.c.loan_id, loan_ids))
    return {r.loan_id: r for r in conn.execute(stmt)}


def schedule_batches_after(conn: Connection, as_of: date, loan_ids: Sequence[str] | None = None) -> dict[str, list[int]]:
    """Per loan, the batches of schedule changes that take effect after `as_of` (its plans
    made after it, complete schedules and waivers effective after it), newest first: what a
    replay of `as_of` undoes."""
    stmt = union_all(select(plans.c.loan_id, plans.c.batch_id).where(plans.c.plan_on > as_of),
                     select(schedule_changes.c.loan_id, schedule_changes.c.batch_id)
                     .where(schedule_changes.c.effective_on > as_of)).subquery()
    query = select(stmt.c.loan_id, stmt.c.batch_id).order_by(stmt.c.batch_id.desc())
    if loan_ids is not None:
        query = query.where(_in(conn, stmt.c.loan_id, loan_ids))
    out: dict[str, list[int]] = {}
    for loan_id, batch_id in conn.execute(query):
        out.setdefault(loan_id, []).append(batch_id)
    return out


def schedule_changes_of(conn: Connection, loan_ids: Sequence[str]) -> dict[str, list[tuple[date, int]]]:
    """Per loan, its plans and dated schedule changes: (the day each takes effect, its batch)."""
    stmt = union_all(select(plans.c.loan_id, plans.c.plan_on, plans.c.batch_id),
                     select(schedule_changes.c.loan_id, schedule_changes.c.effective_on, schedule_changes.c.batch_id)
                     ).subquery()
    out: dict[str, list[tuple[date, int]]] = {i: [] for i in loan_ids}
    for loan_id, day, batch_id in conn.execute(select(stmt).where(_in(conn, stmt.c.loan_id, loan_ids))):
        out[loan_id].append((day, batch_id))
    return out


SCHEDULE_ROW = ("seq", "due_on", "principal_due", "interest_due", "fee_due", "batch_id")


def schedules_and_replaced(conn: Connection, loan_ids: Sequence[str]) -> tuple[dict[str, list[tuple]],
                                                                                dict[int, list[tuple]]]:
    """The loans' schedule rows and their history rows by the batch that replaced them, as
    SCHEDULE_ROW tuples."""
    current: dict[str, list[tuple]] = {i: [] for i in loan_ids}
    replaced: dict[int, list[tuple]] = defaultdict(list)
    ids = list(loan_ids)
    for r in conn.execute(select(installments.c.loan_id, *(installments.c[c] for c in SCHEDULE_ROW))
                          .where(installments.c.loan_id.in_(ids))):
        current[r[0]].append(tuple(r[1:]))
    for r in conn.execute(select(history.c.replaced_by_batch_id, *(history.c[c] for c in SCHEDULE_ROW))
                          .where(history.c.loan_id.in_(ids))):
        replaced[r[0]].append(tuple(r[1:]))
    return current, replaced


def borrower_loan_counts(conn: Connection, as_of: date, borrower_ids: Sequence[str],
                         leave_out: tuple[frozenset[str], bool] | None = None) -> tuple[dict, dict]:
    """Per borrower: loans open on `as_of` (disbursed, not paid off, not settled or sold) and,
    of those, past due (paid less than what fell due before `as_of`, as in late_loan_ids); per
    loan over the indexes. `leave_out`: the products (as `_of_products`) whose rule a sum
    cannot judge (by-payment rules): their loans are not counted here."""
    opened: dict[str, int] = defaultdict(int)
    behind: dict[str, int] = defaultdict(int)
    if not borrower_ids:
        return opened, behind
    amount = installments.c.principal_due + installments.c.interest_due + installments.c.fee_due
    paid = (select(func.coalesce(func.sum(payments.c.amount), literal(0)))
            .where(payments.c.loan_id == loans.c.loan_id, payments.c.paid_on <= as_of).scalar_subquery())
    due_all = select(func.coalesce(func.sum(amount), literal(0))).where(
        installments.c.loan_id == loans.c.loan_id).scalar_subquery()
    fell_due = select(func.coalesce(func.sum(amount), literal(0))).where(
        installments.c.loan_id == loans.c.loan_id, installments.c.due_on < as_of).scalar_subquery()
    # a loan settled early or sold by `as_of` is no longer an open loan of the lender's
    ended = select(loan_events.c.loan_id).where(loan_events.c.loan_id == loans.c.loan_id,
                                                loan_events.c.event.in_(("settle", "transfer")),
                                                loan_events.c.event_on <= as_of).exists()
    stmt = (select(loans.c.borrower_id, paid, due_all, fell_due)
            .where(_in(conn, loans.c.borrower_id, borrower_ids), loans.c.disbursed_on <= as_of, ~ended))
    if leave_out is not None:
        stmt = stmt.where(_of_products(loans.c.product, leave_out, negate=True))
    rows = conn.execute(stmt)
    for borrower_id, p, total, due in rows:
        if p < total:
            opened[borrower_id] += 1
            behind[borrower_id] += p < due
    return opened, behind


def loans_of_borrowers(conn: Connection, borrower_ids: Sequence[str], products: tuple[frozenset[str], bool]
                       ) -> list[str]:
    """The loans of these borrowers whose product is one of `products` (as `_of_products`)."""
    if not borrower_ids:
        return []
    return list(conn.execute(select(loans.c.loan_id).where(_in(conn, loans.c.borrower_id, borrower_ids),
                                                           _of_products(loans.c.product, products))
                             .order_by(loans.c.loan_id)).scalars())


def loan_zones(conn: Connection, loan_ids: Sequence[str]) -> dict[str, str | None]:
    """Per loan, its borrower's time zone (None: the configured one)."""
    if not loan_ids:
        return {}
    return dict(conn.execute(select(loans.c.loan_id, borrowers.c.timezone)
                             .join(borrowers, borrowers.c.borrower_id == loans.c.borrower_id)
                             .where(_in(conn, loans.c.loan_id, loan_ids))).all())


def borrower_points(conn: Connection, loan_id: str) -> tuple[str, str | None, str | None, str | None] | None:
    """The loan's borrower id, phone, e-mail and push id on file."""
    row = conn.execute(select(borrowers.c.borrower_id, borrowers.c.phone, borrowers.c.email, borrowers.c.push_id)
                       .join(loans, loans.c.borrower_id == borrowers.c.borrower_id)
                       .where(loans.c.loan_id == loan_id)).first()
    return tuple(row) if row else None
