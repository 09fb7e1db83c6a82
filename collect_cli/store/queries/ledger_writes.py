"""The ledger's writes: import batches, set-based upserts of each kind of ledger file, the
schedules restructuring plans write, and the statistics a bulk write leaves stale."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from operator import attrgetter

from sqlalchemy import Connection, Row, insert, select, text, union_all, update

from collect_cli.domain.loan_events import LoanEvent, overlap, pauses_of
from collect_cli.domain.money import fmt
from collect_cli.store.queries.base import (
    _existing,
    _in,
    _insert_many,
    _update_many,
    batches,
    borrowers,
    events,
    history,
    installments,
    loan_events,
    loans,
    outbox,
    payments,
    plans,
    schedule_changes,
    versions,
)

BORROWER_FIELDS = ("name", "phone", "email", "push_id", "address", "locale", "timezone")


LOAN_FIELDS = ("borrower_id", "principal", "disbursed_on", "annual_rate_ppm", "product")


INSTALLMENT_FIELDS = ("due_on", "principal_due", "interest_due", "fee_due")


PAYMENT_FIELDS = ("loan_id", "paid_on", "amount")  # what a payment is: another value of them is a conflict
PAYMENT_COLUMNS = ("payment_id", *PAYMENT_FIELDS, "link_ref")  # what an import writes


# An outcome per record: "inserted", "updated", "unchanged", or the reason it was rejected.
Outcomes = list[str]


INSERTED, UPDATED, UNCHANGED = "inserted", "updated", "unchanged"


WRITTEN = frozenset((INSERTED, UPDATED, UNCHANGED))


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


# the tables an import of each kind writes (the batch rows too), and the nightly run ("outbox"):
# what a bulk write leaves statistics stale on
KIND_TABLES = {"loans": (loans, borrowers), "installments": (installments, history, schedule_changes),
               "payments": (payments,), "reversals": (payments,), "loan_events": (loan_events,),
               "outbox": (outbox, events, versions)}


def refresh_statistics(conn: Connection, kinds: Iterable[str]) -> list[str]:
    """ANALYZE the tables imports of these kinds wrote, on PostgreSQL, so that the next
    queries are planned on the rows now there: its autovacuum may be off, or not have come
    round yet, when the nightly run starts after a bulk import, and plans made on the
    estimates of an empty table are nested loops over millions of rows. SQLite plans by
    indexes and needs none. Returns the tables analyzed."""
    if conn.dialect.name != "postgresql":
        return []
    names = sorted({t.name for k in kinds for t in (*KIND_TABLES.get(k, ()), batches)})
    _analyze(conn, names)
    return names


def _analyze(conn: Connection, names: Iterable[str], *, skip_locked: bool = False) -> None:
    """ANALYZE collect's own tables by name (from the models, never input). `skip_locked`:
    leave a table another session is analyzing now."""
    option = "(SKIP_LOCKED) " if skip_locked else ""
    for name in names:
        conn.exec_driver_sql(f'ANALYZE {option}"{name}"')


class GrowingTables:
    """For a job that writes many rows into tables it reads back by key as it goes (the
    nightly run's outbox; an import's installments, which each batch reads back to compare):
    ANALYZE them, on PostgreSQL, each time the rows the job wrote since the last ANALYZE reach
    what the planner then knew of (at least `least`), so its own lookups are planned on tables
    of the size they have now. A table never analyzed is estimated with default
    selectivities, and each batch's lookup by loan ids became a sequential scan of everything
    written so far: quadratic over the job (the first night of a 1M-loan book on PostgreSQL:
    over 10 minutes, against 287 s on SQLite; a 10M-loan import: a scan of gigabytes of
    installments per batch). Doubling keeps it to a few ANALYZEs a job. SQLite plans by its
    indexes and needs none.

    `in_transaction`: the job writes in one transaction (a file's import); ANALYZE runs in it,
    where it counts the transaction's own rows, and its statistics serve the lookups that
    follow in it. Otherwise each ANALYZE is a transaction of its own, of committed rows."""

    def __init__(self, conn: Connection, kind: str, least: int = 10_000, in_transaction: bool = False):
        self.tables = [t.name for t in KIND_TABLES[kind]] if conn.dialect.name == "postgresql" else []
        self.least, self.written, self.known, self.in_transaction = least, 0, 0, in_transaction
        if self.tables:  # the rows the planner knows of; reltuples is -1 for a table never analyzed
            read = text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name)")
            if in_transaction:
                known = conn.execute(read, {"name": self.tables[0]}).scalar()
            else:
                with conn.begin():
                    known = conn.execute(read, {"name": self.tables[0]}).scalar()
            self.known = max(0, int(known or 0))

    def wrote(self, conn: Connection, rows: int) -> bool:
        """Count `rows` written by the job; ANALYZE when they reach the mark. True when it analyzed."""
        self.written += rows
        if not self.tables or self.written < max(self.known, self.least):
            return False
        if self.in_transaction:
            _analyze(conn, self.tables)
        else:
            with conn.begin():  # a worker beside this one analyzing them already: let it
                _analyze(conn, self.tables, skip_locked=True)
        self.known, self.written = self.known + self.written, 0
        return True


def known_loan_ids(conn: Connection, loan_ids: Iterable[str]) -> set[str]:
    ids = set(loan_ids)
    if not ids:
        return set()
    return set(conn.execute(select(loans.c.loan_id).where(_in(conn, loans.c.loan_id, ids))).scalars())


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
        _insert_records(conn, payments, records, PAYMENT_COLUMNS, batch_id)
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
    _insert_records(conn, payments, new, PAYMENT_COLUMNS, batch_id)
    return outcomes


def _payment_text(p) -> str:
    return f"loan {p['loan_id']}, paid on {p['paid_on'].isoformat()}, amount {fmt(p['amount'])}"


def reversal_id(payment_id: str) -> str:
    """The id of a reversal the core system gave none: the payment's, marked (a key is at
    most 64 characters, so a long one is hashed)."""
    from hashlib import sha256
    return f"R-{payment_id}" if len(payment_id) <= 62 else f"R-{sha256(payment_id.encode()).hexdigest()[:40]}"


def insert_reversals(conn: Connection, batch_id: int, records: list[tuple]) -> Outcomes:
    """Each reversal becomes a payments row of its own that `reverses` the payment: its amount
    negated, dated the day of the reversal. A payment is reversed once; the same reversal
    again changes nothing, another one is a conflict."""
    ids = {r.payment_id for r in records}
    originals = _existing(conn, payments, "payment_id", ids)
    done = {r["reverses"]: r for r in conn.execute(select(payments).where(_in(conn, payments.c.reverses, ids)))
            .mappings()}
    taken = _existing(conn, payments, "payment_id", (r.reversal_id or reversal_id(r.payment_id) for r in records))
    outcomes, new = [], []
    for r in records:
        own_id = r.reversal_id or reversal_id(r.payment_id)
        paid, before = originals.get(r.payment_id), done.get(r.payment_id)
        if paid is None:
            outcomes.append(f"payment_id: unknown payment {r.payment_id!r} (import its payments file first)")
        elif paid["reverses"] is not None:
            outcomes.append(f"payment_id: {r.payment_id} is itself the reversal of {paid['reverses']}; "
                            "a reversal is not reversed (import the payment again under a new payment_id)")
        elif before is not None:
            if (before["payment_id"], before["paid_on"]) == (own_id, r.reversed_on):
                outcomes.append(UNCHANGED)
            else:
                outcomes.append(f"payment_id: conflict: {r.payment_id} was already reversed on "
                                f"{before['paid_on'].isoformat()} (reversal {before['payment_id']}, import batch "
                                f"{before['batch_id']}); this row says {r.reversed_on.isoformat()} ({own_id})")
        elif r.loan_id is not None and r.loan_id != paid["loan_id"]:
            outcomes.append(f"loan_id: payment {r.payment_id} is on loan {paid['loan_id']}, not {r.loan_id}")
        elif r.amount is not None and r.amount != paid["amount"]:
            outcomes.append(f"amount: payment {r.payment_id} is of {fmt(paid['amount'])}, not {fmt(r.amount)}; a "
                            "reversal undoes a whole payment (a partial correction is a new payment)")
        elif r.reversed_on < paid["paid_on"]:
            outcomes.append(f"reversed_on: {r.reversed_on.isoformat()} is before the payment was made "
                            f"({paid['paid_on'].isoformat()})")
        elif own_id in taken:
            outcomes.append(f"reversal_id: {own_id} is already the id of another payment")
        else:
            taken[own_id] = True
            new.append({"payment_id": own_id, "loan_id": paid["loan_id"], "paid_on": r.reversed_on,
                        "amount": -paid["amount"], "reverses": r.payment_id, "reason": r.reason,
                        "batch_id": batch_id})
            outcomes.append(INSERTED)
    _insert_many(conn, payments, new)
    return outcomes


EVENT_FIELDS = ("event", "event_on", "until", "amount", "party", "reason")
ONCE = {"write_off": "written off", "transfer": "transferred", "settle": "settled early"}


def insert_loan_events(conn: Connection, batch_id: int, records: list[tuple]) -> Outcomes:
    """Loan events are facts, each judged against the loan's events before it: a loan is
    written off, transferred and settled once at most; pauses never overlap; a resume ends a
    pause in force; nothing follows a transfer (the loan is the new creditor's) or a
    settlement (it is closed)."""
    ids = {r.loan_id for r in records}
    disbursed = dict(conn.execute(select(loans.c.loan_id, loans.c.disbursed_on)
                                  .where(_in(conn, loans.c.loan_id, ids))).all()) if ids else {}
    stored: dict[str, list] = defaultdict(list)
    for row in conn.execute(select(loan_events).where(_in(conn, loan_events.c.loan_id, ids))
                            .order_by(loan_events.c.id)).mappings():
        stored[row["loan_id"]].append(row)
    outcomes, new = [], []
    for r in records:
        outcome = _event_outcome(r, disbursed.get(r.loan_id), stored[r.loan_id])
        if outcome == INSERTED:
            new.append(_values(r, ("loan_id", *EVENT_FIELDS), batch_id=batch_id))
        outcomes.append(outcome)
    _insert_many(conn, loan_events, new)
    return outcomes


def _event_outcome(r, disbursed_on: date | None, before: list) -> str:
    if disbursed_on is None:
        return _unknown_loan(r.loan_id)
    same = next((e for e in before if (e["event"], e["event_on"]) == (r.event, r.event_on)), None)
    if same is not None:
        if not _differs(same, r, EVENT_FIELDS):
            return UNCHANGED
        return (f"event: conflict: loan {r.loan_id} has a {r.event} on {r.event_on.isoformat()} already (import "
                f"batch {same['batch_id']}) with other values; an event is never overwritten")
    if r.event_on < disbursed_on:
        return f"event_on: {r.event_on.isoformat()} is before the loan was disbursed ({disbursed_on.isoformat()})"
    if r.event in ONCE:
        twice = next((e for e in before if e["event"] == r.event), None)
        if twice is not None:
            return f"event: loan {r.loan_id} was already {ONCE[r.event]} on {twice['event_on'].isoformat()}"
    ended = next((e for e in before if e["event"] in ("transfer", "settle")), None)
    if ended is not None and r.event_on >= ended["event_on"]:
        if ended["event"] == "transfer":
            return (f"event_on: the loan was transferred to {ended['party']} on {ended['event_on'].isoformat()}; "
                    "what happens to it from then is the new creditor's")
        return f"event_on: the loan was settled early on {ended['event_on'].isoformat()}: it is closed"
    if r.event in ("transfer", "settle") and (later := [e for e in before if e["event_on"] > r.event_on]):
        return (f"event_on: the loan has a {later[0]['event']} on {later[0]['event_on'].isoformat()}, after this "
                f"{r.event}; nothing follows a transfer or a settlement")
    known = pauses_of(LoanEvent(**{f: e[f] for f in EVENT_FIELDS}) for e in before)
    if r.event == "pause" and (other := overlap(known, r.event_on, r.until)):
        return (f"event_on: the pause {r.event_on.isoformat()}..{r.until.isoformat()} overlaps the pause "
                f"{other.start.isoformat()}..{other.end.isoformat()}; pauses never overlap")
    if r.event == "resume" and not any(p.start <= r.event_on < p.end for p in known):
        return f"event_on: no pause of loan {r.loan_id} is in force on {r.event_on.isoformat()} to resume"
    return INSERTED


WRITERS = {"loans": upsert_loans, "installments": upsert_installments, "payments": insert_payments,
           "reversals": insert_reversals, "loan_events": insert_loan_events}


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


def add_plan(conn: Connection, **row) -> int:
    return conn.execute(insert(plans).values(**row).returning(plans.c.id)).scalar_one()


def add_schedule_changes(conn: Connection, batch_id: int, effective_on: date, kind: str) -> list[str]:
    """Date the schedule rows `batch_id` wrote, replaced or retired: a schedule change of each
    loan it touched, effective on `effective_on`. Returns those loans."""
    touched = sorted(set(conn.execute(union_all(
        select(installments.c.loan_id).where(installments.c.batch_id == batch_id),
        select(history.c.loan_id).where(history.c.replaced_by_batch_id == batch_id))).scalars()))
    _insert_many(conn, schedule_changes, [{"loan_id": i, "batch_id": batch_id, "effective_on": effective_on,
                                           "kind": kind} for i in touched])
    return touched


def retire_missing(conn: Connection, batch_id: int, seqs: dict[str, set[int]]) -> int:
    """Of each loan of `seqs`, the schedule rows whose seq is not there go to history, replaced
    by `batch_id` (a complete schedule: what it lacks is no longer due). Returns rows retired."""
    retired = 0
    for first in range(0, len(seqs), 1000):
        ids = sorted(seqs)[first:first + 1000]
        rows = conn.execute(select(installments).where(installments.c.loan_id.in_(ids))).mappings().all()
        by_loan = defaultdict(list)
        for r in rows:
            if r["seq"] not in seqs[r["loan_id"]]:
                by_loan[r["loan_id"]].append(r)
        for loan_id, gone in by_loan.items():
            _retire(conn, loan_id, gone, batch_id)
            retired += len(gone)
    return retired
