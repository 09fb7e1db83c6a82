"""Legal cases and their stages (litigation)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Row, insert, select

from collect_cli.store.queries.base import _in, _with_steps, entered_by, legal_cases, legal_events


def add_legal_case(conn: Connection, **row) -> int:
    return conn.execute(insert(legal_cases).values(**row).returning(legal_cases.c.id)).scalar_one()


def add_legal_event(conn: Connection, **row) -> int:
    return conn.execute(insert(legal_events).values(**row).returning(legal_events.c.id)).scalar_one()


def legal_with_events(conn: Connection, *, case_ids: Sequence[int] | None = None,
                      loan_ids: Sequence[str] | None = None, letter_ids: Sequence[int] | None = None,
                      known_by: datetime | None = None) -> list[tuple[Row, list[Row]]]:
    """Legal cases (these, of these loans, or sending these lawyer's letters) with their stages in order."""
    stmt = select(legal_cases).where(entered_by(legal_cases, known_by)).order_by(legal_cases.c.id)
    if case_ids is not None:
        stmt = stmt.where(_in(conn, legal_cases.c.id, case_ids))
    if loan_ids is not None:
        stmt = stmt.where(_in(conn, legal_cases.c.loan_id, loan_ids))
    if letter_ids is not None:
        stmt = stmt.where(legal_cases.c.id.in_(select(legal_events.c.legal_case_id)
                                               .where(_in(conn, legal_events.c.message_id, letter_ids))))
    return _with_steps(conn, conn.execute(stmt).all(), legal_events, legal_events.c.legal_case_id, known_by)
