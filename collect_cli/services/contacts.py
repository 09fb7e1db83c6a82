"""The contact log: calls, visits and replies, with the call rules (WHEN-1..3) and promises."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from collect_cli.config import Settings
from collect_cli.domain.compliance import CONNECTED, call_gate
from collect_cli.domain.money import fmt
from collect_cli.errors import Refused, UsageError
from collect_cli.store import queries as q

CHANNELS = ("call", "visit", "sms-reply", "email-reply")
OUTCOMES = ("reached", "no-answer", "wrong-number", "promise", "refused", "dispute", "paid-claim", "third-party")


@dataclass(frozen=True)
class Logged:
    contact_id: int
    promise_id: int | None
    overridden: str | None  # the rule a supervisor overrode


THIRD_PARTY_SCRIPT = ("WHO-2: you are speaking with someone other than the borrower. Only ask them to help "
                      "reach the borrower. Do not mention the debt, any amount, 逾期/欠款/催收 or the product. "
                      "If they refuse, they are never contacted again.")


def log_contact(*, engine: Engine, settings: Settings, loan_id: str, channel: str, outcome: str, agent: str,
                now: datetime, note: str | None = None, promise_amount: int | None = None,
                promise_on: date | None = None, override: str | None = None, party: str | None = None) -> Logged:
    """Record one contact (and its promise); refuse a call or visit the rules forbid now.

    `party` names a contact person other than the borrower (WHO-2): they make no promise,
    and one who refused is never contacted again."""
    if (outcome == "promise") != (promise_amount is not None):
        raise UsageError("--outcome promise goes with --promise AMOUNT --on DATE, and only with it")
    if party is not None and outcome in ("promise", "paid-claim", "dispute"):
        raise UsageError(f"WHO-2: {party} is not the borrower: only ask them to help reach the borrower "
                         f"(outcome reached, no-answer, wrong-number or refused)")
    with engine.begin() as conn:
        who = q.borrower_zone(conn, loan_id)
        if who is None:
            raise UsageError(f"no loan {loan_id!r}")
        borrower_id, tz = who
        if party is not None and q.party_refused(conn, borrower_id, party):
            raise Refused(f"WHO-2: {party} refused to help before; they are never contacted again")
        zone = ZoneInfo(tz or settings.timezone)
        local = now.replace(tzinfo=UTC).astimezone(zone)
        overridden = None
        if channel in ("call", "visit"):
            start = datetime.combine(local.date(), time(0), zone).astimezone(UTC).replace(tzinfo=None)
            today = q.contacts_between(conn, borrower_id, start, start + timedelta(days=1))
            calls = [c for c in today if c.channel == "call"]
            refusal = call_gate(
                local_time=local.time(), window=settings.contact.window,
                connected=channel == "call" and outcome in CONNECTED,
                connected_today=sum(c.outcome in CONNECTED for c in calls),
                attempts_today=len(calls) if channel == "call" else 0,
            )
            if refusal is not None:
                if not override:
                    raise Refused(f"{refusal}; a supervisor may log it with --override REASON")
                overridden = f"{refusal.rule}: {override}"
        contact_id = q.add_contact(conn, loan_id=loan_id, borrower_id=borrower_id, at=now, channel=channel,
                                   outcome=outcome, party=party, note=note, agent=agent, override=overridden)
        audit = [{"at": now, "agent": agent, "action": "contact", "loan_id": loan_id,
                  "detail": f"{channel} {outcome}" + (f" (with {party}, WHO-2)" if party else "")
                            + (f"; override {overridden}" if overridden else "")}]
        promise_id = None
        if promise_amount is not None:
            _check_promise(promise_amount, promise_on, local.date(), settings)
            promise_id = q.add_promise(conn, loan_id=loan_id, borrower_id=borrower_id, contact_id=contact_id,
                                       made_on=local.date(), amount=promise_amount, due_on=promise_on,
                                       grace_days=settings.promises.grace_days, status="open", paid=0,
                                       evaluated_on=None, agent=agent)
            audit.append({"at": now, "agent": agent, "action": "promise", "loan_id": loan_id,
                          "detail": f"{fmt(promise_amount)} by {promise_on.isoformat()}"})
        if outcome == "dispute":  # HOLD-1 at once: no collection messages until it is resolved
            q.add_hold(conn, loan_id=loan_id, borrower_id=borrower_id, reason="dispute", channel=None,
                       action="place", until=None, note=note or "disputed on a call", actor=agent, at=now)
            audit.append({"at": now, "agent": agent, "action": "hold", "loan_id": loan_id,
                          "detail": "dispute (from the contact)"})
        q.add_audit(conn, audit)
    return Logged(contact_id, promise_id, overridden)


def _check_promise(amount: int, on: date | None, today: date, settings: Settings) -> None:
    if on is None:
        raise UsageError("--promise needs --on DATE")
    if amount <= 0:
        raise UsageError("--promise: the amount must be above 0")
    latest = today + timedelta(days=settings.promises.max_days_ahead)
    if not today <= on <= latest:
        raise UsageError(f"--on {on.isoformat()}: a promise is for a day from today to {latest.isoformat()} "
                         f"(promises.max_days_ahead = {settings.promises.max_days_ahead}); longer is a plan")
