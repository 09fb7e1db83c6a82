"""Placements with outside agencies and their steps (AGY-1, AGY-3)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Row, exists, insert, select

from collect_cli.store.queries.base import _in, _with_steps, contacts, entered_by, placement_events, placements


def add_placement(conn: Connection, **row) -> int:
    return conn.execute(insert(placements).values(**row).returning(placements.c.id)).scalar_one()


def add_placement_events(conn: Connection, rows: list[dict]) -> None:
    if rows:
        conn.execute(insert(placement_events), rows)


def placements_with_events(conn: Connection, *, agency: str | None = None, loan_ids: Sequence[str] | None = None,
                           notice_ids: Sequence[int] | None = None, placed_now: bool = False,
                           known_by: datetime | None = None) -> list[tuple[Row, list[Row]]]:
    """Placements (of an agency, of these loans, told by these notices, or only those placed
    now) with their steps in order, by id."""
    stmt = select(placements).where(entered_by(placements, known_by)).order_by(placements.c.id)
    if placed_now:
        stmt = stmt.where(_placed_now())
    if notice_ids is not None:
        stmt = stmt.where(placements.c.id.in_(
            select(placement_events.c.placement_id).where(_in(conn, placement_events.c.message_id, notice_ids))))
    if agency is not None:
        stmt = stmt.where(placements.c.agency == agency)
    if loan_ids is not None:
        stmt = stmt.where(_in(conn, placements.c.loan_id, loan_ids))
    return _with_steps(conn, conn.execute(stmt).all(), placement_events, placement_events.c.placement_id, known_by)


def _placed_now():
    later = placement_events.alias("later")
    placed = exists().where(placement_events.c.placement_id == placements.c.id, placement_events.c.action == "place")
    ended = exists().where(later.c.placement_id == placements.c.id, later.c.action.in_(("recall", "cancel")))
    return placed & ~ended


def placed_loans(conn: Connection, loan_ids: Sequence[str] | None = None, agency: str | None = None) -> dict[str, str]:
    """{loan: agency} of the loans placed now (of these loans, or with this agency): placed and
    not recalled since."""
    if loan_ids is not None and not loan_ids:
        return {}
    stmt = select(placements.c.loan_id, placements.c.agency).where(_placed_now())
    if loan_ids is not None:
        stmt = stmt.where(_in(conn, placements.c.loan_id, loan_ids))
    if agency is not None:
        stmt = stmt.where(placements.c.agency == agency)
    return dict(conn.execute(stmt).all())


def agency_contacts(conn: Connection, agency: str, loan_ids: Sequence[str]) -> set[tuple]:
    """(loan, at, channel, outcome, collector) of the contacts an agency's files brought in."""
    if not loan_ids:
        return set()
    return {tuple(r) for r in conn.execute(
        select(contacts.c.loan_id, contacts.c.at, contacts.c.channel, contacts.c.outcome, contacts.c.agent)
        .where(contacts.c.agency == agency, _in(conn, contacts.c.loan_id, loan_ids)))}
