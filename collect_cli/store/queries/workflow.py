"""The collectors' records: holds, contacts, promises, audit, assignments, escalations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Connection, Row, func, insert, or_, select

from collect_cli.domain.compliance import BORROWER_WIDE
from collect_cli.store.queries.base import (
    _insert_many,
    _per_loan,
    _update_many,
    _upsert,
    assignments,
    audit,
    contacts,
    escalations,
    holds,
    loans,
    promises,
)


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


def add_hold(conn: Connection, **row) -> None:
    conn.execute(insert(holds).values(**row))


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


def holds_list(conn: Connection, loan_ids: Sequence[str]) -> list[Row]:
    return conn.execute(select(holds).where(holds.c.loan_id.in_(list(loan_ids))).order_by(holds.c.id)).all()


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
