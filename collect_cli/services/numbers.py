"""Numbers and e-mails several borrower ids share (WHO-4), and confirming whose they are."""

from __future__ import annotations

from datetime import datetime
from itertools import groupby

from sqlalchemy import Connection, Engine

from collect_cli.errors import UsageError
from collect_cli.ledger.values import email_point
from collect_cli.store import queries as q


def count_shared(conn: Connection) -> int:
    """How many numbers, e-mails and push ids several borrower ids have on file (WHO-4)."""
    return q.count_shared_points(conn)


def shared_numbers(conn: Connection) -> list[dict]:
    pairs = q.all_shared_points(conn)
    confirmed = q.confirmed_owners(conn, sorted({p for p, _ in pairs}))
    return [{"point": point, "borrowers": ", ".join(b for _, b in group), "confirmed_for": confirmed.get(point)}
            for point, group in groupby(pairs, key=lambda pair: pair[0])]


def confirm_number(*, engine: Engine, point: str, borrower_id: str, note: str | None, agent: str,
                   now: datetime) -> None:
    if "@" in point:
        point = email_point(point)  # WHO-4: one address however it is spelled
    with engine.begin() as conn:
        owners = q.shared_points(conn, [point]).get(point)
        if not owners:
            raise UsageError("that number or e-mail is not shared by several borrowers: nothing to confirm")
        if borrower_id not in owners:
            raise UsageError(f"borrower {borrower_id} does not have that number or e-mail on file")
        q.add_confirmation(conn, point=point, borrower_id=borrower_id, note=note, agent=agent, at=now)
        q.add_audit(conn, [{"at": now, "agent": agent, "action": "confirm number", "loan_id": None,
                            "detail": f"confirmed for borrower {borrower_id} (shared by {len(owners)}): {note or ''}"}])
