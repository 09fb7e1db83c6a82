"""`collect send`: deliver queued messages whose time has come, after checking them again.

At send time the gates run again on today's ledger: a message whose account has since paid,
been put on hold, opted out, or whose stated amount is no longer today's figure is cancelled
(reminders.md, AMT-1); one outside the borrower's contact window now waits (WHEN-1). Each
message is one transaction, so a crash loses at most the one being sent, and its retry
carries the same idempotency key.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from collect_cli.config import Settings
from collect_cli.domain.compliance import (
    Hold,
    Refusal,
    hold_gate,
    opt_out_gate,
    promise_gate,
)
from collect_cli.domain.money import fmt
from collect_cli.domain.promises import holds_reminders
from collect_cli.messaging.senders import FileSender, HttpSender, Outgoing, SmtpSender
from collect_cli.services.portfolio import Account, iter_accounts
from collect_cli.store import queries as q
from collect_cli.store.locks import run_lock

ACTOR = "send"
BATCH = 500


@dataclass
class SendSummary:
    sent: Counter = field(default_factory=Counter)  # by channel
    failed: Counter = field(default_factory=Counter)
    cancelled: Counter = field(default_factory=Counter)  # by rule
    deferred: Counter = field(default_factory=Counter)  # by channel: the provider is down, try later
    waiting: int = 0  # outside the contact window now


def make_senders(settings: Settings, today: date) -> dict[str, object]:
    d = settings.delivery
    kinds = {
        "file": lambda: FileSender(d.spool_dir, today),
        "http": lambda: HttpSender(d.http_url, timeout=d.http_timeout_seconds, max_attempts=d.http_max_attempts,
                                   backoff_seconds=d.http_backoff_ms / 1000),
        "smtp": lambda: SmtpSender(d.smtp_host, d.smtp_port, d.smtp_sender),
    }
    return {channel: kinds[kind]() for channel, kind in d.senders.items()}


def send_due(*, engine: Engine, settings: Settings, clock: Callable[[], datetime], channel: str | None = None,
             limit: int | None = None, senders: dict | None = None) -> SendSummary:
    """Deliver up to `limit` queued messages whose send_after has passed.

    `clock()` gives now (naive UTC); it is read again for each message, so a long run stops
    at the end of a borrower's contact window instead of sending into the night.
    """
    summary = SendSummary()
    start = clock()
    senders = senders or make_senders(settings, _local_day(start, settings.timezone))
    down: set[str] = set()  # channels whose provider failed in this run: the rest waits
    with run_lock(engine, "send"), engine.connect() as conn:
        with conn.begin():
            due = q.due_messages(conn, start, channel=channel, limit=limit)
        for first in range(0, len(due), BATCH):
            batch = due[first:first + BATCH]
            loan_ids = sorted({m.loan_id for m in batch})
            today = _local_day(clock(), settings.timezone)
            with conn.begin():
                accounts = {a.loan_id: a for a in iter_accounts(conn, as_of=today, settings=settings, loan_ids=loan_ids)}
                holds = q.active_holds(conn, loan_ids, sorted({a.borrower_id for a in accounts.values()}), today)
                promised = {p.loan_id: p for p in q.open_promises(conn, loan_ids)
                            if holds_reminders(p.due_on, p.grace_days, today)}
            updates: list[tuple[dict, str]] = []  # (new state of the message, what the event says)
            for msg in batch:
                now = clock()
                acc = accounts.get(msg.loan_id)
                refusal = _recheck(msg, acc, [Hold(h.reason, h.channel) for h in holds.get(msg.loan_id, [])],
                                   today, now, settings)
                if refusal is None and msg.loan_id in promised:  # promised since it was queued
                    p = promised[msg.loan_id]
                    refusal = promise_gate(p.amount, p.due_on, p.grace_days)
                if refusal is not None:
                    updates.append(({"id": msg.id, "status": "cancelled", "reason": str(refusal),
                                     "attempts": msg.attempts, "provider_ref": None}, str(refusal)))
                    summary.cancelled[refusal.rule] += 1
                elif msg.channel in down:
                    summary.deferred[msg.channel] += 1
                elif not _inside_window(acc, settings, now):
                    summary.waiting += 1
                else:
                    row, event = _deliver(msg, acc, senders[msg.channel], settings, summary)
                    if row["status"] == "queued":
                        down.add(msg.channel)
                    updates.append((row, event))
            for sender in senders.values():
                sender.flush()
            # marked after delivery: a crash in between sends again, and the idempotency key
            # (the message id and text) makes the provider or the spool drop the second copy
            stamp = clock()
            with conn.begin():
                q.update_messages(conn, [{**u, "updated_at": stamp} for u, _ in updates])
                q.add_events(conn, [{"message_id": u["id"], "at": stamp, "status": u["status"], "reason": event,
                                     "actor": ACTOR} for u, event in updates])
    return summary


def _local_day(moment: datetime, zone: str) -> date:
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).date()


def _recheck(msg, acc: Account | None, holds: list[Hold], today: date, now: datetime,
             settings: Settings) -> Refusal | None:
    if acc is None or today < msg.as_of:
        return Refusal("AMT-1", f"the figures are for {msg.as_of.isoformat()}, a day still to come")
    refusal = hold_gate(holds) or opt_out_gate(holds, msg.channel)
    if refusal:
        return refusal
    if today > msg.as_of + timedelta(days=1):
        return Refusal("AMT-1", f"the figures are of {msg.as_of.isoformat()}, too old to send; "
                                "the next run queues current ones")
    if msg.channel == "sms" and msg.send_on is not None:
        zone = acc.timezone or settings.timezone
        if _local_day(now, zone) > msg.send_on:
            return Refusal("WHEN-5", f"planned for {msg.send_on.isoformat()}; sending it today could make two "
                                     "SMS in a day (the next run plans today's)")
    state = acc.state
    if msg.episode.startswith("due-"):  # a pre-due reminder: that installment, that amount
        due_on = date.fromisoformat(msg.episode[4:])
        unpaid = sum(p.unpaid for p in state.positions if p.installment.due_on == due_on)
        if unpaid == 0:
            return Refusal("PAID", f"the installment due {due_on.isoformat()} is paid")
        if unpaid != msg.amount_due:
            return Refusal("AMT-1", f"{fmt(unpaid)} is due on {due_on.isoformat()} now, not the "
                                    f"{fmt(msg.amount_due)} the message states")
        return None
    if state.status == "closed" or state.overdue == 0:
        return Refusal("PAID", "nothing is overdue any more")
    if state.overdue != msg.amount_overdue:
        return Refusal("AMT-1", f"the overdue amount is now {fmt(state.overdue)}, not the "
                                f"{fmt(msg.amount_overdue)} the message states; the next run queues the new figure")
    return None


def _inside_window(acc: Account, settings: Settings, now: datetime) -> bool:
    zones = [acc.timezone] if acc.timezone else (settings.contact.served_timezones or (settings.timezone,))
    start, end = settings.contact.window
    moment = now.replace(tzinfo=UTC)
    return all(start <= moment.astimezone(ZoneInfo(z)).time() < end for z in zones)


def _deliver(msg, acc: Account, sender, settings: Settings, summary: SendSummary) -> tuple[dict, str]:
    texts = settings.messaging.texts.get(acc.locale) or settings.messaging.texts["zh_CN"]
    outcome = sender.send(Outgoing(id=msg.id, loan_id=msg.loan_id, channel=msg.channel, recipient=msg.recipient,
                                   body=msg.body, signature=texts.sms_signature, template=msg.template,
                                   as_of=msg.as_of))
    status = "queued" if outcome.status == "retry" else outcome.status
    {"sent": summary.sent, "failed": summary.failed, "queued": summary.deferred}[status][msg.channel] += 1
    row = {"id": msg.id, "status": status, "reason": outcome.reason,
           "attempts": msg.attempts + outcome.attempts, "provider_ref": outcome.provider_ref}
    event = outcome.reason or f"attempts {outcome.attempts}, ref {outcome.provider_ref}"
    return row, (f"retry later: {event}" if status == "queued" else event)
