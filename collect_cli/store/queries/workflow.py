"""The collectors' records: holds, contacts, promises, audit, assignments, escalations."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Connection, Row, and_, case, func, insert, or_, select

from collect_cli.domain.compliance import BORROWER_WIDE
from collect_cli.ledger.values import email_point
from collect_cli.store.queries.base import (
    _in,
    _in_part,
    _insert_many,
    _per_loan,
    _update_many,
    _upsert,
    assignments,
    audit,
    batches,
    borrowers,
    bureau_records,
    confirmations,
    contacts,
    entered_by,
    escalations,
    events,
    facts,
    holds,
    loans,
    outbox,
    persons,
    promises,
    waiver_outcomes,
    waivers,
)


def active_holds(conn: Connection, loan_ids: Sequence[str], borrower_ids: Sequence[str], on: date,
                 points: Sequence[str] = (), known_by: datetime | None = None) -> dict[str, list[Row]]:
    """Hold instances in force on `on`, per loan: the loan's own; its borrower's (every kind but
    a dispute holds all of a borrower's loans); and opt-outs given for the loan's phone number
    or e-mail, under any borrower id (WHO-4). An instance ends when a release names it.
    `known_by` (naive UTC): only the holds and releases recorded by then (a past view, a
    contact logged late)."""
    out: dict[str, list[Row]] = {i: [] for i in loan_ids}
    if not loan_ids:
        return out
    owners = or_(_in(conn, holds.c.loan_id, loan_ids), _in(conn, holds.c.borrower_id, borrower_ids))
    # an e-mail however it was spelled on file (WHO-4): opt-outs store it normalised
    points = {p for p in points if p} | {email_point(p) for p in points if p and "@" in p}
    if points:
        owners = or_(owners, _in(conn, holds.c.point, points))
    known = entered_by(holds, known_by)
    placed = {r.id: r for r in conn.execute(select(holds).where(owners, holds.c.action == "place", known)
                                            .order_by(holds.c.id))}
    released: set[int] = set()
    if placed:
        for r in conn.execute(select(holds).where(holds.c.action == "release", known, or_(
                holds.c.hold_id.in_(sorted(placed)), and_(holds.c.hold_id.is_(None), owners)))):
            if r.hold_id is not None:
                released.add(r.hold_id)
            else:  # a release from before hold instances ended every earlier hold of its kind
                released |= {p.id for p in placed.values() if p.id < r.id and _same_kind(p, r)}
    in_force = [r for r in placed.values() if r.id not in released and (r.until is None or r.until >= on)]
    who = conn.execute(select(loans.c.loan_id, loans.c.borrower_id, borrowers.c.phone, borrowers.c.email,
                              borrowers.c.push_id)
                       .join(borrowers, borrowers.c.borrower_id == loans.c.borrower_id)
                       .where(_in(conn, loans.c.loan_id, loan_ids))).all()
    for loan_id, borrower_id, phone, email, push_id in who:
        mine = {p for p in (phone, email, email_point(email) if email else None, push_id) if p}
        out[loan_id] = [r for r in in_force if r.loan_id == loan_id
                        or (r.reason in BORROWER_WIDE and r.borrower_id == borrower_id)
                        or (r.reason == "opt-out" and r.point is not None
                            and (r.point if "@" not in r.point else email_point(r.point)) in mine)]
    return out


def _same_kind(placed: Row, release: Row) -> bool:
    if placed.reason != release.reason or placed.channel != release.channel:
        return False
    if placed.reason in BORROWER_WIDE:
        return placed.borrower_id == release.borrower_id
    return placed.loan_id == release.loan_id


def hold_instance(conn: Connection, hold_id: int) -> Row | None:
    return conn.execute(select(holds).where(holds.c.id == hold_id, holds.c.action == "place")).first()


def add_hold(conn: Connection, **row) -> int:
    return conn.execute(insert(holds).values(**row).returning(holds.c.id)).scalar_one()


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
        stmt = stmt.where(_in(conn, promises.c.loan_id, loan_ids))
    return conn.execute(stmt).all()


def list_promises(conn: Connection, *, status: str | None = None, loan_id: str | None = None,
                  known_by: datetime | None = None, on: date | None = None) -> list[Row]:
    """Promises made by `known_by`, with their verdicts as of `on` (promise_columns)."""
    known = select(*promise_columns(on)).where(entered_by(promises, known_by)).subquery()
    stmt = select(known).order_by(known.c.due_on, known.c.id)
    if status:
        stmt = stmt.where(known.c.status == status)
    if loan_id:
        stmt = stmt.where(known.c.loan_id == loan_id)
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


AUDIT_SOURCES = ("import", "message")  # actions that come from the import batches and the outbox events


def audit_trail(conn: Connection, *, loan_ids: Sequence[str] | None = None, agent: str | None = None,
                action: str | None = None, since=None, until=None, limit: int | None = None) -> list[dict]:
    """The audit, the imports and every message status change, in the order they were recorded
    (the real time, REC-4; the latest `limit`, oldest first), each with `recorded_at` and `at`,
    the clock the command acted on (a pretend one on demo stores). `loan_ids` None: every loan
    (and the imports); since and until: naive UTC bounds of the recorded time, until exclusive."""
    def bounded(stmt, table, who):
        recorded = table.c.recorded_at
        if since is not None:
            stmt = stmt.where(recorded >= since)
        if until is not None:
            stmt = stmt.where(recorded < until)
        if agent is not None:
            stmt = stmt.where(who == agent)
        stmt = stmt.order_by(recorded.desc(), table.c.id.desc())
        return stmt.limit(limit) if limit else stmt

    rows: list[dict] = []
    if action not in AUDIT_SOURCES:
        stmt = select(audit.c.id, audit.c.recorded_at, audit.c.at, audit.c.agent, audit.c.action, audit.c.loan_id,
                      audit.c.detail)
        if action is not None:
            stmt = stmt.where(audit.c.action == action)
        if loan_ids is not None:
            stmt = stmt.where(_in(conn, audit.c.loan_id, loan_ids))
        rows += [dict(r._mapping, source=0) for r in conn.execute(bounded(stmt, audit, audit.c.agent))]
    if action in (None, "message"):
        stmt = (select(events.c.id, events.c.recorded_at, events.c.at, events.c.actor.label("agent"), outbox.c.loan_id,
                       events.c.status, events.c.reason, events.c.message_id, outbox.c.channel, outbox.c.step)
                .join(outbox, outbox.c.id == events.c.message_id))
        if loan_ids is not None:
            stmt = stmt.where(_in(conn, outbox.c.loan_id, loan_ids))
        for r in conn.execute(bounded(stmt, events, events.c.actor)):
            rows.append({"id": r.id, "recorded_at": r.recorded_at, "at": r.at, "agent": r.agent, "action": "message",
                         "loan_id": r.loan_id,
                         "detail": f"message {r.message_id} ({r.channel} {r.step}): {r.status}"
                                   + (f": {r.reason}" if r.reason else ""), "source": 1})
    if action in (None, "import") and loan_ids is None:
        for r in conn.execute(bounded(select(batches), batches, batches.c.operator)):
            rows.append({"id": r.id, "recorded_at": r.recorded_at, "at": r.started_at, "agent": r.operator,
                         "action": "import", "loan_id": None,
                         "detail": f"{r.file_name} ({r.kind}, {r.encoding}), sha256 {r.sha256[:12]}…: {r.rows_read} read, "
                                   f"{r.inserted} new, {r.updated} updated, {r.unchanged} unchanged, "
                                   f"{r.rejected} rejected", "source": 2})
    rows.sort(key=lambda r: (r["recorded_at"], r["source"], r["id"]))
    return rows[-limit:] if limit else rows


def loans_of_borrower(conn: Connection, borrower_id: str) -> list[str]:
    return list(conn.execute(select(loans.c.loan_id).where(loans.c.borrower_id == borrower_id)
                             .order_by(loans.c.loan_id)).scalars())


def import_history(conn: Connection, limit: int | None = None) -> list[Row]:
    """The import batches, latest first."""
    stmt = select(batches).order_by(batches.c.started_at.desc(), batches.c.id.desc())
    return conn.execute(stmt.limit(limit) if limit else stmt).all()


def contacts_of(conn: Connection, loan_ids: Sequence[str], since, known_by: datetime | None = None
                ) -> dict[str, list[Row]]:
    """Per loan, its contacts at or after `since` (UTC) logged by `known_by`, oldest first."""
    out: dict[str, list[Row]] = {i: [] for i in loan_ids}
    if loan_ids:
        rows = conn.execute(select(contacts).where(_in(conn, contacts.c.loan_id, loan_ids), contacts.c.at >= since,
                                                   entered_by(contacts, known_by))
                            .order_by(contacts.c.at, contacts.c.id))
        for r in rows:
            out[r.loan_id].append(r)
    return out


def promises_of(conn: Connection, loan_ids: Sequence[str], known_by: datetime | None = None,
                on: date | None = None) -> dict[str, list[Row]]:
    """Per loan, its promises made by `known_by`, each with its verdict as of `on`: one the
    nightly run settled after that day was still open then."""
    return _per_loan(conn, promises, loan_ids, known_by, promise_columns(on))


def promise_columns(on: date | None) -> list:
    """The promise as known on `on` (None: now): status, paid and evaluated_on of a later
    verdict read as still open."""
    if on is None:
        return [promises]
    settled = and_(promises.c.evaluated_on.is_not(None), promises.c.evaluated_on <= on)
    return [*(c for c in promises.c if c.name not in ("status", "paid", "evaluated_on")),
            case((settled, promises.c.status), else_="open").label("status"),
            case((settled, promises.c.paid), else_=0).label("paid"),
            case((settled, promises.c.evaluated_on), else_=None).label("evaluated_on")]


def holds_list(conn: Connection, loan_ids: Sequence[str], known_by: datetime | None = None) -> list[Row]:
    return conn.execute(select(holds).where(_in(conn, holds.c.loan_id, loan_ids), entered_by(holds, known_by))
                        .order_by(holds.c.id)).all()


def assigned_on(conn: Connection, day: date, known_by: datetime | None = None) -> dict[str, str]:
    """loan_id -> agent for the day."""
    return dict(conn.execute(select(assignments.c.loan_id, assignments.c.agent)
                             .where(assignments.c.day == day, entered_by(assignments, known_by))).all())


def claim(conn: Connection, rows: list[dict]) -> list[str]:
    """Insert assignments; one another taker claimed first is left to them (ON CONFLICT DO
    NOTHING on (day, loan)). Returns the loan ids this call got."""
    if not rows:
        return []
    stmt = _upsert(conn, assignments).on_conflict_do_nothing(index_elements=["day", "loan_id"]).returning(assignments.c.loan_id)
    return list(conn.execute(stmt, rows).scalars())


def add_escalation(conn: Connection, **row) -> None:
    conn.execute(insert(escalations).values(**row))


def current_stages(conn: Connection, loan_ids: Sequence[str] | None = None,
                   known_by: datetime | None = None) -> dict[str, Row]:
    """Per loan (of `loan_ids`, or every loan), its latest escalation (entered by `known_by`)."""
    stmt = select(escalations).where(entered_by(escalations, known_by)).order_by(escalations.c.id)
    if loan_ids is not None:
        stmt = stmt.where(_in(conn, escalations.c.loan_id, loan_ids))
    out: dict[str, Row] = {}
    for r in conn.execute(stmt):
        out[r.loan_id] = r
    return out


def add_person(conn: Connection, **row) -> int:
    return conn.execute(insert(persons).values(**row).returning(persons.c.id)).scalar_one()


def persons_of(conn: Connection, borrower_id: str, known_by: datetime | None = None) -> list[Row]:
    return conn.execute(select(persons).where(persons.c.borrower_id == borrower_id, entered_by(persons, known_by))
                        .order_by(persons.c.id)).all()


def refused_persons(conn: Connection, person_ids: Sequence[int], phones: Sequence[str]) -> set[int]:
    """Of these contact persons and of anyone recorded with these numbers, those who refused
    to help (WHO-2): a refusal binds to the person and to their number."""
    same = or_(_in(conn, persons.c.id, person_ids), _in(conn, persons.c.phone, phones))
    ids = select(persons.c.id).where(same)
    return set(conn.execute(select(contacts.c.person_id).where(contacts.c.person_id.in_(ids),
                                                               contacts.c.outcome == "refused")).scalars())


def borrower_contacts(conn: Connection, borrower_id: str, since) -> list[Row]:
    """The borrower's contacts at or after `since` (UTC), every loan, oldest first."""
    return conn.execute(select(contacts).where(contacts.c.borrower_id == borrower_id, contacts.c.at >= since)
                        .order_by(contacts.c.at, contacts.c.id)).all()


def add_confirmation(conn: Connection, **row) -> None:
    conn.execute(insert(confirmations).values(**row))


# where a person is reached (WHO-4): a phone number, an e-mail, an app's push address; their
# forms cannot be taken for each other (+digits, an @, no + or @)
_POINTS = (borrowers.c.phone, borrowers.c.email, borrowers.c.push_id)


def owners_of_points(conn: Connection, points: Sequence[str]) -> dict[str, set[str]]:
    """Of these phone numbers, e-mails and push ids, those on file for a borrower, with the borrower ids."""
    points = sorted({p for p in points if p})
    out: dict[str, set[str]] = {}
    if not points:
        return out
    for column in _POINTS:
        for point, borrower_id in conn.execute(select(column, borrowers.c.borrower_id)
                                               .where(_in(conn, column, points))):
            out.setdefault(point, set()).add(borrower_id)
    return out


def shared_points(conn: Connection, points: Sequence[str]) -> dict[str, set[str]]:
    """Of these phone numbers and e-mails, those on file for more than one borrower id, with
    the ids (WHO-4)."""
    return {p: ids for p, ids in owners_of_points(conn, points).items() if len(ids) > 1}


def confirmed_owners(conn: Connection, points: Sequence[str]) -> dict[str, str]:
    """Per shared number or e-mail, the borrower it was last confirmed as belonging to."""
    out: dict[str, str] = {}
    if points:
        for r in conn.execute(select(confirmations).where(_in(conn, confirmations.c.point, points))
                              .order_by(confirmations.c.id)):
            out[r.point] = r.borrower_id
    return out


def count_shared_points(conn: Connection) -> int:
    """How many numbers, e-mails and push ids are on file for several borrower ids (WHO-4)."""
    return sum(conn.execute(select(func.count()).select_from(
        select(column).where(column.is_not(None)).group_by(column).having(func.count() > 1).subquery())).scalar_one()
        for column in _POINTS)


def all_shared_points(conn: Connection) -> list[tuple[str, str]]:
    """Every (number or e-mail, borrower id) where the number or e-mail is on file for several ids."""
    out = []
    for column in _POINTS:
        shared = select(column).where(column.is_not(None)).group_by(column).having(func.count() > 1)
        out += conn.execute(select(column, borrowers.c.borrower_id).where(column.in_(shared))
                            .order_by(column, borrowers.c.borrower_id)).all()
    return [tuple(r) for r in out]


def bureau_reported(conn: Connection, loan_ids: Sequence[str]) -> dict[str, object]:
    """Per loan, when it was last written to a credit-bureau file (naive UTC)."""
    if not loan_ids:
        return {}
    return dict(conn.execute(select(audit.c.loan_id, func.max(audit.c.at))
                             .where(audit.c.action == "bureau report", _in(conn, audit.c.loan_id, loan_ids))
                             .group_by(audit.c.loan_id)).all())


def contacts_around(conn: Connection, borrower_ids: Sequence[str], numbers: Sequence[str], since,
                    known_by: datetime | None = None) -> list[Row]:
    """Contacts with these borrowers, or dialled to these numbers under any borrower id, at or
    after `since` (UTC) and logged by `known_by`, oldest first: what the call rules count
    (WHEN-2..4)."""
    whose = _in(conn, contacts.c.borrower_id, borrower_ids)
    if numbers:
        whose = or_(whose, _in(conn, contacts.c.number, numbers))
    return conn.execute(select(contacts).where(whose, contacts.c.at >= since, entered_by(contacts, known_by))
                        .order_by(contacts.c.at, contacts.c.id)).all()


def store_fact(conn: Connection, name: str) -> str | None:
    return conn.execute(select(facts.c.value).where(facts.c.name == name)).scalar_one_or_none()


def set_store_fact(conn: Connection, name: str, value: str) -> None:
    conn.execute(insert(facts).values(name=name, value=value))


def add_bureau_records(conn: Connection, rows: list[dict]) -> None:
    _insert_many(conn, bureau_records, rows)


def latest_bureau_records(conn: Connection, before: date) -> list[Row]:
    """Per loan, the latest record of its latest reported day before `before`: what the
    bureau holds of it now."""
    r = bureau_records
    day = (select(r.c.loan_id, func.max(r.c.as_of).label("as_of")).where(r.c.as_of < before)
           .group_by(r.c.loan_id).subquery())
    last = (select(func.max(r.c.id).label("id"))
            .join(day, and_(day.c.loan_id == r.c.loan_id, day.c.as_of == r.c.as_of)).group_by(r.c.loan_id).subquery())
    return conn.execute(select(r).join(last, last.c.id == r.c.id).order_by(r.c.loan_id)).all()


def add_waiver(conn: Connection, **row) -> int:
    return conn.execute(insert(waivers).values(**row).returning(waivers.c.id)).scalar_one()


def add_waiver_outcome(conn: Connection, **row) -> None:
    conn.execute(insert(waiver_outcomes).values(**row))


def waivers_of(conn: Connection, loan_ids: Sequence[str], known_by: datetime | None = None) -> dict[str, list[Row]]:
    """Per loan, its waivers (granted by `known_by`) with their outcome, if any, oldest first."""
    out: dict[str, list[Row]] = {i: [] for i in loan_ids}
    if loan_ids:
        stmt = (select(waivers, waiver_outcomes.c.outcome, waiver_outcomes.c.effective_on,
                       waiver_outcomes.c.batch_id.label("outcome_batch"))
                .outerjoin(waiver_outcomes, waiver_outcomes.c.waiver_id == waivers.c.id)
                .where(_in(conn, waivers.c.loan_id, loan_ids), entered_by(waivers, known_by)).order_by(waivers.c.id))
        for r in conn.execute(stmt):
            out[r.loan_id].append(r)
    return out


def pending_waivers(conn: Connection) -> list[Row]:
    """Conditional waivers with no outcome yet."""
    return conn.execute(select(waivers).outerjoin(waiver_outcomes, waiver_outcomes.c.waiver_id == waivers.c.id)
                        .where(waiver_outcomes.c.id.is_(None)).order_by(waivers.c.id)).all()


def penalty_waivers(conn: Connection, as_of: date, loan_ids: Sequence[str] | None = None,
                    part: tuple[str | None, str | None] = (None, None)) -> dict[str, list[tuple[date, int]]]:
    """Per loan, the penalty waivers in effect by `as_of` as (effective day, amount), oldest
    first: they are few (a collector granted each)."""
    stmt = (select(waivers.c.loan_id, waiver_outcomes.c.effective_on, waivers.c.amount)
            .join(waiver_outcomes, waiver_outcomes.c.waiver_id == waivers.c.id)
            .where(waivers.c.component == "penalty", waiver_outcomes.c.outcome == "applied",
                   waiver_outcomes.c.effective_on <= as_of)
            .order_by(waivers.c.loan_id, waiver_outcomes.c.effective_on, waivers.c.id))
    if loan_ids is not None:
        stmt = stmt.where(_in(conn, waivers.c.loan_id, loan_ids))
    out: dict[str, list[tuple[date, int]]] = defaultdict(list)
    for loan_id, effective_on, amount in conn.execute(_in_part(stmt, waivers, part)):
        out[loan_id].append((effective_on, int(amount)))
    return dict(out)
