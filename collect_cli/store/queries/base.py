"""The tables and the helpers every query module shares: keys sent as one parameter,
batched updates and inserts, per-loan grouping."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from sqlalchemy import (
    Connection,
    Row,
    String,
    Text,
    and_,
    bindparam,
    false,
    func,
    insert,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.sql import operators
from sqlalchemy.sql.expression import UnaryExpression

from collect_cli.store.models import (
    AgencyEvaluation,
    AgencyVersion,
    Assignment,
    AuditEntry,
    Borrower,
    BureauRecord,
    Case,
    CaseEvent,
    Contact,
    ContactPerson,
    Escalation,
    Hold,
    ImportBatch,
    Installment,
    InstallmentHistory,
    LegalCase,
    LegalEvent,
    Loan,
    LoanEvent,
    NumberConfirmation,
    OutboxEvent,
    OutboxMessage,
    OutboxVersion,
    Payment,
    Placement,
    PlacementEvent,
    Plan,
    Promise,
    RunPart,
    ScheduleChange,
    StoreFact,
    Waiver,
    WaiverOutcome,
)

batches = ImportBatch.__table__
borrowers = Borrower.__table__
loans = Loan.__table__
loan_events = LoanEvent.__table__
installments = Installment.__table__
history = InstallmentHistory.__table__
payments = Payment.__table__
holds = Hold.__table__
outbox = OutboxMessage.__table__
events = OutboxEvent.__table__
versions = OutboxVersion.__table__
contacts = Contact.__table__
promises = Promise.__table__
audit = AuditEntry.__table__
assignments = Assignment.__table__
escalations = Escalation.__table__
plans = Plan.__table__
persons = ContactPerson.__table__
confirmations = NumberConfirmation.__table__
facts = StoreFact.__table__
bureau_records = BureauRecord.__table__
schedule_changes = ScheduleChange.__table__
waivers = Waiver.__table__
waiver_outcomes = WaiverOutcome.__table__
run_parts = RunPart.__table__
cases = Case.__table__
case_events = CaseEvent.__table__
agency_versions = AgencyVersion.__table__
agency_evaluations = AgencyEvaluation.__table__
placements = Placement.__table__
placement_events = PlacementEvent.__table__
legal_cases = LegalCase.__table__
legal_events = LegalEvent.__table__

Part = tuple[str | None, str | None]  # the loans with lo <= loan_id < hi; None: no bound
WHOLE: Part = (None, None)


def entered_by(table, known_by):
    """The rows of a record table entered by `known_by` (naive UTC), on the clock the command
    acted on: what a view of a past day may show (REC-4). None: every row."""
    if known_by is None:
        return true()
    if table is promises:  # a promise is entered with its contact
        return table.c.contact_id.in_(select(contacts.c.id).where(contacts.c.logged_at <= known_by))
    return table.c[ENTERED_AT.get(table.name, "at")] <= known_by


ENTERED_AT = {"contacts": "logged_at", "outbox": "created_at"}  # when a row was entered; elsewhere `at`


def _in(conn: Connection, column, keys: Iterable):
    """`column IN keys`, as each backend takes a batch's keys best. PostgreSQL: `= ANY` of one
    array parameter, so the statement's text is the same for every batch (psycopg and the
    server parse it once; an IN list of 500 placeholders was compiled, parsed and planned
    anew each time: a quarter of the queue's time). SQLite: an IN list up to 1,000 keys,
    beyond that the keys as one JSON parameter read by json_each (no limit on placeholders).
    A None key is left out: NULL is in no list in SQL either."""
    keys = sorted({k for k in keys if k is not None})
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY
        # text[] for a string key, not varchar(n)[]: a cast to varchar(n) would cut a longer key
        # to n characters, and then match the key it begins with
        item = Text() if isinstance(column.type, String) else column.type
        return column == func.any(bindparam(None, keys, type_=ARRAY(item)))
    if len(keys) <= 1000:
        return column.in_(keys)
    return column.in_(select(literal_column("value")).select_from(func.json_each(bindparam(None, json.dumps(keys)))))


def _unindexed(conn: Connection, column):
    """`column`, so that SQLite's planner does not drive the query by an index on it (SQL's
    unary +). SQLite has no statistics until ANALYZE, and prefers an index's range to an OR
    of key lookups that would touch a few rows; PostgreSQL chooses by its statistics."""
    if conn.dialect.name == "postgresql":
        return column
    return UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)


def _existing(conn: Connection, table, key: str, values: Iterable) -> dict:
    keys = set(values)
    if not keys:
        return {}
    rows = conn.execute(select(table).where(_in(conn, table.c[key], keys))).mappings()
    return {r[key]: r for r in rows}


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


def _with_steps(conn: Connection, records: list[Row], steps, key, known_by) -> list[tuple[Row, list[Row]]]:
    """Each record (a case, a placement, a legal case) with its steps in the table `steps`,
    whose column `key` names the record, in the order they were written; one query."""
    found: dict[int, list[Row]] = {r.id: [] for r in records}
    if records:
        for e in conn.execute(select(steps).where(_in(conn, key, list(found)), entered_by(steps, known_by))
                              .order_by(steps.c.id)):
            found[getattr(e, key.name)].append(e)
    return [(r, found[r.id]) for r in records]


def _insert_many(conn: Connection, table, rows: list[dict]) -> None:
    if rows:
        conn.execute(insert(table), rows)


def borrower_of(conn: Connection, loan_id: str) -> str | None:
    return conn.execute(select(loans.c.borrower_id).where(loans.c.loan_id == loan_id)).scalar()


def borrower_zone(conn: Connection, loan_id: str) -> tuple[str, str | None] | None:
    row = conn.execute(select(loans.c.borrower_id, borrowers.c.timezone)
                       .join(borrowers, borrowers.c.borrower_id == loans.c.borrower_id)
                       .where(loans.c.loan_id == loan_id)).first()
    return (row.borrower_id, row.timezone) if row else None


def _per_loan(conn: Connection, table, loan_ids: Sequence[str], known_by=None, columns=None) -> dict[str, list[Row]]:
    """Per loan, its rows of `table` (entered by `known_by`), oldest first."""
    out: dict[str, list[Row]] = {i: [] for i in loan_ids}
    if loan_ids:
        stmt = select(*(columns or [table])).where(_in(conn, table.c.loan_id, loan_ids), entered_by(table, known_by))
        for r in conn.execute(stmt.order_by(table.c.id)):
            out[r.loan_id].append(r)
    return out


def _of_products(column, products: tuple[frozenset[str], bool], *, negate: bool = False):
    """`column` (a loan's product) is one of `products` = (names, all_but): those named, or
    every product but those (a missing product included); with `negate`, it is not."""
    names, all_but = products
    named = column.in_(sorted(names)) if names else false()
    unnamed = or_(~named, column.is_(None))
    if negate:
        return and_(named, column.is_not(None)) if all_but else unnamed
    return unnamed if all_but else named


def within(part: Part, loan_id: str) -> bool:
    """Whether the loan is in the range `part`, as _in_part selects it."""
    lo, hi = part
    return (lo is None or lo <= loan_id) and (hi is None or loan_id < hi)


def _in_range(column, part: Part) -> list:
    """The conditions lo <= column < hi of the range (none for an open end)."""
    lo, hi = part
    return [*([column >= lo] if lo is not None else []), *([column < hi] if hi is not None else [])]


def _in_part(stmt, table, part: Part):
    """Only the rows of loans with lo <= loan_id < hi, in the database's own order."""
    return stmt.where(*_in_range(table.c.loan_id, part))
