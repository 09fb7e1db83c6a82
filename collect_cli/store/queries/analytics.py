"""The book as day numbers for replays on many dates, and activity over a period."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from itertools import chain

from sqlalchemy import Connection, Integer, Row, and_, cast, func, literal_column, select

from collect_cli.store.queries.base import (
    WHOLE,
    Part,
    _in_part,
    contacts,
    entered_by,
    installments,
    loans,
    outbox,
    payments,
    promises,
    versions,
)
from collect_cli.store.queries.outbox import status_known_by
from collect_cli.store.queries.workflow import promise_columns


def _day(conn: Connection, column):
    """A date column as its day number (date.toordinal()), computed by the database: the
    analytics loops compare integers, and no driver has to build a million date objects."""
    if conn.dialect.name == "sqlite":
        return cast(func.julianday(column) - 1721424.5, Integer)
    return cast(column - literal_column("DATE '0001-01-01'"), Integer) + 1


def stream_ledger_rows(conn: Connection, *, product: str | None = None,
                       part: tuple[str | None, str | None] = (None, None)) -> tuple[Iterator[tuple], ...]:
    """Three streams of plain tuples in loan_id order: loans (loan_id, borrower_id, product,
    disbursed day, principal, annual_rate_ppm), schedule rows (loan_id, due day, principal, interest + fees) in
    seq order (the caller orders a loan's rows by due day), and payments (loan_id, paid day,
    amount) in day order; only loans with lo <= loan_id < hi when `part` = (lo, hi) says so.
    Each follows its table's index, so the database sorts nothing."""
    def only(stmt, table):
        stmt = _in_part(stmt, table, part)
        if product:
            stmt = stmt.join(loans, loans.c.loan_id == table.c.loan_id) if table is not loans else stmt
            stmt = stmt.where(loans.c.product == product)
        return stmt

    return (
        _raw_stream(conn, only(select(loans.c.loan_id, loans.c.borrower_id, loans.c.product,
                                      _day(conn, loans.c.disbursed_on), loans.c.principal,
                                      loans.c.annual_rate_ppm), loans)
                    .order_by(loans.c.loan_id)),
        _raw_stream(conn, only(select(installments.c.loan_id, _day(conn, installments.c.due_on),
                                      installments.c.principal_due,
                                      installments.c.interest_due + installments.c.fee_due), installments)
                    .order_by(installments.c.loan_id, installments.c.seq)),
        _raw_stream(conn, only(select(payments.c.loan_id, _day(conn, payments.c.paid_on), payments.c.amount),
                               payments)
                    .order_by(payments.c.loan_id, payments.c.paid_on)),
    )


def reversals_of(conn: Connection, part: tuple[str | None, str | None] = (None, None)
                 ) -> dict[str, list[tuple[int, int, int]]]:
    """Per loan with reversals, each as (reversal day, day the payment was made, amount): what
    a by-payment allocation takes out of the history from the reversal on. They are few."""
    original = payments.alias("original")
    stmt = _in_part(select(payments.c.loan_id, _day(conn, payments.c.paid_on), _day(conn, original.c.paid_on),
                           original.c.amount)
                    .join(original, original.c.payment_id == payments.c.reverses), payments, part)
    out: dict[str, list[tuple[int, int, int]]] = {}
    for loan_id, reversed_on, paid_on, amount in conn.execute(stmt.order_by(payments.c.loan_id, payments.c.paid_on)):
        out.setdefault(loan_id, []).append((reversed_on, paid_on, amount))
    return out


def count_loans(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(loans)).scalar_one()


def cut_into(conn: Connection, n: int, part: Part = WHOLE) -> list[Part]:
    """The loan-id range `part` cut into n consecutive ranges of about as many loans each,
    covering it whole: the first starts where `part` starts, the last ends where it ends."""
    lo, hi = part
    ids = _in_part(select(loans.c.loan_id), loans, part)
    total = conn.execute(select(func.count()).select_from(ids.subquery())).scalar_one()
    if not total:  # nothing to cut: the first takes the range, the others nothing ("" <= id < "")
        return [part, *[("", "")] * (n - 1)]
    # the id at each cut's position (fewer loans than parts: some ranges are empty)
    cuts = [conn.execute(ids.order_by(loans.c.loan_id).offset(total * k // n).limit(1)).scalar_one()
            for k in range(1, n)]
    return list(zip([lo, *cuts], [*cuts, hi], strict=True))


def _raw_stream(conn: Connection, stmt, size: int = 10_000) -> Iterator[tuple]:
    """The rows of `stmt` as the driver's plain tuples, streamed: for the analytics passes over
    millions of rows, where SQLAlchemy's per-row processing would cost more than the query.
    Still bound parameters, compiled by SQLAlchemy; a server-side cursor on PostgreSQL."""
    return chain.from_iterable(_raw_chunks(conn, stmt, size))  # rows flow in C, chunk by chunk


def _raw_chunks(conn: Connection, stmt, size: int) -> Iterator[list[tuple]]:
    compiled = stmt.compile(dialect=conn.dialect)
    params = compiled.construct_params()
    args = [params[k] for k in compiled.positiontup] if compiled.positional else params
    dbapi = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql":
        _raw_stream.cursors += 1
        cursor = dbapi.cursor(name=f"collect_stream_{_raw_stream.cursors}")
    else:
        cursor = dbapi.cursor()
    try:
        cursor.execute(compiled.string, args)
        while rows := cursor.fetchmany(size):
            yield rows
    finally:
        cursor.close()


_raw_stream.cursors = 0


def _of_product(stmt, table, product: str | None):
    """Only the rows of loans of `product`, when given."""
    if not product:
        return stmt
    return stmt.where(table.c.loan_id.in_(select(loans.c.loan_id).where(loans.c.product == product)))


def promises_made(conn: Connection, start: date, end: date, product: str | None = None, *,
                  known_by=None) -> list[Row]:
    """Promises made from `start` to `end`, as known by `known_by` (their verdicts as of `end`)."""
    known = select(*promise_columns(end if known_by is not None else None)).where(
        promises.c.made_on >= start, promises.c.made_on <= end, entered_by(promises, known_by))
    return conn.execute(_of_product(known, promises, product).order_by(promises.c.id)).all()


def messages_between(conn: Connection, start: date, end: date, product: str | None = None, *,
                     known_by=None) -> list[Row]:
    """The outbox messages the nightly runs as of `start` to `end` wrote (a version of theirs is
    of those days, written by `known_by`), each with its status as recorded by `known_by` (a
    message sent the day after was still queued then; one queued again later is still counted)."""
    written = select(versions.c.message_id).where(versions.c.as_of >= start, versions.c.as_of <= end,
                                                  entered_by(versions, known_by))
    stmt = select(outbox.c.loan_id, outbox.c.step, outbox.c.channel, *status_known_by(known_by)).where(
        outbox.c.id.in_(written))
    return conn.execute(_of_product(stmt, outbox, product)).all()


def contacts_in(conn: Connection, since, until, product: str | None = None, *, known_by=None) -> list[Row]:
    """Contacts with `since <= at < until` (naive UTC) logged by `known_by`, oldest first."""
    stmt = select(contacts).where(contacts.c.at >= since, contacts.c.at < until, entered_by(contacts, known_by)
                                  ).order_by(contacts.c.at, contacts.c.id)
    return conn.execute(_of_product(stmt, contacts, product)).all()


def link_payments(conn: Connection, start: date, end: date, product: str | None = None) -> list[Row]:
    """Payments from `start` to `end` that came through a message's payment link, by the
    message's channel and step (None: a link of no message on file): (channel, step,
    payments, amount), a reversal counted against its payment's message. A reference names a
    message of the payment's own loan: one of another loan's is no attribution."""
    original = payments.alias("original")
    ref = func.coalesce(payments.c.link_ref, original.c.link_ref)
    stmt = (select(outbox.c.channel, outbox.c.step,
                   func.count().filter(payments.c.amount > 0).label("payments"),
                   func.sum(payments.c.amount).label("amount"))
            .select_from(payments.outerjoin(original, original.c.payment_id == payments.c.reverses)
                         .outerjoin(outbox, and_(outbox.c.payment_ref == ref, outbox.c.loan_id == payments.c.loan_id)))
            .where(payments.c.paid_on >= start, payments.c.paid_on <= end, ref.is_not(None))
            .group_by(outbox.c.channel, outbox.c.step)
            # the links of no message last, on each backend (their NULLs sort apart by default)
            .order_by(outbox.c.channel.is_(None), outbox.c.channel, outbox.c.step))
    return conn.execute(_of_product(stmt, payments, product)).all()


def sent_by_channel(conn: Connection, start: date, end: date, product: str | None = None) -> list[Row]:
    """The messages of the nightly runs as of `start` to `end` that were sent, by channel:
    (channel, messages, parts billed: an SMS's parts, 1 for others)."""
    written = select(versions.c.message_id).where(versions.c.as_of >= start, versions.c.as_of <= end)
    stmt = (select(outbox.c.channel, func.count().label("messages"),
                   func.sum(func.coalesce(outbox.c.parts, 1)).label("parts"))
            .where(outbox.c.id.in_(written), outbox.c.status == "sent")
            .group_by(outbox.c.channel).order_by(outbox.c.channel))
    return conn.execute(_of_product(stmt, outbox, product)).all()
