"""`collect waive`: waivers (减免) within each role's approval limit, audited, and applied
from the day they take effect (a conditional one when the rest is paid by its date: the
nightly run settles them, as it settles promises)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine

from collect_cli.config import Settings
from collect_cli.domain.allocation import PENALTY_INTEREST_PRINCIPAL
from collect_cli.domain.loan_state import Installment
from collect_cli.domain.money import fmt, fmt_grouped
from collect_cli.domain.waivers import limit_refusal, paid_in_full_on, unpaid_of, waived_schedule
from collect_cli.errors import Refused, UsageError
from collect_cli.ledger.kinds import RECORDS
from collect_cli.services.contact_facts import local_day
from collect_cli.services.messages import penalty_for
from collect_cli.services.portfolio import Account, iter_accounts, restated
from collect_cli.store import queries as q


@dataclass(frozen=True)
class Granted:
    waiver_id: int
    loan_id: str
    component: str
    amount: int
    granted_on: date
    if_paid_by: date | None
    rest: int
    effective_on: date | None  # None: waits for the rest to be paid


def grant(*, engine: Engine, loan_id: str, component: str, amount: int, if_paid_by: date | None, agent: str,
          approved_by: str | None, note: str | None, now: datetime, settings: Settings) -> Granted:
    """Record the waiver, or refuse it (nothing written but the refusal in the audit)."""
    with engine.connect() as conn, conn.begin() as tx:
        if not q.lock_loan(conn, loan_id):
            raise UsageError(f"no loan {loan_id!r}")
        acc = _account(conn, loan_id, now, settings)
        day = acc.state.as_of
        problem = _problem(conn, acc, component, amount, if_paid_by, settings)
        if problem:
            raise UsageError(problem)
        limits = settings.waivers
        refusal = limit_refusal(component, amount, (agent, limits.limit(agent, component)),
                                (approved_by, limits.limit(approved_by, component)) if approved_by else None)
        if refusal:
            tx.rollback()
            with engine.begin() as log:
                q.add_audit(log, [{"at": now, "agent": agent, "action": "refused", "loan_id": loan_id,
                                   "detail": f"waiver: {refusal}"}])
            raise Refused(str(refusal))
        rest = _rest(conn, acc, component, amount, settings) if if_paid_by else 0
        waiver_id = q.add_waiver(conn, loan_id=loan_id, component=component, amount=amount, granted_on=day,
                                 if_paid_by=if_paid_by, rest=rest, agent=agent, approved_by=approved_by, note=note,
                                 at=now)
        q.add_audit(conn, [{"at": now, "agent": agent, "action": "waiver", "loan_id": loan_id,
                            "detail": f"{component} {fmt(amount)}" + (f" if {fmt(rest)} is paid by "
                                                                      f"{if_paid_by.isoformat()}" if if_paid_by else "")
                                      + (f", approved by {approved_by}" if approved_by else "")
                                      + (f"; {note}" if note else "")}])
        effective = day if if_paid_by is None else None
        if effective is not None:
            _apply(conn, waiver_id, acc, component, amount, day, now, agent)
    if effective is None:  # a payment of today may already have paid the rest
        with engine.begin() as conn:
            effective = settle(conn, day, now, settings, [waiver_id]).get(waiver_id)
    return Granted(waiver_id, loan_id, component, amount, day, if_paid_by, rest, effective)


def _rest(conn: Connection, acc: Account, component: str, amount: int, settings: Settings) -> int:
    """What the borrower must pay from the grant day on for a conditional waiver: the rest of
    the schedule, counting the grant day's payments (the condition counts them too); under
    the penalty-first rule payments pay the penalty owed first, so it is part of the rest."""
    day = acc.state.as_of
    paid_today = sum(a for d, a in q.payments_of(conn, [acc.loan_id], day, reversed_out=True)[acc.loan_id] if d == day)
    if acc.rule.strategy == PENALTY_INTEREST_PRINCIPAL:
        penalty = penalty_for(acc, q.payments_of(conn, [acc.loan_id], day)[acc.loan_id], settings)
        return acc.state.total_unpaid + penalty + paid_today - amount
    return acc.state.total_unpaid + paid_today - (amount if component != "penalty" else 0)


def _account(conn: Connection, loan_id: str, now: datetime, settings: Settings) -> Account:
    """The loan as of the borrower's today."""
    today = local_day(now, ZoneInfo(q.loan_zones(conn, [loan_id]).get(loan_id) or settings.timezone))
    acc = next(iter_accounts(conn, as_of=today, settings=settings, loan_ids=[loan_id]), None)
    if acc is None:
        raise UsageError(f"{loan_id} was not yet disbursed on {today.isoformat()}")
    return acc


def _problem(conn: Connection, acc: Account, component: str, amount: int, if_paid_by: date | None,
             settings: Settings) -> str | None:
    s = acc.state
    if s.status != "open":
        return f"{acc.loan_id} is {s.status}: there is nothing of it to waive"
    if component == "principal" and if_paid_by is None:
        return "a principal waiver is a settlement: give --if-paid-by DATE, the day by which the rest is paid"
    if if_paid_by is not None and if_paid_by < s.as_of:
        return f"--if-paid-by {if_paid_by.isoformat()} is before today ({s.as_of.isoformat()})"
    if amount <= 0:
        return "the amount must be more than 0"
    taken = sum(w.amount for w in q.waivers_of(conn, [acc.loan_id])[acc.loan_id]
                if w.component == component and w.outcome is None)  # pending ones are promised already
    if component == "penalty":
        pays = q.payments_of(conn, [acc.loan_id], s.as_of)[acc.loan_id]
        left = penalty_for(acc, pays, settings)
    else:
        left = unpaid_of(s, component)
    if amount > left - taken:
        return (f"{acc.loan_id} has {fmt_grouped(max(left - taken, 0))} of {component} left to waive"
                + (f" ({fmt_grouped(taken)} is in waivers still waiting)" if taken else "")
                + f", not {fmt_grouped(amount)}")
    return None


def _apply(conn: Connection, waiver_id: int, acc: Account, component: str, amount: int, effective_on: date,
           now: datetime, agent: str) -> None:
    """The waiver in effect from `effective_on`: interest and principal as a dated schedule
    change of the schedule in force now (other waivers and plans stand), cut where that part
    was unpaid on the grant day (`acc`'s date: what the borrower was offered); penalty as a
    record."""
    batch_id = None
    if component != "penalty":
        batch_id = q.start_batch(conn, file_name=f"waiver {waiver_id} of {acc.loan_id}", sha256="", kind="waiver",
                                 encoding="-", operator=agent, started_at=now)
        current, _ = q.schedules_and_replaced(conn, [acc.loan_id])
        in_force = [Installment(*r[:5]) for r in current[acc.loan_id]]
        on_grant = restated(acc, in_force)
        records = [RECORDS["installments"](acc.loan_id, i.seq, i.due_on, i.principal_due, i.interest_due, i.fee_due)
                   for i in waived_schedule(on_grant, component, amount)]
        q.upsert_installments(conn, batch_id, records)
        digest = hashlib.sha256(repr([r._asdict() for r in records]).encode()).hexdigest()
        q.finish_batch(conn, batch_id, sha256=digest, finished_at=now, rows_read=len(records))
        q.add_schedule_changes(conn, batch_id, effective_on, "waiver")
    q.add_waiver_outcome(conn, waiver_id=waiver_id, outcome="applied", effective_on=effective_on, batch_id=batch_id,
                         at=now)


def settle(conn: Connection, as_of: date, now: datetime, settings: Settings,
           only: list[int] | None = None, part: q.Part = q.WHOLE) -> dict[int, date | None]:
    """Conditional waivers (of the loans of `part`): in effect from the day the rest was paid,
    if that is by their date and by `as_of`; lapsed once their date has passed without it.
    {waiver id: day in effect}"""
    out: dict[int, date | None] = {}
    pending = [w for w in q.pending_waivers(conn) if (only is None or w.id in only) and q.within(part, w.loan_id)]
    for w in pending:
        pays = q.payments_of(conn, [w.loan_id], min(as_of, w.if_paid_by), reversed_out=True)[w.loan_id]
        # waivers granted after it and in effect take their part off the rest too
        later = sum(o.amount for o in q.waivers_of(conn, [w.loan_id])[w.loan_id]
                    if o.id > w.id and o.outcome == "applied" and o.component != "penalty")
        day = paid_in_full_on(w.rest - later, pays, w.granted_on, w.if_paid_by)
        if day is not None and day <= as_of:
            acc = next(iter_accounts(conn, as_of=w.granted_on, settings=settings, loan_ids=[w.loan_id]))
            _apply(conn, w.id, acc, w.component, w.amount, day, now, w.agent)
            q.add_audit(conn, [{"at": now, "agent": "run-reminders", "action": "waiver applied", "loan_id": w.loan_id,
                                "detail": f"waiver {w.id}: the rest {fmt(w.rest)} paid on {day.isoformat()}"}])
            out[w.id] = day
        elif as_of > w.if_paid_by:
            q.add_waiver_outcome(conn, waiver_id=w.id, outcome="lapsed", effective_on=w.if_paid_by + timedelta(days=1),
                                 at=now)
            q.add_audit(conn, [{"at": now, "agent": "run-reminders", "action": "waiver lapsed", "loan_id": w.loan_id,
                                "detail": f"waiver {w.id}: {fmt(w.rest)} was not paid by {w.if_paid_by.isoformat()}"}])
            out[w.id] = None
    return out
