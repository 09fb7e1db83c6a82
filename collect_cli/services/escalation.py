"""Escalation to the legal or agency stage, and the placement file for an outside agency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, Engine

from collect_cli.config import Settings
from collect_cli.domain.escalation import propose
from collect_cli.domain.money import fmt
from collect_cli.domain.plans import broken
from collect_cli.domain.policy import Situation, decide
from collect_cli.errors import Refused, UsageError
from collect_cli.services.agencies import entrusted, placeable
from collect_cli.services.contact_facts import end_of_day, hold_facts, local_day, shared_unconfirmed, transferred
from collect_cli.services.portfolio import episodes_of, iter_accounts
from collect_cli.store import queries as q

STAGES = ("legal", "agency")  # what `escalate` records; a recall records "recalled"
# PIPL: what an agency needs to collect, and no more (no ID, no address, no other loans).
PLACEMENT_FIELDS = ["loan_id", "borrower_name", "phone", "dpd", "overdue", "as_of"]


def _proposals(conn: Connection, *, as_of: date, settings: Settings):
    """(account, (stage, rule) or None) for every delinquent account as of `as_of`."""
    late = list(iter_accounts(conn, as_of=as_of, settings=settings, late_only=True))
    latest_plans = q.latest_plans(conn, as_of)
    for first in range(0, len(late), 1000):
        batch = late[first:first + 1000]
        pays = q.payments_of(conn, [a.loan_id for a in batch], as_of)
        for a in batch:
            plan = latest_plans.get(a.loan_id)
            yield a, propose(overdue=a.state.overdue, dpd=a.state.dpd, episode_starts=episodes_of(a, pays[a.loan_id],
                                                                                                   as_of),
                             rules=settings.escalation,
                             broken_plan=broken(a.state, plan.plan_on, settings.plans) if plan else None)


def candidates(conn: Connection, *, as_of: date, settings: Settings) -> list[dict]:
    """Delinquent accounts a rule proposes for a stage they are not in yet."""
    stages = q.current_stages(conn, known_by=end_of_day(as_of, settings.zone))  # as recorded by that day
    out = []
    for a, proposal in _proposals(conn, as_of=as_of, settings=settings):
        current = stages.get(a.loan_id)
        if proposal and (current is None or current.stage != proposal[0]):
            out.append({"loan_id": a.loan_id, "dpd": a.state.dpd, "overdue": fmt(a.state.overdue),
                        "stage": proposal[0], "rule": proposal[1],
                        "current_stage": current.stage if current else None})
    return out


def agency_proposals(conn: Connection, *, as_of: date, settings: Settings, agency: str) -> list:
    """The delinquent accounts for an agency: those the rules send to the agency stage, and
    those escalated to this agency by hand (the placement lifecycle filters them further)."""
    stages = q.current_stages(conn)
    return [a for a, proposal in _proposals(conn, as_of=as_of, settings=settings)
            if (proposal and proposal[0] == "agency")
            or (a.loan_id in stages and stages[a.loan_id].stage == "agency" and stages[a.loan_id].agency == agency)]


def escalate(*, engine: Engine, settings: Settings, loan_id: str, stage: str, agency: str | None,
             note: str | None, agent: str, now: datetime) -> None:
    """Record the stage; an agency must be one the register lets receive placements (AGY-2)."""
    if stage == "agency" and not agency:
        raise UsageError("--stage agency needs --agency NAME: who the account is placed with")
    with engine.begin() as conn:
        if q.borrower_of(conn, loan_id) is None:
            raise UsageError(f"no loan {loan_id!r}")
        if stage == "agency":
            on = local_day(now, settings.zone)
            agency = placeable(conn, name=agency, on=on, settings=settings).agency.name
        q.add_escalation(conn, loan_id=loan_id, stage=stage, agency=agency, rule=None, note=note, agent=agent, at=now)
        q.add_audit(conn, [{"at": now, "agent": agent, "action": "escalate", "loan_id": loan_id,
                            "detail": f"{stage}{' with ' + agency if agency else ''}: {note or ''}"}])


@dataclass(frozen=True)
class Placements:
    rows: list[dict]  # what the agency gets, for the accounts it may work
    held_back: list[dict]  # loan_id, reason: placed with it, but the contact policy keeps them out


def may_go(conn: Connection, accounts: list, today: date,
           current: dict[str, int] | None = None) -> dict[str, str | None]:
    """Per account, why the contact policy keeps it from an agency (None: it may go); `current`:
    days past due on the real day, when the accounts are of an earlier date."""
    ids = [a.loan_id for a in accounts]
    holds = q.active_holds(conn, ids, sorted({a.borrower_id for a in accounts}), today,
                           [p for a in accounts for p in a.points])
    shared = shared_unconfirmed(conn, accounts)
    out = {}
    for a in accounts:
        refusal = decide("placement", Situation(
            holds=hold_facts(holds[a.loan_id]), transferred=transferred(a), dpd=a.state.dpd,
            dpd_today=(current or {}).get(a.loan_id, a.state.dpd), shared_recipient=a.loan_id in shared))
        out[a.loan_id] = str(refusal) if refusal else None
    return out


def placement_rows(conn: Connection, *, agency: str, as_of: date, settings: Settings,
                   today: date | None = None) -> Placements:
    """The accounts placed with `agency` now (the placement lifecycle: told first, AGY-1) that
    the contact policy lets it work: delinquent as of `as_of` and still on `today` (the real day
    the file is made), under no dispute or no-contact hold, with a number it may use (no
    opt-out, not shared unconfirmed); with what the agency needs."""
    agency, refusal = entrusted(conn, name=agency, on=max(today or as_of, as_of), settings=settings)
    if refusal is not None:
        raise Refused(str(refusal))
    ids = sorted(q.placed_loans(conn, agency=agency))
    if not ids:
        return Placements([], [])
    accounts = list(iter_accounts(conn, as_of=as_of, settings=settings, loan_ids=ids))
    today = max(today or as_of, as_of)
    current = {a.loan_id: a.state.dpd for a in iter_accounts(conn, as_of=today, settings=settings, loan_ids=ids)}
    why = may_go(conn, accounts, as_of, {i: current.get(i, 0) for i in ids})
    rows, held = [], []
    for a in accounts:
        if why[a.loan_id]:
            held.append({"loan_id": a.loan_id, "reason": why[a.loan_id]})
            continue
        rows.append({"loan_id": a.loan_id, "borrower_name": a.borrower_name, "phone": a.phone, "dpd": a.state.dpd,
                     "overdue": fmt(a.state.overdue), "as_of": as_of.isoformat()})
    return Placements(rows, held)


def record_placement_export(engine: Engine, placed: Placements, *, agency: str, output, at: datetime,
                            agent: str) -> None:
    """Every account sent to the agency, in the audit: to whom, in which file, which fields."""
    with engine.begin() as conn:
        q.add_audit(conn, [{"at": at, "agent": agent, "action": "placement export", "loan_id": r["loan_id"],
                            "detail": f"to {agency} in {output}: {', '.join(PLACEMENT_FIELDS)}"}
                           for r in placed.rows])
