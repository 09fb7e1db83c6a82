"""The outbox: messages of the nightly run, their events, and what is due to be sent."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import ARRAY, Connection, Row, Text, bindparam, func, or_, select, text, tuple_

from collect_cli.store.models import VERSIONED
from collect_cli.store.queries.base import (
    Part,
    _in,
    _insert_many,
    _unindexed,
    _update_many,
    _upsert,
    entered_by,
    events,
    outbox,
    run_parts,
    versions,
)

RECORDED = ("queued", "sent", "failed", "skipped")  # a step in one of these is done for its episode


COUNTED = ("queued", "sent")  # what counts against the SMS frequency caps


def messages_of(conn: Connection, loan_ids: Sequence[str]) -> dict[str, dict[tuple[str, str], Row]]:
    """Per loan, its outbox rows by (step, episode)."""
    out: dict[str, dict[tuple[str, str], Row]] = {i: {} for i in loan_ids}
    if loan_ids:
        rows = conn.execute(select(outbox.c.id, outbox.c.loan_id, outbox.c.step, outbox.c.episode, outbox.c.status,
                                   outbox.c.reason).where(_in(conn, outbox.c.loan_id, loan_ids)))
        for r in rows:
            out[r.loan_id][(r.step, r.episode)] = r
    return out


def sent_messages(conn: Connection, loan_ids: Sequence[str], bodies: bool = False) -> dict[str, list[Row]]:
    """Per loan, its messages that were sent, each with the time it was marked sent (`sent_at`,
    naive UTC), oldest first; with `bodies`, their texts too."""
    out: dict[str, list[Row]] = {i: [] for i in loan_ids}
    if not loan_ids:
        return out
    sent_at = (select(events.c.message_id, func.min(events.c.at).label("sent_at"))
               .where(events.c.status == "sent").group_by(events.c.message_id).subquery())
    columns = [outbox.c.id, outbox.c.loan_id, outbox.c.step, outbox.c.episode, outbox.c.channel, outbox.c.purpose,
               sent_at.c.sent_at] + ([outbox.c.body] if bodies else [])
    rows = conn.execute(select(*columns).join(sent_at, sent_at.c.message_id == outbox.c.id)
                        .where(_in(conn, outbox.c.loan_id, loan_ids), outbox.c.status == "sent")
                        .order_by(sent_at.c.sent_at, outbox.c.id))
    for r in rows:
        out[r.loan_id].append(r)
    return out


def planned(conn: Connection, channel: str, borrower_ids: Sequence[str], points: Sequence[str], since, until,
            statuses: Sequence[str] = ("queued", "sent")) -> list[Row]:
    """Automated messages of `channel` to these borrowers or to these numbers or push ids (under
    any borrower id) planned for `since <= send_after < until` (naive UTC): what WHEN-5 counts,
    by the person's day."""
    if not borrower_ids and not points:
        return []
    whose = or_(_in(conn, outbox.c.borrower_id, borrower_ids),
                _in(conn, outbox.c.recipient, [n for n in points if n]))
    # found through the borrower and recipient indexes: the night's range of (status,
    # send_after) holds every message queued tonight, a scan that grew with each batch of the run
    status, send_after = _unindexed(conn, outbox.c.status), _unindexed(conn, outbox.c.send_after)
    return conn.execute(select(outbox.c.id, outbox.c.borrower_id, outbox.c.recipient, outbox.c.send_after)
                        .where(whose, outbox.c.channel == channel, _in(conn, status, statuses),
                               send_after >= since, send_after < until)).all()


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


def add_versions(conn: Connection, at, messages: list[dict]) -> None:
    """A version of each message as just written (`messages`: outbox rows with their id)."""
    _insert_many(conn, versions, [{"message_id": m["id"], "at": at, **{c: m[c] for c in VERSIONED}}
                                  for m in messages])


def message_versions(conn: Connection, message_id: int) -> list[Row]:
    """What a message said each time it was written, oldest first."""
    return conn.execute(select(versions).where(versions.c.message_id == message_id).order_by(versions.c.id)).all()


def list_messages(conn: Connection, *, status: str | None = None, loan_id: str | None = None,
                  limit: int | None = None, known_by=None) -> list[Row]:
    """Messages written by `known_by`, each as it stood then: its latest version by then
    (text, figures, template), and its status and reason as its events had recorded them."""
    if known_by is None:
        known = outbox
    else:
        latest = (select(func.max(versions.c.id)).where(versions.c.message_id == outbox.c.id,
                                                        entered_by(versions, known_by))
                  .correlate(outbox).scalar_subquery())
        known = (select(*(c for c in outbox.c if c.name not in VERSIONED),
                        *(versions.c[c] for c in VERSIONED if c not in ("status", "reason")),
                        *status_known_by(known_by))
                 .join_from(outbox, versions, versions.c.id == latest).subquery())
    stmt = select(known).order_by(known.c.id)
    if status:
        stmt = stmt.where(known.c.status == status)
    if loan_id:
        stmt = stmt.where(known.c.loan_id == loan_id)
    if limit:
        stmt = stmt.limit(limit)
    return conn.execute(stmt).all()


def status_known_by(known_by) -> tuple:
    """A message's status and reason as its events had recorded them by `known_by` (None: now)."""
    if known_by is None:
        return outbox.c.status, outbox.c.reason
    last = (select(events.c.status).where(events.c.message_id == outbox.c.id, events.c.at <= known_by)
            .order_by(events.c.at.desc(), events.c.id.desc()).limit(1))
    return (last.scalar_subquery().label("status"),
            last.with_only_columns(events.c.reason).scalar_subquery().label("reason"))


def message(conn: Connection, message_id: int) -> Row | None:
    return conn.execute(select(outbox).where(outbox.c.id == message_id)).first()


def message_history(conn: Connection, message_id: int) -> list[Row]:
    """Every event of a message, in the order recorded."""
    return conn.execute(select(events).where(events.c.message_id == message_id)
                        .order_by(events.c.at, events.c.id)).all()


def due_messages(conn: Connection, now, *, channel: str | None, after: tuple | None = None,
                 limit: int = 500) -> list[Row]:
    """The next `limit` queued messages due by `now`, in (send_after, id) order, after the
    message `after` (its send_after and id): a page at a time, so that a long queue is never
    held in memory (each row carries its text)."""
    stmt = (select(outbox).where(outbox.c.status == "queued", outbox.c.send_after <= now)
            .order_by(outbox.c.send_after, outbox.c.id).limit(limit))
    if channel:
        stmt = stmt.where(outbox.c.channel == channel)
    if after is not None:
        stmt = stmt.where(tuple_(outbox.c.send_after, outbox.c.id) > tuple_(*after))
    return conn.execute(stmt).all()


# --- runs side by side (run-reminders --part / --workers) ------------------------------------

LOCK_CLASS = zlib.crc32(b"collect:contact") & 0x7FFFFFFF  # the first key of two-key advisory locks


def lock_keys(conn: Connection, keys: Iterable[str]) -> None:
    """Hold these keys (borrowers, numbers, addresses) until the transaction ends, so that two
    runs side by side never both count a borrower's messages before either writes its own:
    the caps and the outbox key are then judged on what the other has committed. PostgreSQL:
    transaction advisory locks, taken in one order (no two runs wait on each other in a
    cycle). SQLite: the database's write lock, taken now (BEGIN IMMEDIATE), before anything
    is read; the connection's transaction must not have begun on the server yet."""
    if conn.dialect.name != "postgresql":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        return
    keys = sorted(set(keys))
    if keys:
        conn.execute(text("SELECT count(pg_advisory_xact_lock(:cls, h)) FROM "
                          "(SELECT DISTINCT hashtext(k) AS h FROM unnest(:keys) AS k ORDER BY h) AS hashed")
                     .bindparams(bindparam("keys", type_=ARRAY(Text))), {"cls": LOCK_CLASS, "keys": keys})


def lock_points(conn: Connection, keys: Iterable[str]) -> None:
    """lock_keys inside a transaction that has begun already (a command's one message):
    PostgreSQL's advisory locks; on SQLite nothing more is needed, since the command's
    transaction is its only writer and a write over a stale read fails (SQLITE_BUSY_SNAPSHOT)."""
    if conn.dialect.name == "postgresql":
        lock_keys(conn, keys)


def run_parts_of(conn: Connection, as_of: date, parts: int) -> list[Part]:
    """The loan-id ranges the day's run was cut into, part 1 first; [] before any part started."""
    return [(r.first_loan, r.end_loan) for r in conn.execute(
        select(run_parts.c.first_loan, run_parts.c.end_loan)
        .where(run_parts.c.as_of == as_of, run_parts.c.parts == parts).order_by(run_parts.c.part))]


def record_run_parts(conn: Connection, as_of: date, ranges: Sequence[Part]) -> None:
    """Record the day's cuts unless a part that started first recorded its own."""
    conn.execute(_upsert(conn, run_parts).on_conflict_do_nothing(index_elements=["as_of", "parts", "part"]),
                 [{"as_of": as_of, "parts": len(ranges), "part": n, "first_loan": lo, "end_loan": hi}
                  for n, (lo, hi) in enumerate(ranges, 1)])


def sent_to(conn: Connection, points: Sequence[str]) -> list[Row]:
    """The messages sent to these numbers or addresses: (recipient, loan_id, channel, sent_at
    naive UTC), oldest first: what a reply from one of them answers."""
    if not points:
        return []
    theirs = select(outbox.c.id).where(_in(conn, outbox.c.recipient, points), outbox.c.status == "sent")
    sent_at = (select(events.c.message_id, func.min(events.c.at).label("sent_at"))
               .where(events.c.status == "sent", events.c.message_id.in_(theirs))
               .group_by(events.c.message_id).subquery())
    return conn.execute(select(outbox.c.recipient, outbox.c.loan_id, outbox.c.channel, sent_at.c.sent_at)
                        .join(sent_at, sent_at.c.message_id == outbox.c.id)
                        .order_by(sent_at.c.sent_at, outbox.c.id)).all()


def message_of_link(conn: Connection, ref: str) -> Row | None:
    """The message whose payment link has this reference."""
    return conn.execute(select(outbox.c.id, outbox.c.loan_id, outbox.c.step, outbox.c.channel, outbox.c.status,
                               outbox.c.as_of).where(outbox.c.payment_ref == ref)).first()
