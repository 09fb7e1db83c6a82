"""All SQL of collect, in one place: set-based import writes and streamed ledger reads.

Every function takes an open Connection inside the caller's transaction and works on a
batch of records at a time: one query per batch, never one per ledger row.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from itertools import chain
from operator import attrgetter

from sqlalchemy import (
    Connection,
    Integer,
    Row,
    and_,
    bindparam,
    cast,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    update,
)

from collect_cli.domain.compliance import BORROWER_WIDE
from collect_cli.domain.money import fmt
from collect_cli.store.models import (
    Assignment,
    AuditEntry,
    Borrower,
    Contact,
    Escalation,
    Hold,
    ImportBatch,
    Installment,
    InstallmentHistory,
    Loan,
    OutboxEvent,
    OutboxMessage,
    Payment,
    Plan,
    Promise,
)

batches = ImportBatch.__table__
borrowers = Borrower.__table__
loans = Loan.__table__
installments = Installment.__table__
history = InstallmentHistory.__table__
payments = Payment.__table__

BORROWER_FIELDS = ("name", "phone", "email", "address", "locale", "timezone")
LOAN_FIELDS = ("borrower_id", "principal", "disbursed_on", "annual_rate_ppm", "product")
INSTALLMENT_FIELDS = ("due_on", "principal_due", "interest_due", "fee_due")
PAYMENT_FIELDS = ("loan_id", "paid_on", "amount")

# An outcome per record: "inserted", "updated", "unchanged", or the reason it was rejected.
Outcomes = list[str]
INSERTED, UPDATED, UNCHANGED = "inserted", "updated", "unchanged"
WRITTEN = frozenset((INSERTED, UPDATED, UNCHANGED))


# --- import batches -------------------------------------------------------------------------

def find_imported(conn: Connection, sha256: str) -> Row | None:
    """The latest finished import of a file with this content, if any."""
    stmt = (
        select(batches)
        .where(batches.c.sha256 == sha256, batches.c.finished_at.is_not(None))
        .order_by(batches.c.id.desc())
        .limit(1)
    )
    return conn.execute(stmt).first()


def start_batch(conn: Connection, **fields) -> int:
    return conn.execute(insert(batches).values(**fields).returning(batches.c.id)).scalar_one()


def finish_batch(conn: Connection, batch_id: int, **fields) -> None:
    conn.execute(update(batches).where(batches.c.id == batch_id).values(**fields))


# --- import writes --------------------------------------------------------------------------

def _in(conn: Connection, column, keys: Iterable):
    """`column IN keys` with the keys sent as one parameter (an array on PostgreSQL, JSON read
    by json_each on SQLite): thousands of keys cost one bind, not one placeholder each."""
    keys = sorted(set(keys))
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY
        return column == func.any(bindparam(None, keys, type_=ARRAY(column.type)))
    return column.in_(select(literal_column("value")).select_from(func.json_each(bindparam(None, json.dumps(keys)))))


def _existing(conn: Connection, table, key: str, values: Iterable) -> dict:
    keys = set(values)
    if not keys:
        return {}
    rows = conn.execute(select(table).where(_in(conn, table.c[key], keys))).mappings()
    return {r[key]: r for r in rows}


def known_loan_ids(conn: Connection, loan_ids: Iterable[str]) -> set[str]:
    ids = set(loan_ids)
    if not ids:
        return set()
    return set(conn.execute(select(loans.c.loan_id).where(_in(conn, loans.c.loan_id, ids))).scalars())


def _update_many(conn: Connection, table, keys: Sequence[str], rows: list[dict]) -> None:
    if not rows:
        return
    where = and_(*(table.c[k] == bindparam(f"k_{k}") for k in keys))
    params = [{**{f"k_{k}": r[k] for k in keys}, **{c: v for c, v in r.items() if c not in keys}}
              for r in rows]
    conn.execute(update(table).where(where), params)


def _upsert(conn: Connection, table):
    """INSERT with ON CONFLICT, in the dialect of the connection (both have it)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(table)


def _insert_many(conn: Connection, table, rows: list[dict]) -> None:
    if rows:
        conn.execute(insert(table), rows)


# The driver stores a date as ISO text, as SQLAlchemy's Date does on SQLite (said here rather
# than relying on sqlite3's default adapter, deprecated since Python 3.12).
sqlite3.register_adapter(date, date.isoformat)


def _insert_records(conn: Connection, table, records: Sequence[tuple], fields: Sequence[str], batch_id: int) -> None:
    """New ledger rows from import records (named tuples): their `fields`, and `batch_id`, by
    the fast path of each backend, without SQLAlchemy's per-row work: COPY on PostgreSQL, the
    driver's executemany on SQLite. In the import's transaction."""
    if not records:
        return
    rows = records if tuple(fields) == records[0]._fields else list(map(attrgetter(*fields), records))
    names = ", ".join([*fields, "batch_id"])
    if conn.dialect.name == "postgresql":
        tail = (batch_id,)
        with conn.connection.driver_connection.cursor() as cur, \
                cur.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row + tail)
    else:
        marks = ", ".join(["?"] * len(fields))
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks}, {int(batch_id)})", rows)


def _differs(stored, record: tuple, fields: Sequence[str]) -> bool:
    return any(stored[f] != getattr(record, f) for f in fields)


def _values(record: tuple, fields: Sequence[str], **more) -> dict:
    return {f: getattr(record, f) for f in fields} | more


def upsert_loans(conn: Connection, batch_id: int, records: list[tuple]) -> Outcomes:
    """Loans and their borrowers: new ones inserted, changed ones updated."""
    people = {r.borrower_id: r for r in records}  # last row wins for a borrower in a batch
    stored_people = _existing(conn, borrowers, "borrower_id", people)
    stored_loans = _existing(conn, loans, "loan_id", (r.loan_id for r in records))

    new_people, changed_people = [], []
    for bid, r in people.items():
        if bid not in stored_people:
            new_people.append(r)
        elif _differs(stored_people[bid], r, BORROWER_FIELDS):
            changed_people.append(r)
    _insert_records(conn, borrowers, new_people, ("borrower_id", *BORROWER_FIELDS), batch_id)
    _update_many(conn, borrowers, ("borrower_id",),
                 [_values(r, ("borrower_id", *BORROWER_FIELDS), batch_id=batch_id) for r in changed_people])
    changed_ids = {p.borrower_id for p in changed_people}

    outcomes, new_loans, changed_loans = [], [], []
    for r in records:
        stored = stored_loans.get(r.loan_id)
        if stored is None:
            new_loans.append(r)
            outcomes.append(INSERTED)
        elif _differs(stored, r, LOAN_FIELDS):
            changed_loans.append(_values(r, ("loan_id", *LOAN_FIELDS), batch_id=batch_id))
            outcomes.append(UPDATED)
        else:  # what counts is what was written: the batch's last row for the borrower
            outcomes.append(UPDATED if r.borrower_id in changed_ids else UNCHANGED)
    _insert_records(conn, loans, new_loans, ("loan_id", *LOAN_FIELDS), batch_id)
    _update_many(conn, loans, ("loan_id",), changed_loans)
    return outcomes


def _unknown_loan(loan_id: str) -> str:
    return f"loan_id: unknown loan {loan_id!r} (import its loans file first)"


def upsert_installments(conn: Connection, batch_id: int, records: list[tuple]) -> Outcomes:
    """Schedule rows: a changed row is updated and its previous values kept in history."""
    known = known_loan_ids(conn, (r.loan_id for r in records))
    stored = {
        (row["loan_id"], row["seq"]): row
        for row in conn.execute(select(installments).where(_in(conn, installments.c.loan_id, known))).mappings()
    } if known else {}

    if not stored and known.issuperset(map(attrgetter("loan_id"), records)):  # all new: a first import
        _insert_records(conn, installments, records, ("loan_id", "seq", *INSTALLMENT_FIELDS), batch_id)
        return [INSERTED] * len(records)
    outcomes, new, changed, old = [], [], [], []
    for r in records:
        if r.loan_id not in known:
            outcomes.append(_unknown_loan(r.loan_id))
            continue
        before = stored.get((r.loan_id, r.seq))
        if before is None:
            new.append(r)
            outcomes.append(INSERTED)
        elif _differs(before, r, INSTALLMENT_FIELDS):
            changed.append(_values(r, ("loan_id", "seq", *INSTALLMENT_FIELDS), batch_id=batch_id))
            old.append({k: before[k] for k in ("loan_id", "seq", *INSTALLMENT_FIELDS, "batch_id")}
                       | {"replaced_by_batch_id": batch_id})
            outcomes.append(UPDATED)
        else:
            outcomes.append(UNCHANGED)
    _insert_many(conn, history, old)
    _insert_records(conn, installments, new, ("loan_id", "seq", *INSTALLMENT_FIELDS), batch_id)
    _update_many(conn, installments, ("loan_id", "seq"), changed)
    _retire_overridden_plans(conn, batch_id, old, records)
    return outcomes


def _retire_overridden_plans(conn: Connection, batch_id: int, replaced: list[dict], records: list[tuple]) -> None:
    """When the core system's file changes rows a restructuring plan wrote, its schedule is
    the one in force (it is the book of record): the plan's other rows, which the file does
    not have, go to history too, so no money is counted twice."""
    written_by = {(r["loan_id"], r["batch_id"]) for r in replaced}
    if not written_by:
        return
    plan_batches = set(conn.execute(select(batches.c.id).where(
        batches.c.kind == "plan", batches.c.id.in_(sorted({b for _, b in written_by})))).scalars())
    in_file: dict[str, set[int]] = {}
    for r in records:
        in_file.setdefault(r.loan_id, set()).add(r.seq)
    for loan_id in sorted({loan for loan, b in written_by if b in plan_batches}):
        stale = conn.execute(select(installments).where(
            installments.c.loan_id == loan_id, installments.c.batch_id.in_(sorted(plan_batches)),
            installments.c.seq.not_in(sorted(in_file[loan_id])))).mappings().all()
        _retire(conn, loan_id, stale, batch_id)


def _retire(conn: Connection, loan_id: str, rows, batch_id: int) -> None:
    """Move schedule rows to history, replaced by `batch_id`."""
    if not rows:
        return
    _insert_many(conn, history, [{k: g[k] for k in ("loan_id", "seq", *INSTALLMENT_FIELDS, "batch_id")}
                                 | {"replaced_by_batch_id": batch_id} for g in rows])
    conn.execute(installments.delete().where(installments.c.loan_id == loan_id,
                                             installments.c.seq.in_([g["seq"] for g in rows])))


def insert_payments(conn: Connection, batch_id: int, records: list[tuple]) -> Outcomes:
    """Payments are facts: a known payment_id with other values is a conflict, never an update."""
    known = known_loan_ids(conn, (r.loan_id for r in records))
    stored = _existing(conn, payments, "payment_id", (r.payment_id for r in records))
    if not stored and known.issuperset(map(attrgetter("loan_id"), records)):  # all new
        _insert_records(conn, payments, records, ("payment_id", *PAYMENT_FIELDS), batch_id)
        return [INSERTED] * len(records)
    outcomes, new = [], []
    for r in records:
        before = stored.get(r.payment_id)
        if before is not None:
            if _differs(before, r, PAYMENT_FIELDS):
                outcomes.append(
                    f"payment_id: conflict: {r.payment_id} is already recorded as "
                    f"{_payment_text(before)} (import batch {before['batch_id']}); this row says "
                    f"{_payment_text(r._asdict())}; a payment is never overwritten"
                )
            else:
                outcomes.append(UNCHANGED)
        elif r.loan_id not in known:
            outcomes.append(_unknown_loan(r.loan_id))
        else:
            new.append(r)
            outcomes.append(INSERTED)
    _insert_records(conn, payments, new, ("payment_id", *PAYMENT_FIELDS), batch_id)
    return outcomes


def _payment_text(p) -> str:
    return f"loan {p['loan_id']}, paid on {p['paid_on'].isoformat()}, amount {fmt(p['amount'])}"


WRITERS = {"loans": upsert_loans, "installments": upsert_installments, "payments": insert_payments}


# --- ledger reads for the engine ----------------------------------------------------------

def stream_loans(conn: Connection, as_of: date, *, product: str | None = None,
                 loan_ids: Sequence[str] | None = None) -> Iterator[Row]:
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
            borrowers.c.address, borrowers.c.locale, borrowers.c.timezone, paid.label("paid"),
        )
        .join(borrowers, borrowers.c.borrower_id == loans.c.borrower_id)
        .where(_loan_filter(as_of, product, loan_ids))
        .order_by(loans.c.loan_id)
    )
    # options on the statement: on the connection they would stay on for its later statements
    yield from conn.execute(stmt.execution_options(stream_results=True, yield_per=5000))


def stream_installments(conn: Connection, as_of: date, *, product: str | None = None,
                        loan_ids: Sequence[str] | None = None) -> Iterator[Row]:
    """The schedules of the same loans as `stream_loans`, in the same loan order."""
    stmt = (
        select(installments.c.loan_id, installments.c.seq, installments.c.due_on,
               installments.c.principal_due, installments.c.interest_due, installments.c.fee_due)
        .join(loans, loans.c.loan_id == installments.c.loan_id)
        .where(_loan_filter(as_of, product, loan_ids))
        .order_by(installments.c.loan_id, installments.c.due_on, installments.c.seq)
    )
    # options on the statement: on the connection they would stay on for its later statements
    yield from conn.execute(stmt.execution_options(stream_results=True, yield_per=5000))


def _loan_filter(as_of: date, product: str | None, loan_ids: Sequence[str] | None):
    conds = [loans.c.disbursed_on <= as_of]
    if product:
        conds.append(loans.c.product == product)
    if loan_ids is not None:
        conds.append(loans.c.loan_id.in_(list(loan_ids)))
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



# --- reminders: payments, holds, outbox ---------------------------------------------------

holds = Hold.__table__
outbox = OutboxMessage.__table__
events = OutboxEvent.__table__

RECORDED = ("queued", "sent", "failed", "skipped")  # a step in one of these is done for its episode
COUNTED = ("queued", "sent")  # what counts against the SMS frequency caps


def payments_of(conn: Connection, loan_ids: Sequence[str], as_of: date) -> dict[str, list[tuple[date, int]]]:
    out: dict[str, list[tuple[date, int]]] = {i: [] for i in loan_ids}
    if loan_ids:
        rows = conn.execute(select(payments.c.loan_id, payments.c.paid_on, payments.c.amount)
                            .where(payments.c.loan_id.in_(list(loan_ids)), payments.c.paid_on <= as_of))
        for loan_id, paid_on, amount in rows:
            out[loan_id].append((paid_on, amount))
    return out


def messages_of(conn: Connection, loan_ids: Sequence[str]) -> dict[str, dict[tuple[str, str], Row]]:
    """Per loan, its outbox rows by (step, episode)."""
    out: dict[str, dict[tuple[str, str], Row]] = {i: {} for i in loan_ids}
    if loan_ids:
        rows = conn.execute(select(outbox.c.id, outbox.c.loan_id, outbox.c.step, outbox.c.episode, outbox.c.status,
                                   outbox.c.reason).where(outbox.c.loan_id.in_(list(loan_ids))))
        for r in rows:
            out[r.loan_id][(r.step, r.episode)] = r
    return out


def active_holds(conn: Connection, loan_ids: Sequence[str], borrower_ids: Sequence[str],
                 on: date) -> dict[str, list[Row]]:
    """Holds in force on `on`, per loan; a borrower-wide hold (opt-out, bankruptcy, deceased,
    legal) placed on any loan of the borrower holds every loan of that borrower."""
    out: dict[str, list[Row]] = {i: [] for i in loan_ids}
    if not loan_ids:
        return out
    rows = conn.execute(
        select(holds).where(or_(holds.c.loan_id.in_(list(loan_ids)), holds.c.borrower_id.in_(list(borrower_ids))))
        .order_by(holds.c.id)
    ).all()
    latest: dict[tuple, Row] = {}
    for r in rows:  # the last action per (loan or, borrower-wide, borrower; reason; channel) decides
        owner = r.borrower_id if r.reason in BORROWER_WIDE else r.loan_id
        latest[(owner, r.reason, r.channel)] = r
    placed = [r for r in latest.values() if r.action == "place" and (r.until is None or r.until >= on)]
    loan_borrower = dict(conn.execute(select(loans.c.loan_id, loans.c.borrower_id)
                                      .where(loans.c.loan_id.in_(list(loan_ids)))).all())
    for loan_id, borrower_id in loan_borrower.items():
        out[loan_id] = [r for r in placed if r.loan_id == loan_id
                        or (r.reason in BORROWER_WIDE and r.borrower_id == borrower_id)]
    return out


def sms_counts(conn: Connection, borrower_ids: Sequence[str], first: date, last: date) -> dict[str, dict[date, int]]:
    """Automated SMS per borrower and local day between `first` and `last` (WHEN-5)."""
    out: dict[str, dict[date, int]] = {i: {} for i in borrower_ids}
    if borrower_ids:
        rows = conn.execute(
            select(outbox.c.borrower_id, outbox.c.send_on, func.count())
            .where(outbox.c.borrower_id.in_(list(borrower_ids)), outbox.c.channel == "sms",
                   outbox.c.status.in_(COUNTED), outbox.c.send_on.between(first, last))
            .group_by(outbox.c.borrower_id, outbox.c.send_on))
        for borrower_id, day, n in rows:
            out[borrower_id][day] = n
    return out


def insert_messages(conn: Connection, rows: list[dict]) -> list[Row]:
    """Insert new messages; a key another run inserted first is left alone (ON CONFLICT DO
    NOTHING), so concurrent runs queue each message once. Returns the rows inserted."""
    if not rows:
        return []
    stmt = (_upsert(conn, outbox).on_conflict_do_nothing(index_elements=["loan_id", "step", "episode"])
            .returning(outbox.c.id, outbox.c.loan_id, outbox.c.step, outbox.c.episode, outbox.c.status,
                       outbox.c.reason))
    return conn.execute(stmt, rows).all()  # batched ("insertmanyvalues"), one round trip per batch


def update_messages(conn: Connection, rows: list[dict]) -> None:
    """rows: {"id": …, column: value …}."""
    _update_many(conn, outbox, ("id",), rows)


def add_events(conn: Connection, rows: list[dict]) -> None:
    _insert_many(conn, events, rows)


def add_hold(conn: Connection, **row) -> None:
    conn.execute(insert(holds).values(**row))


def borrower_of(conn: Connection, loan_id: str) -> str | None:
    return conn.execute(select(loans.c.borrower_id).where(loans.c.loan_id == loan_id)).scalar()


def list_messages(conn: Connection, *, status: str | None = None, loan_id: str | None = None,
                  limit: int | None = None) -> list[Row]:
    stmt = select(outbox).order_by(outbox.c.id)
    if status:
        stmt = stmt.where(outbox.c.status == status)
    if loan_id:
        stmt = stmt.where(outbox.c.loan_id == loan_id)
    if limit:
        stmt = stmt.limit(limit)
    return conn.execute(stmt).all()


def due_messages(conn: Connection, now, *, channel: str | None, limit: int | None) -> list[Row]:
    stmt = (select(outbox).where(outbox.c.status == "queued", outbox.c.send_after <= now)
            .order_by(outbox.c.send_after, outbox.c.id))
    if channel:
        stmt = stmt.where(outbox.c.channel == channel)
    if limit:
        stmt = stmt.limit(limit)
    return conn.execute(stmt).all()


# --- collector workflow: contacts, promises, audit ------------------------------------------

contacts = Contact.__table__
promises = Promise.__table__
audit = AuditEntry.__table__


def add_contact(conn: Connection, **row) -> int:
    return conn.execute(insert(contacts).values(**row).returning(contacts.c.id)).scalar_one()


def contacts_between(conn: Connection, borrower_id: str, start, end) -> list[Row]:
    """The borrower's contacts with `start <= at < end` (UTC)."""
    return conn.execute(select(contacts).where(contacts.c.borrower_id == borrower_id,
                                               contacts.c.at >= start, contacts.c.at < end)).all()


def add_promise(conn: Connection, **row) -> int:
    return conn.execute(insert(promises).values(**row).returning(promises.c.id)).scalar_one()


def open_promises(conn: Connection, loan_ids: Sequence[str] | None = None) -> list[Row]:
    stmt = select(promises).where(promises.c.status == "open").order_by(promises.c.id)
    if loan_ids is not None:
        stmt = stmt.where(promises.c.loan_id.in_(list(loan_ids)))
    return conn.execute(stmt).all()


def list_promises(conn: Connection, *, status: str | None = None, loan_id: str | None = None) -> list[Row]:
    stmt = select(promises).order_by(promises.c.due_on, promises.c.id)
    if status:
        stmt = stmt.where(promises.c.status == status)
    if loan_id:
        stmt = stmt.where(promises.c.loan_id == loan_id)
    return conn.execute(stmt).all()


def settle_promises(conn: Connection, rows: list[dict]) -> None:
    """rows: {"id", "status", "paid", "evaluated_on"}."""
    _update_many(conn, promises, ("id",), rows)


def add_audit(conn: Connection, rows: list[dict]) -> None:
    _insert_many(conn, audit, rows)


def audit_entries(conn: Connection, loan_id: str | None = None) -> list[Row]:
    stmt = select(audit).order_by(audit.c.id)
    if loan_id:
        stmt = stmt.where(audit.c.loan_id == loan_id)
    return conn.execute(stmt).all()


def borrower_zone(conn: Connection, loan_id: str) -> tuple[str, str | None] | None:
    row = conn.execute(select(loans.c.borrower_id, borrowers.c.timezone)
                       .join(borrowers, borrowers.c.borrower_id == loans.c.borrower_id)
                       .where(loans.c.loan_id == loan_id)).first()
    return (row.borrower_id, row.timezone) if row else None


def contacts_of(conn: Connection, loan_ids: Sequence[str], since) -> dict[str, list[Row]]:
    """Per loan, its contacts at or after `since` (UTC), oldest first."""
    out: dict[str, list[Row]] = {i: [] for i in loan_ids}
    if loan_ids:
        rows = conn.execute(select(contacts).where(contacts.c.loan_id.in_(list(loan_ids)), contacts.c.at >= since)
                            .order_by(contacts.c.at, contacts.c.id))
        for r in rows:
            out[r.loan_id].append(r)
    return out


def promises_of(conn: Connection, loan_ids: Sequence[str]) -> dict[str, list[Row]]:
    return _per_loan(conn, promises, loan_ids)


def _per_loan(conn: Connection, table, loan_ids: Sequence[str]) -> dict[str, list[Row]]:
    """Per loan, its rows of `table`, oldest first."""
    out: dict[str, list[Row]] = {i: [] for i in loan_ids}
    if loan_ids:
        for r in conn.execute(select(table).where(table.c.loan_id.in_(list(loan_ids))).order_by(table.c.id)):
            out[r.loan_id].append(r)
    return out


def borrower_loan_ids(conn: Connection, loan_id: str) -> list[str]:
    """Every loan of the borrower of `loan_id` (empty when there is no such loan)."""
    owner = select(loans.c.borrower_id).where(loans.c.loan_id == loan_id).scalar_subquery()
    return list(conn.execute(select(loans.c.loan_id).where(loans.c.borrower_id == owner)
                             .order_by(loans.c.loan_id)).scalars())


def payments_list(conn: Connection, loan_ids: Sequence[str]) -> list[Row]:
    return conn.execute(select(payments).where(payments.c.loan_id.in_(list(loan_ids)))
                        .order_by(payments.c.paid_on, payments.c.payment_id)).all()


def holds_list(conn: Connection, loan_ids: Sequence[str]) -> list[Row]:
    return conn.execute(select(holds).where(holds.c.loan_id.in_(list(loan_ids))).order_by(holds.c.id)).all()


# --- assignments ------------------------------------------------------------------------------

assignments = Assignment.__table__


def assigned_on(conn: Connection, day: date) -> dict[str, str]:
    """loan_id -> agent for the day."""
    return dict(conn.execute(select(assignments.c.loan_id, assignments.c.agent).where(assignments.c.day == day)).all())


def claim(conn: Connection, rows: list[dict]) -> list[str]:
    """Insert assignments; one another taker claimed first is left to them (ON CONFLICT DO
    NOTHING on (day, loan)). Returns the loan ids this call got."""
    if not rows:
        return []
    stmt = _upsert(conn, assignments).on_conflict_do_nothing(index_elements=["day", "loan_id"]).returning(assignments.c.loan_id)
    return list(conn.execute(stmt, rows).scalars())


def notices_sent(conn: Connection, loan_ids: Sequence[str], steps: Sequence[str]) -> dict[str, object]:
    """Per loan, when the first message of `steps` was sent (naive UTC), if ever."""
    if not loan_ids or not steps:
        return {}
    rows = conn.execute(select(outbox.c.loan_id, func.min(outbox.c.updated_at))
                        .where(outbox.c.loan_id.in_(list(loan_ids)), outbox.c.step.in_(list(steps)),
                               outbox.c.status == "sent")
                        .group_by(outbox.c.loan_id))
    return dict(rows.all())


# --- escalations -------------------------------------------------------------------------------

escalations = Escalation.__table__


def add_escalation(conn: Connection, **row) -> None:
    conn.execute(insert(escalations).values(**row))


def current_stages(conn: Connection) -> dict[str, Row]:
    """Per loan, its latest escalation."""
    out: dict[str, Row] = {}
    for r in conn.execute(select(escalations).order_by(escalations.c.id)):
        out[r.loan_id] = r
    return out


def party_refused(conn: Connection, borrower_id: str, party: str) -> bool:
    """Whether this contact person of the borrower ever refused to help (WHO-2)."""
    stmt = select(func.count()).select_from(contacts).where(
        contacts.c.borrower_id == borrower_id, contacts.c.party == party, contacts.c.outcome == "refused")
    return conn.execute(stmt).scalar_one() > 0


# --- restructuring plans -------------------------------------------------------------------------

plans = Plan.__table__


def lock_loan(conn: Connection, loan_id: str) -> bool:
    """Lock the loan's row for this transaction (PostgreSQL; SQLite's writer lock is already
    whole-database once the caller wrote). False when there is no such loan."""
    return conn.execute(select(loans.c.loan_id).where(loans.c.loan_id == loan_id).with_for_update()).first() is not None


def replace_schedule(conn: Connection, loan_id: str, batch_id: int, records: list[tuple]) -> int:
    """Make `records` the loan's whole schedule: changed rows keep their old values in history
    (as an import does), rows it no longer has go to history too. Returns rows changed."""
    outcomes = upsert_installments(conn, batch_id, records)
    keep = [r.seq for r in records]
    gone = conn.execute(select(installments).where(installments.c.loan_id == loan_id,
                                                   installments.c.seq.not_in(keep))).mappings().all()
    _retire(conn, loan_id, gone, batch_id)
    return sum(o != UNCHANGED for o in outcomes) + len(gone)


def schedule_batches(conn: Connection, loan_ids: Sequence[str]) -> dict[str, set[int]]:
    """Per loan, the batches that wrote its schedule rows as they are now."""
    out: dict[str, set[int]] = {i: set() for i in loan_ids}
    for loan_id, batch_id in conn.execute(select(installments.c.loan_id, installments.c.batch_id).distinct()
                                          .where(installments.c.loan_id.in_(list(loan_ids)))):
        out[loan_id].add(batch_id)
    return out


def add_plan(conn: Connection, **row) -> int:
    return conn.execute(insert(plans).values(**row).returning(plans.c.id)).scalar_one()


def plans_of(conn: Connection, loan_ids: Sequence[str]) -> dict[str, list[Row]]:
    """Per loan, its plans, oldest first."""
    return _per_loan(conn, plans, loan_ids)


def planned_loan_ids(conn: Connection, part: tuple[str | None, str | None] = (None, None)) -> list[str]:
    """The loans with a restructuring plan of any date (lo <= loan_id < hi, as the database
    orders them, when `part` = (lo, hi))."""
    return sorted(conn.execute(_in_part(select(plans.c.loan_id).distinct(), plans, part)).scalars())


def _in_part(stmt, table, part: tuple[str | None, str | None]):
    """Only the rows of loans with lo <= loan_id < hi, in the database's own order."""
    lo, hi = part
    if lo is not None:
        stmt = stmt.where(table.c.loan_id >= lo)
    if hi is not None:
        stmt = stmt.where(table.c.loan_id < hi)
    return stmt


def latest_plans(conn: Connection, as_of: date, loan_ids: Sequence[str] | None = None) -> dict[str, Row]:
    """Per loan with a plan made by `as_of`, its latest plan."""
    stmt = select(plans).where(plans.c.plan_on <= as_of).order_by(plans.c.id)
    if loan_ids is not None:
        stmt = stmt.where(plans.c.loan_id.in_(list(loan_ids)))
    return {r.loan_id: r for r in conn.execute(stmt)}


def plans_after(conn: Connection, as_of: date, loan_ids: Sequence[str] | None = None) -> dict[str, list[int]]:
    """Per loan, the schedule batches of its plans made after `as_of`, newest first."""
    stmt = select(plans.c.loan_id, plans.c.batch_id).where(plans.c.plan_on > as_of).order_by(plans.c.id.desc())
    if loan_ids is not None:
        stmt = stmt.where(plans.c.loan_id.in_(list(loan_ids)))
    out: dict[str, list[int]] = {}
    for loan_id, batch_id in conn.execute(stmt):
        out.setdefault(loan_id, []).append(batch_id)
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


# --- analytics: the book as day numbers, for replays on many dates -------------------------------

def _day(conn: Connection, column):
    """A date column as its day number (date.toordinal()), computed by the database: the
    analytics loops compare integers, and no driver has to build a million date objects."""
    if conn.dialect.name == "sqlite":
        return cast(func.julianday(column) - 1721424.5, Integer)
    return cast(column - literal_column("DATE '0001-01-01'"), Integer) + 1


def stream_ledger_rows(conn: Connection, *, product: str | None = None,
                       part: tuple[str | None, str | None] = (None, None)) -> tuple[Iterator[tuple], ...]:
    """Three streams of plain tuples in loan_id order: loans (loan_id, borrower_id, product,
    disbursed day, principal), schedule rows (loan_id, due day, principal, interest + fees) in
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
                                      _day(conn, loans.c.disbursed_on), loans.c.principal), loans)
                    .order_by(loans.c.loan_id)),
        _raw_stream(conn, only(select(installments.c.loan_id, _day(conn, installments.c.due_on),
                                      installments.c.principal_due,
                                      installments.c.interest_due + installments.c.fee_due), installments)
                    .order_by(installments.c.loan_id, installments.c.seq)),
        _raw_stream(conn, only(select(payments.c.loan_id, _day(conn, payments.c.paid_on), payments.c.amount),
                               payments)
                    .order_by(payments.c.loan_id, payments.c.paid_on)),
    )


def count_loans(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(loans)).scalar_one()


def loan_ids_at(conn: Connection, positions: Sequence[int]) -> list[str]:
    """The loan ids at these positions in loan_id order: where to cut the book into parts."""
    return [conn.execute(select(loans.c.loan_id).order_by(loans.c.loan_id).offset(n).limit(1)).scalar_one()
            for n in positions]


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


# --- activity over a period (analyst reports) ------------------------------------------------------

def _of_product(stmt, table, product: str | None):
    """Only the rows of loans of `product`, when given."""
    if not product:
        return stmt
    return stmt.where(table.c.loan_id.in_(select(loans.c.loan_id).where(loans.c.product == product)))


def promises_made(conn: Connection, start: date, end: date, product: str | None = None) -> list[Row]:
    stmt = select(promises).where(promises.c.made_on >= start, promises.c.made_on <= end).order_by(promises.c.id)
    return conn.execute(_of_product(stmt, promises, product)).all()


def messages_between(conn: Connection, start: date, end: date, product: str | None = None) -> list[Row]:
    """The outbox messages of the nightly runs as of `start` to `end`."""
    stmt = select(outbox.c.loan_id, outbox.c.step, outbox.c.channel, outbox.c.status, outbox.c.reason).where(
        outbox.c.as_of >= start, outbox.c.as_of <= end)
    return conn.execute(_of_product(stmt, outbox, product)).all()


def contacts_in(conn: Connection, since, until, product: str | None = None) -> list[Row]:
    """Contacts with `since <= at < until` (naive UTC), oldest first."""
    stmt = select(contacts).where(contacts.c.at >= since, contacts.c.at < until).order_by(contacts.c.at, contacts.c.id)
    return conn.execute(_of_product(stmt, contacts, product)).all()


def borrower_loan_counts(conn: Connection, as_of: date, borrower_ids: Sequence[str]) -> tuple[dict, dict]:
    """Per borrower: loans open on `as_of` (disbursed, not paid off) and, of those, past due
    (paid less than what fell due before `as_of`, as in late_loan_ids); per loan over the indexes."""
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
    rows = conn.execute(select(loans.c.borrower_id, paid, due_all, fell_due)
                        .where(loans.c.borrower_id.in_(list(borrower_ids)), loans.c.disbursed_on <= as_of))
    for borrower_id, p, total, due in rows:
        if p < total:
            opened[borrower_id] += 1
            behind[borrower_id] += p < due
    return opened, behind
