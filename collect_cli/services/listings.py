"""The records as the listing commands show them: promises, the audit trail, the outbox and
one message's history, a borrower's contact persons, the import batches, the day's
assignments and the ledger's products. Reads only; each takes the records as they stood at
the moment asked for where the command offers a past view."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Connection, Row

from collect_cli.errors import UsageError
from collect_cli.store import queries as q

products = q.products  # the products the ledger knows
import_history = q.import_history  # the import batches, latest first
promises = q.list_promises  # promises made by `known_by`, with their verdicts as of `on`
messages = q.list_messages  # outbox messages, each as it stood when known


def payments_of(conn: Connection, loan_id: str, as_of: date) -> list[tuple[date, int]]:
    """The loan's payments up to `as_of` as (day, amount), a reversal negative on its day."""
    return q.payments_of(conn, [loan_id], as_of)[loan_id]


def audit_trail(conn: Connection, *, loan_id: str | None = None, borrower_id: str | None = None,
                agent: str | None = None, action: str | None = None, since: datetime | None = None,
                until: datetime | None = None, limit: int | None = None) -> list[dict]:
    """The audit, imports and message status changes in the order recorded, for one loan, or
    the loans of one borrower (a UsageError when there is no such borrower), or all."""
    loans: Sequence[str] | None = [loan_id] if loan_id else None
    if borrower_id:
        mine = q.loans_of_borrower(conn, borrower_id)
        if not mine:
            raise UsageError(f"--borrower: no borrower {borrower_id!r}")
        loans = [x for x in mine if loan_id in (None, x)]
    return q.audit_trail(conn, loan_ids=loans, agent=agent, action=action, since=since, until=until, limit=limit)


def message_record(conn: Connection, message_id: int) -> tuple[Row, list[Row], list[Row]]:
    """A message, every event of it and every version of what it said (a UsageError when there
    is none)."""
    m = q.message(conn, message_id)
    if m is None:
        raise UsageError(f"no message {message_id}")
    return m, q.message_history(conn, message_id), q.message_versions(conn, message_id)


def persons_of_loan(conn: Connection, loan_id: str) -> tuple[str, list[Row], set[int]]:
    """The loan's borrower, their contact persons, and the ids of those who refused to help
    (WHO-2: by the person or by their number); a UsageError when there is no such loan."""
    borrower = q.borrower_of(conn, loan_id)
    if borrower is None:
        raise UsageError(f"no loan {loan_id!r}")
    rows = q.persons_of(conn, borrower)
    return borrower, rows, q.refused_persons(conn, [p.id for p in rows], [p.phone for p in rows if p.phone])


def assigned_to(conn: Connection, agent: str, day: date, known_by: datetime) -> set[str]:
    """The loans given to `agent` for `day`, as recorded by `known_by`."""
    return {loan for loan, who in q.assigned_on(conn, day, known_by).items() if who == agent}
