"""Cases and their events (CASE-1..3): written one step at a time, read with all their events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Row, exists, insert, select

from collect_cli.store.queries.base import _in, _with_steps, borrowers, case_events, cases, entered_by, loans, outbox


def add_case(conn: Connection, **row) -> int:
    return conn.execute(insert(cases).values(**row).returning(cases.c.id)).scalar_one()


def add_case_event(conn: Connection, **row) -> int:
    return conn.execute(insert(case_events).values(**row).returning(case_events.c.id)).scalar_one()


def cases_with_events(conn: Connection, *, case_ids: Sequence[int] | None = None,
                      loan_ids: Sequence[str] | None = None, borrower_ids: Sequence[str] | None = None,
                      unclosed: bool = False, known_by: datetime | None = None) -> list[tuple[Row, list[Row]]]:
    """Cases (with the borrower's name) and their events in order, by id; `unclosed`: those
    without a close event; `known_by` (naive UTC): only what was recorded by then."""
    stmt = (select(cases, borrowers.c.name.label("borrower_name"))
            .join(loans, loans.c.loan_id == cases.c.loan_id)
            .join(borrowers, borrowers.c.borrower_id == loans.c.borrower_id)
            .where(entered_by(cases, known_by)).order_by(cases.c.id))
    if case_ids is not None:
        stmt = stmt.where(_in(conn, cases.c.id, case_ids))
    if loan_ids is not None:
        stmt = stmt.where(_in(conn, cases.c.loan_id, loan_ids))
    if borrower_ids is not None:
        stmt = stmt.where(_in(conn, cases.c.borrower_id, borrower_ids))
    if unclosed:
        stmt = stmt.where(~exists().where(case_events.c.case_id == cases.c.id, case_events.c.action == "close",
                                          entered_by(case_events, known_by)))
    return _with_steps(conn, conn.execute(stmt).all(), case_events, case_events.c.case_id, known_by)


def open_case_holds(conn: Connection, hold_ids: Sequence[int]) -> dict[int, int]:
    """{hold id: case id} of the holds that belong to a case not closed yet."""
    if not hold_ids:
        return {}
    closed = exists().where(case_events.c.case_id == cases.c.id, case_events.c.action == "close")
    return dict(conn.execute(select(cases.c.hold_id, cases.c.id)
                             .where(_in(conn, cases.c.hold_id, hold_ids), ~closed)).all())


def message_states(conn: Connection, message_ids: Sequence[int]) -> dict[int, Row]:
    """{id: (id, status, reason, channel, send_after, updated_at)} of these outbox messages."""
    if not message_ids:
        return {}
    return {r.id: r for r in conn.execute(
        select(outbox.c.id, outbox.c.status, outbox.c.reason, outbox.c.channel, outbox.c.send_after,
               outbox.c.updated_at).where(_in(conn, outbox.c.id, message_ids)))}


def answer_cases(conn: Connection, message_ids: Sequence[int]) -> dict[int, int]:
    """{message id: case id} of answer letters."""
    if not message_ids:
        return {}
    return dict(conn.execute(select(case_events.c.message_id, case_events.c.case_id)
                             .where(_in(conn, case_events.c.message_id, message_ids))).all())


def case_references(conn: Connection, kind: str, references: Sequence[str]) -> set[str]:
    """Of these references, those a case of `kind` already carries."""
    if not references:
        return set()
    return set(conn.execute(select(cases.c.reference).where(cases.c.kind == kind,
                                                            _in(conn, cases.c.reference, references))).scalars())


def loan_borrowers(conn: Connection, loan_ids: Sequence[str]) -> dict[str, tuple[str, object]]:
    """{loan id: (borrower id, disbursed on)} of the loans on file."""
    if not loan_ids:
        return {}
    return {r.loan_id: (r.borrower_id, r.disbursed_on) for r in conn.execute(
        select(loans.c.loan_id, loans.c.borrower_id, loans.c.disbursed_on).where(_in(conn, loans.c.loan_id,
                                                                                    loan_ids)))}
