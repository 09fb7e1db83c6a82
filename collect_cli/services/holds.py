"""Holds: placing and releasing them as append-only records."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine

from collect_cli.domain.compliance import BORROWER_WIDE
from collect_cli.errors import UsageError
from collect_cli.store import queries as q


def place_hold(*, engine: Engine, loan_id: str, reason: str, channel: str | None, until: date | None,
               note: str | None, actor: str, now: datetime) -> None:
    with engine.begin() as conn:
        borrower = q.borrower_of(conn, loan_id)
        if borrower is None:
            raise UsageError(f"no loan {loan_id!r}")
        q.add_hold(conn, loan_id=loan_id, borrower_id=borrower, reason=reason, channel=channel,
                   action="place", until=until, note=note, actor=actor, at=now)
        q.add_audit(conn, [{"at": now, "agent": actor, "action": "hold", "loan_id": loan_id,
                            "detail": f"{reason}{' ' + channel if channel else ''}"
                                      f"{' until ' + until.isoformat() if until else ''}: {note or ''}"}])


def release_hold(*, engine: Engine, loan_id: str, reason: str, channel: str | None, note: str | None,
                 actor: str, now: datetime) -> bool:
    """False when no such hold is in force."""
    with engine.begin() as conn:
        borrower = q.borrower_of(conn, loan_id)
        if borrower is None:
            raise UsageError(f"no loan {loan_id!r}")
        held = q.active_holds(conn, [loan_id], [borrower], now.date())[loan_id]
        # a borrower-wide hold may be released from any loan of the borrower
        if not any(h.reason == reason and h.channel == channel
                   and (h.loan_id == loan_id or reason in BORROWER_WIDE) for h in held):
            return False
        q.add_hold(conn, loan_id=loan_id, borrower_id=borrower, reason=reason, channel=channel,
                   action="release", until=None, note=note, actor=actor, at=now)
        q.add_audit(conn, [{"at": now, "agent": actor, "action": "release", "loan_id": loan_id,
                            "detail": f"{reason}{' ' + channel if channel else ''}: {note or ''}"}])
        return True
