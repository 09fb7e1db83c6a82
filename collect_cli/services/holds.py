"""Holds: placing and releasing instances, as append-only records.

Each placed hold is an instance with its own id, and a release ends one instance: of two
disputes, releasing one leaves the other in force. A dispute holds its loan; every other
kind holds all the borrower's loans (HOLD-3 applies to the borrower). An opt-out also
binds to the number or e-mail it was given for (WHO-4): one of SMS binds to the borrower's
phone, one of e-mail to their e-mail on file, and one given without a channel is placed as
two instances, one per channel, each bound to its number or address (so the same phone
under another borrower id is not texted either).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, Engine

from collect_cli.domain.cases import RULE
from collect_cli.domain.compliance import BORROWER_WIDE
from collect_cli.domain.policy import MESSAGING
from collect_cli.errors import Refused, UsageError
from collect_cli.ledger.values import email_point
from collect_cli.store import queries as q

OPT_OUT_CHANNELS = MESSAGING  # the order of borrower_points' phone, e-mail and push id


@dataclass(frozen=True)
class Placed:
    hold_id: int  # the first instance placed
    scope: str  # "this loan" or "every loan of the borrower"
    hold_ids: tuple[int, ...] = ()  # every instance placed (an opt-out without a channel: one per channel)
    channels: tuple[str | None, ...] = ()
    case: tuple[int, date] | None = None  # a dispute or complaint: the case it opened (id, deadline)


def place_hold(*, engine: Engine, loan_id: str, reason: str, channel: str | None, until: date | None,
               note: str | None, actor: str, now: datetime, today: date) -> Placed:
    if until is not None and until < today:
        raise UsageError(f"--until {until.isoformat()}: a hold that ends in the past holds nothing")
    with engine.begin() as conn:
        return add_hold(conn, loan_id=loan_id, reason=reason, channel=channel, until=until, note=note, actor=actor,
                        now=now)


def add_hold(conn: Connection, *, loan_id: str, reason: str, channel: str | None, until: date | None,
             note: str | None, actor: str, now: datetime, point: str | None = None) -> Placed:
    """Hold instances and their audit entries, in the caller's transaction. An opt-out binds to
    `point`, or to the borrower's phone (sms), e-mail (email) or app push address (push) on
    file now; one without a channel is one instance per channel, each with its point."""
    who = q.borrower_points(conn, loan_id)
    if who is None:
        raise UsageError(f"no loan {loan_id!r}")
    borrower, *reached = who
    on_file = dict(zip(OPT_OUT_CHANNELS, reached, strict=True))
    if reason == "opt-out" and channel is None and point is None:
        targets = [(c, on_file[c]) for c in OPT_OUT_CHANNELS]
    else:
        if reason == "opt-out" and point is None:
            point = on_file.get(channel)
        targets = [(channel, point)]
    scope = "every loan of the borrower" if reason in BORROWER_WIDE else "this loan"
    ids, audit = [], []
    for chan, at_point in targets:
        if reason == "opt-out" and at_point and "@" in at_point:
            at_point = email_point(at_point)  # WHO-4: one address however it is spelled
        hold_id = q.add_hold(conn, loan_id=loan_id, borrower_id=borrower, reason=reason, channel=chan,
                             point=at_point or None, action="place", hold_id=None, until=until, note=note,
                             actor=actor, at=now)
        ids.append(hold_id)
        audit.append({"at": now, "agent": actor, "action": "hold", "loan_id": loan_id,
                      "detail": f"hold {hold_id}: {reason}{' ' + chan if chan else ''}"
                                f"{' until ' + until.isoformat() if until else ''} ({scope}): {note or ''}"})
    q.add_audit(conn, audit)
    return Placed(ids[0], scope, tuple(ids), tuple(c for c, _ in targets))


def release_hold(*, engine: Engine, loan_id: str, reason: str | None, channel: str | None, hold_id: int | None,
                 note: str | None, actor: str, now: datetime, today: date) -> int:
    """Release one hold instance in force for the loan (by id, or the only one of its reason);
    the id released."""
    with engine.begin() as conn:
        borrower = q.borrower_of(conn, loan_id)
        if borrower is None:
            raise UsageError(f"no loan {loan_id!r}")
        # the borrower's own instances: an opt-out another borrower id gave for a number they
        # share binds this loan too (WHO-4), but only its own borrower's loans release it
        held = [h for h in q.active_holds(conn, [loan_id], [borrower], today)[loan_id]
                if h.borrower_id == borrower]
        if hold_id is not None:
            chosen = [h for h in held if h.id == hold_id]
            if not chosen:
                raise UsageError(f"hold {hold_id} is not in force for {loan_id}")
        else:
            chosen = [h for h in held if h.reason == reason and (channel is None or h.channel == channel)]
            if not chosen:
                raise UsageError(f"{loan_id} has no {reason} hold in force")
            if len(chosen) > 1:
                listed = ", ".join(f"{h.id}" + (f" ({h.channel})" if h.channel else "") for h in chosen)
                how = "--id" + (" or --channel" if reason == "opt-out" and channel is None
                                and len({h.channel for h in chosen}) > 1 else "")
                raise UsageError(f"{loan_id} has {len(chosen)} {reason} holds in force ({listed}): name the one "
                                 f"to release with {how}")
        h = chosen[0]
        case = q.open_case_holds(conn, [h.id]).get(h.id)
        if case is not None:
            rule = RULE.get(h.reason, "CASE-3")
            raise Refused(f"{rule}: hold {h.id} belongs to case {case}; it ends when the case is closed, once its "
                          f"written answer was sent (collect case answer {case}, collect send, collect case close "
                          f"{case})")
        end_hold(conn, loan_id=loan_id, borrower_id=borrower, hold=h, note=note, actor=actor, now=now)
        return h.id


def end_hold(conn: Connection, *, loan_id: str, borrower_id: str, hold, note: str | None, actor: str,
             now: datetime) -> None:
    """Release one hold instance (a row of active_holds), with its audit entry."""
    q.add_hold(conn, loan_id=loan_id, borrower_id=borrower_id, reason=hold.reason, channel=hold.channel,
               point=hold.point, action="release", hold_id=hold.id, until=None, note=note, actor=actor, at=now)
    q.add_audit(conn, [{"at": now, "agent": actor, "action": "release", "loan_id": loan_id,
                        "detail": f"hold {hold.id}: {hold.reason}{' ' + hold.channel if hold.channel else ''}: "
                                  f"{note or ''}"}])
