"""Holds: placing and releasing instances, as append-only records.

Each placed hold is an instance with its own id, and a release ends one instance: of two
disputes, releasing one leaves the other in force. A dispute holds its loan; every other
kind holds all the borrower's loans (HOLD-3 applies to the borrower). An opt-out also
binds to the number or e-mail it was given for (WHO-4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, Engine

from collect_cli.domain.compliance import BORROWER_WIDE
from collect_cli.errors import UsageError
from collect_cli.store import queries as q


@dataclass(frozen=True)
class Placed:
    hold_id: int
    scope: str  # "this loan" or "every loan of the borrower"


def place_hold(*, engine: Engine, loan_id: str, reason: str, channel: str | None, until: date | None,
               note: str | None, actor: str, now: datetime, today: date) -> Placed:
    if until is not None and until < today:
        raise UsageError(f"--until {until.isoformat()}: a hold that ends in the past holds nothing")
    with engine.begin() as conn:
        return add_hold(conn, loan_id=loan_id, reason=reason, channel=channel, until=until, note=note, actor=actor,
                        now=now)


def add_hold(conn: Connection, *, loan_id: str, reason: str, channel: str | None, until: date | None,
             note: str | None, actor: str, now: datetime, point: str | None = None) -> Placed:
    """One hold instance and its audit entry, in the caller's transaction. An opt-out binds to
    `point`, or to the borrower's phone (sms) or e-mail (email) on file now."""
    who = q.borrower_points(conn, loan_id)
    if who is None:
        raise UsageError(f"no loan {loan_id!r}")
    borrower, phone, email = who
    if reason == "opt-out" and point is None:
        point = {"sms": phone, "email": email}.get(channel)
    hold_id = q.add_hold(conn, loan_id=loan_id, borrower_id=borrower, reason=reason, channel=channel, point=point,
                         action="place", hold_id=None, until=until, note=note, actor=actor, at=now)
    scope = "every loan of the borrower" if reason in BORROWER_WIDE else "this loan"
    q.add_audit(conn, [{"at": now, "agent": actor, "action": "hold", "loan_id": loan_id,
                        "detail": f"hold {hold_id}: {reason}{' ' + channel if channel else ''}"
                                  f"{' until ' + until.isoformat() if until else ''} ({scope}): {note or ''}"}])
    return Placed(hold_id, scope)


def release_hold(*, engine: Engine, loan_id: str, reason: str | None, channel: str | None, hold_id: int | None,
                 note: str | None, actor: str, now: datetime, today: date) -> int:
    """Release one hold instance in force for the loan (by id, or the only one of its reason);
    the id released."""
    with engine.begin() as conn:
        borrower = q.borrower_of(conn, loan_id)
        if borrower is None:
            raise UsageError(f"no loan {loan_id!r}")
        held = q.active_holds(conn, [loan_id], [borrower], today)[loan_id]
        if hold_id is not None:
            chosen = [h for h in held if h.id == hold_id]
            if not chosen:
                raise UsageError(f"hold {hold_id} is not in force for {loan_id}")
        else:
            chosen = [h for h in held if h.reason == reason and (channel is None or h.channel == channel)]
            if not chosen:
                raise UsageError(f"{loan_id} has no {reason} hold in force")
            if len(chosen) > 1:
                raise UsageError(f"{loan_id} has {len(chosen)} {reason} holds in force "
                                 f"({', '.join(str(h.id) for h in chosen)}): name the one to release with --id")
        h = chosen[0]
        q.add_hold(conn, loan_id=loan_id, borrower_id=borrower, reason=h.reason, channel=h.channel, point=h.point,
                   action="release", hold_id=h.id, until=None, note=note, actor=actor, at=now)
        q.add_audit(conn, [{"at": now, "agent": actor, "action": "release", "loan_id": loan_id,
                            "detail": f"hold {h.id}: {h.reason}{' ' + h.channel if h.channel else ''}: {note or ''}"}])
        return h.id
