"""The account card: one borrower's loans as of a date and everything done about them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection

from collect_cli.config import Settings
from collect_cli.domain.content import name_problem
from collect_cli.errors import UsageError
from collect_cli.services.cases import views as case_views
from collect_cli.services.contact_facts import end_of_day
from collect_cli.services.messages import penalty_position
from collect_cli.services.plans import status as plan_status
from collect_cli.services.portfolio import Account, iter_accounts
from collect_cli.store import queries as q


@dataclass(frozen=True)
class Card:
    as_of: date
    loan_id: str
    accounts: list[Account]  # every loan of the borrower, the asked one first
    payments: list  # a reversal is a payment row of its own, negative, that names the one it reverses
    events: list  # (loan_id, LoanEvent): write-offs, transfers, settlements, pauses, as the core system sent them
    messages: list
    contacts: list
    promises: list
    holds: list
    plans: list[dict]  # each plan with its status as of the date
    waivers: list  # granted by the end of the date, each with its outcome (applied or lapsed, and when)
    people: list  # contact persons of the borrower (WHO-2, WHO-3)
    shared: dict[str, list[str]]  # the borrower's phone / e-mail -> other borrower ids on file with it (WHO-4)
    name_problem: str | None  # why the name on file cannot stand in a message (it is greeted neutrally)
    penalty: dict[str, tuple[int, int]]  # per loan, penalty interest (owed, paid by payments) on the date
    cases: list  # the borrower's disputes and complaints, as recorded by the end of the date (services.cases)


def account_card(conn: Connection, *, loan_id: str, as_of: date, settings: Settings) -> Card:
    ids = q.borrower_loan_ids(conn, loan_id)
    if not ids:
        raise UsageError(f"no loan {loan_id!r}")
    accounts = list(iter_accounts(conn, as_of=as_of, settings=settings, loan_ids=ids))
    if loan_id not in {a.loan_id for a in accounts}:
        raise UsageError(f"{loan_id} was not yet disbursed on {as_of.isoformat()}")
    accounts.sort(key=lambda a: (a.loan_id != loan_id, a.loan_id))
    # the figures are as of the date (payments after it are left out, like the engine does),
    # and the records are those made by the end of that day, each as it stood then (REC-4)
    known = end_of_day(as_of, settings.zone)
    paid = [p for p in q.payments_list(conn, ids) if p.paid_on <= as_of]
    return Card(
        as_of=as_of, loan_id=loan_id, accounts=accounts,
        payments=paid,
        # a transfer ahead is shown: the borrower must be told of it before (XFER-1)
        events=[(i, e) for i, es in q.events_of(conn, ids).items() for e in es
                if e.event_on <= as_of or e.event == "transfer"],
        messages=[m for i in ids for m in q.list_messages(conn, loan_id=i, known_by=known)],
        contacts=[c for cs in q.contacts_of(conn, ids, datetime.min, known).values() for c in cs],
        promises=[p for ps in q.promises_of(conn, ids, known, as_of).values() for p in ps],
        holds=q.holds_list(conn, ids, known),
        plans=_plans(conn, accounts, settings),
        waivers=[w for ws in q.waivers_of(conn, ids, known).values() for w in ws],
        people=q.persons_of(conn, accounts[0].borrower_id, known),
        shared=_shared(conn, accounts[0]),
        name_problem=name_problem(accounts[0].borrower_name, settings.messaging.lexicon),
        # from the card's own payment rows (a reversal negative), as penalty_for reads them
        penalty={a.loan_id: penalty_position(a, [(p.paid_on, p.amount) for p in paid if p.loan_id == a.loan_id])
                 for a in accounts},
        cases=case_views(conn, as_of=as_of, settings=settings, borrower_ids=[accounts[0].borrower_id]),
    )


def _shared(conn: Connection, account: Account) -> dict[str, list[str]]:
    points = {"phone": account.phone, "email": account.email, "push": account.push_id}
    shared = q.shared_points(conn, [p for p in points.values() if p])
    confirmed = q.confirmed_owners(conn, list(shared))
    return {kind: sorted(shared[p] - {account.borrower_id}) for kind, p in points.items()
            if p in shared and confirmed.get(p) != account.borrower_id}


def _plans(conn: Connection, accounts: list[Account], settings: Settings) -> list[dict]:
    """The plans, each with its status as of the date: like the schedule they wrote, they
    count from their plan date (a plan made after the date shows as `later`)."""
    states = {a.loan_id: a.state for a in accounts}
    in_force = q.schedule_batches(conn, list(states))
    out = []
    for loan_id, rows in q.plans_of(conn, list(states)).items():
        made = [p for p in rows if p.plan_on <= states[loan_id].as_of]
        for p in rows:
            out.append({"plan": p, "status": plan_status(p, states[loan_id], latest=bool(made) and p is made[-1],
                                                         # a later plan explains its rows being gone
                                                         in_force=p.batch_id in in_force[loan_id] or p is not rows[-1],
                                                         rules=settings.plans)})
    return out
