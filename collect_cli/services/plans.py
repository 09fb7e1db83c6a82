"""Restructuring: propose a plan for a loan, check it against the rules, apply it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, Engine

from collect_cli.config import Settings
from collect_cli.domain import plans
from collect_cli.domain.loan_state import Installment, LoanState
from collect_cli.domain.money import fmt
from collect_cli.domain.promises import evaluate
from collect_cli.errors import UsageError
from collect_cli.ledger.kinds import RECORDS
from collect_cli.services.portfolio import iter_accounts, restated
from collect_cli.store import queries as q


@dataclass(frozen=True)
class Proposal:
    loan_id: str
    plan_on: date
    kind: str  # installments | extend
    before: LoanState
    after: LoanState  # the same payments on the new schedule, as of the plan date
    schedule: list[Installment]  # the whole new schedule
    refusals: list[plans.Refusal]
    installments: int | None = None
    extend_days: int | None = None
    plan_id: int | None = None  # once applied

    @property
    def amount(self) -> int:
        """The unpaid money the plan re-schedules."""
        return self.before.total_unpaid

    @property
    def first_due(self) -> date | None:
        """The first due date under the plan (None when nothing is unpaid)."""
        return min((p.installment.due_on for p in self.after.positions if p.unpaid), default=None)


def propose(conn: Connection, *, loan_id: str, plan_on: date, settings: Settings, installments: int | None = None,
            extend_days: int | None = None, first_due: date | None = None) -> Proposal:
    if (installments is None) == (extend_days is None):
        raise UsageError("give either --installments N or --extend-days N")
    if first_due is not None and installments is None:
        raise UsageError("--first-due goes with --installments")
    accounts = list(iter_accounts(conn, as_of=plan_on, settings=settings, loan_ids=[loan_id]))
    if not accounts:
        if q.borrower_of(conn, loan_id) is None:
            raise UsageError(f"no loan {loan_id!r}")
        raise UsageError(f"{loan_id} was not yet disbursed on {plan_on.isoformat()}")
    before = accounts[0].state
    if before.status == "transferred":  # XFER-1
        raise UsageError(f"{loan_id} was transferred to {before.standing.transferred_to} on "
                         f"{before.standing.transferred_on.isoformat()}: it is no longer this lender's to restructure")
    pays = q.payments_of(conn, [loan_id], plan_on, reversed_out=True)[loan_id]
    broken_promises = [p.due_on for p in q.promises_of(conn, [loan_id])[loan_id]
                       if (v := evaluate(amount=p.amount, made_on=p.made_on, due_on=p.due_on, grace_days=p.grace_days,
                                         payments=pays, as_of=plan_on)) and v.status == "broken"]
    earlier = q.plans_of(conn, [loan_id])[loan_id]
    refusals = plans.refusals(before, plan_on=plan_on, broken_promises=broken_promises, earlier_plans=len(earlier),
                              rules=settings.plans, installments=installments, extend_days=extend_days,
                              first_due=first_due, latest_plan_on=max((p.plan_on for p in earlier), default=None))
    kind = "installments" if installments is not None else "extend"
    if any(r.rule == "PLAN-TERM" for r in refusals):  # terms out of bounds: no schedule to show
        return Proposal(loan_id, plan_on, kind, before, before, [], refusals, installments, extend_days)
    try:
        schedule = (plans.spread(before, installments, plan_on, first_due) if installments is not None
                    else plans.extend(before, extend_days))
    except (OverflowError, ValueError):  # past the year 9999
        raise UsageError("the plan's dates would be past the end of the calendar") from None
    after = restated(accounts[0], schedule, grace_days=settings.grace_days, buckets=settings.buckets,
                     standing=before.standing)
    return Proposal(loan_id, plan_on, kind, before, after, schedule, refusals, installments, extend_days)


def apply(*, engine: Engine, loan_id: str, plan_on: date, settings: Settings, agent: str, now: datetime,
          note: str | None = None, installments: int | None = None, extend_days: int | None = None,
          first_due: date | None = None) -> Proposal:
    """Record the plan and write its schedule, unless a rule refuses it: then nothing is
    written and the proposal carries the refusals. One transaction: the plan, the schedule,
    its history and the audit entry, or nothing."""
    with engine.connect() as conn, conn.begin() as tx:
        # write first, so SQLite takes its writer lock before anything is read
        batch_id = q.start_batch(conn, file_name=f"plan for {loan_id}", sha256="", kind="plan", encoding="-",
                                 operator=agent, started_at=now)
        if not q.lock_loan(conn, loan_id):
            raise UsageError(f"no loan {loan_id!r}")
        p = propose(conn, loan_id=loan_id, plan_on=plan_on, settings=settings, installments=installments,
                    extend_days=extend_days, first_due=first_due)
        if p.refusals:
            tx.rollback()
            return p
        records = [RECORDS["installments"](loan_id, i.seq, i.due_on, i.principal_due, i.interest_due, i.fee_due)
                   for i in p.schedule]
        changed = q.replace_schedule(conn, loan_id, batch_id, records)
        digest = hashlib.sha256(repr([r._asdict() for r in records]).encode()).hexdigest()
        q.finish_batch(conn, batch_id, sha256=digest, finished_at=now, rows_read=len(records), updated=changed)
        plan_id = q.add_plan(conn, loan_id=loan_id, plan_on=plan_on, kind=p.kind, installments=installments,
                             extend_days=extend_days, first_due=p.first_due, amount=p.amount,
                             classification=p.before.classification, batch_id=batch_id,
                             note=note, agent=agent, at=now)
        q.add_audit(conn, [{"at": now, "agent": agent, "action": "plan", "loan_id": loan_id,
                            "detail": f"{describe(p)}: {fmt(p.amount)} from {p.first_due.isoformat()}"
                                      + (f"; {note}" if note else "")}])
    return Proposal(**{**p.__dict__, "plan_id": plan_id})


def describe(p: Proposal) -> str:
    if p.kind == "installments":
        return f"{p.installments} monthly installments"
    return f"unpaid installments {p.extend_days} days later"


def status(plan, state: LoanState, *, latest: bool, in_force: bool, rules) -> str:
    """active | completed | broken | superseded | replaced (the core system's schedule
    overrode it) | later (made after the state's date)."""
    if plan.plan_on > state.as_of:
        return "later"
    if not latest:
        return "superseded"
    if not in_force:
        return "replaced"
    if state.status == "closed":
        return "completed"
    return "broken" if plans.broken(state, plan.plan_on, rules) else "active"
