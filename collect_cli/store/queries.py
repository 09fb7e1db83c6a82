"""All SQL of collect, in one place: set-based import writes and streamed ledger reads.

Every function takes an open Connection inside the caller's transaction and works on a
batch of records at a time: one query per batch, never one per ledger row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date

from sqlalchemy import Connection, Row, and_, bindparam, func, insert, literal, select, update

from collect_cli.domain.money import fmt
from collect_cli.store.models import (
    Borrower,
    ImportBatch,
    Installment,
    InstallmentHistory,
    Loan,
    Payment,
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

def _existing(conn: Connection, table, key: str, values: Iterable) -> dict:
    keys = sorted(set(values))
    if not keys:
        return {}
    rows = conn.execute(select(table).where(table.c[key].in_(keys))).mappings()
    return {r[key]: r for r in rows}


def known_loan_ids(conn: Connection, loan_ids: Iterable[str]) -> set[str]:
    ids = sorted(set(loan_ids))
    if not ids:
        return set()
    return set(conn.execute(select(loans.c.loan_id).where(loans.c.loan_id.in_(ids))).scalars())


def _update_many(conn: Connection, table, keys: Sequence[str], rows: list[dict]) -> None:
    if not rows:
        return
    where = and_(*(table.c[k] == bindparam(f"k_{k}") for k in keys))
    params = [{**{f"k_{k}": r[k] for k in keys}, **{c: v for c, v in r.items() if c not in keys}}
              for r in rows]
    conn.execute(update(table).where(where), params)


def _insert_many(conn: Connection, table, rows: list[dict]) -> None:
    if rows:
        conn.execute(insert(table), rows)


def _differs(stored, record: dict, fields: Sequence[str]) -> bool:
    return any(stored[f] != record[f] for f in fields)


def upsert_loans(conn: Connection, batch_id: int, records: list[dict]) -> Outcomes:
    """Loans and their borrowers: new ones inserted, changed ones updated."""
    people = {r["borrower_id"]: r for r in records}  # last row wins for a borrower in a batch
    stored_people = _existing(conn, borrowers, "borrower_id", people)
    stored_loans = _existing(conn, loans, "loan_id", (r["loan_id"] for r in records))

    new_people, changed_people = [], []
    for bid, r in people.items():
        row = {"borrower_id": bid, **{f: r[f] for f in BORROWER_FIELDS}, "batch_id": batch_id}
        if bid not in stored_people:
            new_people.append(row)
        elif _differs(stored_people[bid], r, BORROWER_FIELDS):
            changed_people.append(row)
    _insert_many(conn, borrowers, new_people)
    _update_many(conn, borrowers, ("borrower_id",), changed_people)
    changed_ids = {p["borrower_id"] for p in changed_people}

    outcomes, new_loans, changed_loans = [], [], []
    for r in records:
        row = {"loan_id": r["loan_id"], **{f: r[f] for f in LOAN_FIELDS}, "batch_id": batch_id}
        stored = stored_loans.get(r["loan_id"])
        if stored is None:
            new_loans.append(row)
            outcomes.append(INSERTED)
        elif _differs(stored, r, LOAN_FIELDS):
            changed_loans.append(row)
            outcomes.append(UPDATED)
        else:  # what counts is what was written: the batch's last row for the borrower
            outcomes.append(UPDATED if r["borrower_id"] in changed_ids else UNCHANGED)
    _insert_many(conn, loans, new_loans)
    _update_many(conn, loans, ("loan_id",), changed_loans)
    return outcomes


def _unknown_loan(loan_id: str) -> str:
    return f"loan_id: unknown loan {loan_id!r} (import its loans file first)"


def upsert_installments(conn: Connection, batch_id: int, records: list[dict]) -> Outcomes:
    """Schedule rows: a changed row is updated and its previous values kept in history."""
    known = known_loan_ids(conn, (r["loan_id"] for r in records))
    stored = {
        (row["loan_id"], row["seq"]): row
        for row in conn.execute(
            select(installments).where(installments.c.loan_id.in_(sorted(known)))
        ).mappings()
    } if known else {}

    outcomes, new, changed, old = [], [], [], []
    for r in records:
        if r["loan_id"] not in known:
            outcomes.append(_unknown_loan(r["loan_id"]))
            continue
        row = {**r, "batch_id": batch_id}
        before = stored.get((r["loan_id"], r["seq"]))
        if before is None:
            new.append(row)
            outcomes.append(INSERTED)
        elif _differs(before, r, INSTALLMENT_FIELDS):
            changed.append(row)
            old.append({k: before[k] for k in ("loan_id", "seq", *INSTALLMENT_FIELDS, "batch_id")}
                       | {"replaced_by_batch_id": batch_id})
            outcomes.append(UPDATED)
        else:
            outcomes.append(UNCHANGED)
    _insert_many(conn, history, old)
    _insert_many(conn, installments, new)
    _update_many(conn, installments, ("loan_id", "seq"), changed)
    return outcomes


def insert_payments(conn: Connection, batch_id: int, records: list[dict]) -> Outcomes:
    """Payments are facts: a known payment_id with other values is a conflict, never an update."""
    known = known_loan_ids(conn, (r["loan_id"] for r in records))
    stored = _existing(conn, payments, "payment_id", (r["payment_id"] for r in records))
    outcomes, new = [], []
    for r in records:
        before = stored.get(r["payment_id"])
        if before is not None:
            if _differs(before, r, PAYMENT_FIELDS):
                outcomes.append(
                    f"payment_id: conflict: {r['payment_id']} is already recorded as "
                    f"{_payment_text(before)} (import batch {before['batch_id']}); this row says "
                    f"{_payment_text(r)}; a payment is never overwritten"
                )
            else:
                outcomes.append(UNCHANGED)
        elif r["loan_id"] not in known:
            outcomes.append(_unknown_loan(r["loan_id"]))
        else:
            new.append({**r, "batch_id": batch_id})
            outcomes.append(INSERTED)
    _insert_many(conn, payments, new)
    return outcomes


def _payment_text(p) -> str:
    return f"loan {p['loan_id']}, paid on {p['paid_on'].isoformat()}, amount {fmt(p['amount'])}"


WRITERS = {"loans": upsert_loans, "installments": upsert_installments, "payments": insert_payments}


# --- ledger reads for the engine ----------------------------------------------------------

def stream_loans(conn: Connection, as_of: date, *, product: str | None = None,
                 loan_ids: Sequence[str] | None = None) -> Iterator[Row]:
    """Loans disbursed by `as_of`, with borrower and the sum paid up to `as_of`, by loan_id."""
    paid = (
        select(payments.c.loan_id, func.sum(payments.c.amount).label("paid"))
        .where(payments.c.paid_on <= as_of)
        .group_by(payments.c.loan_id)
        .subquery()
    )
    stmt = (
        select(
            loans.c.loan_id, loans.c.borrower_id, loans.c.principal, loans.c.disbursed_on,
            loans.c.product, borrowers.c.name, borrowers.c.phone, borrowers.c.email,
            borrowers.c.address, borrowers.c.locale, borrowers.c.timezone,
            func.coalesce(paid.c.paid, literal(0)).label("paid"),
        )
        .join(borrowers, borrowers.c.borrower_id == loans.c.borrower_id)
        .outerjoin(paid, paid.c.loan_id == loans.c.loan_id)
        .where(_loan_filter(as_of, product, loan_ids))
        .order_by(loans.c.loan_id)
    )
    yield from conn.execution_options(stream_results=True, yield_per=5000).execute(stmt)


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
    yield from conn.execution_options(stream_results=True, yield_per=5000).execute(stmt)


def _loan_filter(as_of: date, product: str | None, loan_ids: Sequence[str] | None):
    conds = [loans.c.disbursed_on <= as_of]
    if product:
        conds.append(loans.c.product == product)
    if loan_ids is not None:
        conds.append(loans.c.loan_id.in_(list(loan_ids)))
    return and_(*conds)

