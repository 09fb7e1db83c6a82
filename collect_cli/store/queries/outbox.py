"""The outbox: messages of the nightly run, their events, and what is due to be sent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Connection, Row, func, select

from collect_cli.store.queries.base import _insert_many, _update_many, _upsert, events, outbox

RECORDED = ("queued", "sent", "failed", "skipped")  # a step in one of these is done for its episode


COUNTED = ("queued", "sent")  # what counts against the SMS frequency caps


def messages_of(conn: Connection, loan_ids: Sequence[str]) -> dict[str, dict[tuple[str, str], Row]]:
    """Per loan, its outbox rows by (step, episode)."""
    out: dict[str, dict[tuple[str, str], Row]] = {i: {} for i in loan_ids}
    if loan_ids:
        rows = conn.execute(select(outbox.c.id, outbox.c.loan_id, outbox.c.step, outbox.c.episode, outbox.c.status,
                                   outbox.c.reason).where(outbox.c.loan_id.in_(list(loan_ids))))
        for r in rows:
            out[r.loan_id][(r.step, r.episode)] = r
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


def notices_sent(conn: Connection, loan_ids: Sequence[str], steps: Sequence[str]) -> dict[str, object]:
    """Per loan, when the first message of `steps` was sent (naive UTC), if ever."""
    if not loan_ids or not steps:
        return {}
    rows = conn.execute(select(outbox.c.loan_id, func.min(outbox.c.updated_at))
                        .where(outbox.c.loan_id.in_(list(loan_ids)), outbox.c.step.in_(list(steps)),
                               outbox.c.status == "sent")
                        .group_by(outbox.c.loan_id))
    return dict(rows.all())
