"""Handing today's queue to agents: spread fairly, or taken by an agent; never one account twice.

`assign` goes down the queue (most urgent first) and gives each account to the agent who
last worked it when that agent is on today's list and has room, else to the agent with the
fewest accounts (list order breaks ties), up to `capacity` each. `take` claims the next
unassigned accounts for one agent. Both insert with ON CONFLICT DO NOTHING on (day, loan):
two takers at the same moment, in two processes, never get the same account.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine

from collect_cli.config import Settings
from collect_cli.services.reports import QueueEntry, work_queue
from collect_cli.store import queries as q


def _open_entries(engine: Engine, settings: Settings, as_of: date, now: datetime) -> tuple[list[QueueEntry], dict]:
    with engine.connect() as conn:
        entries = work_queue(conn, as_of=as_of, settings=settings, limit=None, now=now).entries
        taken = q.assigned_on(conn, as_of)
    return entries, taken


def assign(*, engine: Engine, settings: Settings, as_of: date, now: datetime, agents: list[str],
           capacity: int, by: str) -> dict[str, list[str]]:
    entries, taken = _open_entries(engine, settings, as_of, now)
    load = {a: sum(1 for who in taken.values() if who == a) for a in agents}
    plan: list[dict] = []
    for e in entries:
        if e.account.loan_id in taken:
            continue
        room = [a for a in agents if load[a] < capacity]
        if not room:
            break
        agent = e.last_agent if e.last_agent in room else min(room, key=lambda a: (load[a], agents.index(a)))
        load[agent] += 1
        plan.append({"day": as_of, "loan_id": e.account.loan_id, "agent": agent, "by": by, "at": now})
    with engine.begin() as conn:
        got = set(q.claim(conn, plan))
        q.add_audit(conn, [{"at": now, "agent": by, "action": "assign", "loan_id": p["loan_id"],
                            "detail": f"to {p['agent']} for {as_of.isoformat()}"} for p in plan if p["loan_id"] in got])
    result: dict[str, list[str]] = {a: [] for a in agents}
    for p in plan:
        if p["loan_id"] in got:
            result[p["agent"]].append(p["loan_id"])
    return result


def take(*, engine: Engine, settings: Settings, as_of: date, now: datetime, agent: str, limit: int) -> list[str]:
    """Claim up to `limit` of the most urgent accounts nobody has today."""
    entries, taken = _open_entries(engine, settings, as_of, now)
    got: list[str] = []
    for e in entries:
        if len(got) >= limit:
            break
        if e.account.loan_id in taken:
            continue
        with engine.begin() as conn:  # one claim at a time: a rival may take the next one first
            mine = q.claim(conn, [{"day": as_of, "loan_id": e.account.loan_id, "agent": agent, "by": agent, "at": now}])
            if mine:
                q.add_audit(conn, [{"at": now, "agent": agent, "action": "take", "loan_id": mine[0],
                                    "detail": f"for {as_of.isoformat()}"}])
        got += mine
    return got
