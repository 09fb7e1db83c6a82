"""`collect send`: deliver queued messages whose time has come, after judging them again.

At send time, on the ledger and the records as they are now and on the borrower's own day:
the contact policy again (holds, promises, opt-outs by borrower and by number, the daily
SMS cap, a number shared with another borrower); the recipient from the ledger in force (a
corrected number is used, a removed one cancels); every figure the text states against the
engine's figure for today (AMT-3); and the text itself against the content rules, with the
facts of the records now (SAY-8). A message that fails is cancelled, never sent; one whose
day has not begun where the borrower is, or outside their window, waits. Each batch is
marked after the senders took it, and a retry carries the same idempotency key.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine

from collect_cli.config import Settings
from collect_cli.domain.compliance import Refusal
from collect_cli.domain.content import AGENCY_NOTICE, CASE_ANSWER, COMMAND_PURPOSES, LAWYER_LETTER
from collect_cli.domain.money import fmt
from collect_cli.domain.notice import ENGINE_FIELDS, engine_values
from collect_cli.domain.pii import mask_phone, mask_text
from collect_cli.domain.policy import CAPPED, POINT, TRANSFER_NOTICE, decide
from collect_cli.messaging.senders import FileSender, HttpSender, Outgoing, SmtpSender
from collect_cli.services.cases import answer_facts, unproven_amount
from collect_cli.services.contact_facts import BatchRecords, local_day, zone_of
from collect_cli.services.legal import letter_facts
from collect_cli.services.messages import (
    context_for,
    judged,
    penalty_for,
    stated_figures,
    texts_for,
)
from collect_cli.services.one_off import OwnFacts
from collect_cli.services.placements import notice_facts
from collect_cli.services.portfolio import Account, iter_accounts
from collect_cli.store import queries as q
from collect_cli.store.locks import run_lock

ACTOR = "send"
BATCH = 500


@dataclass
class SendSummary:
    sent: Counter = field(default_factory=Counter)  # by channel
    billed: Counter = field(default_factory=Counter)  # by channel: what the providers bill (an SMS's parts)
    failed: Counter = field(default_factory=Counter)
    cancelled: Counter = field(default_factory=Counter)  # by rule
    deferred: Counter = field(default_factory=Counter)  # by channel: the provider is down, try later
    waiting: int = 0  # outside the contact window now, or before the borrower's day has begun


def make_senders(settings: Settings, today: date) -> dict[str, object]:
    d = settings.delivery
    kinds = {
        "file": lambda channel: FileSender(d.spool_dir, today),
        # the app push gateway is a service of its own; the other channels share one
        "http": lambda channel: HttpSender(d.push_url if channel == "push" else d.http_url,
                                           timeout=d.http_timeout_seconds, max_attempts=d.http_max_attempts,
                                           backoff_seconds=d.http_backoff_ms / 1000),
        "smtp": lambda channel: SmtpSender(d.smtp_host, d.smtp_port, d.smtp_sender, unsubscribe=d.unsubscribe),
    }
    return {channel: kinds[kind](channel) for channel, kind in d.senders.items()}


def send_due(*, engine: Engine, settings: Settings, clock: Callable[[], datetime], channel: str | None = None,
             limit: int | None = None, senders: dict | None = None) -> SendSummary:
    """Deliver up to `limit` queued messages whose send_after has passed (0 or None: all).

    `clock()` gives now (naive UTC); it is read again for each message, so a long run stops
    at the end of a borrower's contact window instead of sending into the night.
    """
    summary = SendSummary()
    start = clock()
    senders = senders or make_senders(settings, local_day(start, settings.zone))
    down: set[str] = set()  # channels whose provider failed in this run: the rest waits
    with run_lock(engine, "send"), engine.connect() as conn:
        after, left = None, limit or None  # 0 or None: everything due
        while left is None or left > 0:
            with conn.begin():  # the next page of what was due at the start (waiting ones stay queued)
                batch = q.due_messages(conn, start, channel=channel, after=after,
                                       limit=BATCH if left is None else min(BATCH, left))
                if not batch:
                    break
                days = _TheirDays(conn, batch, settings, clock())
            after = (batch[-1].send_after, batch[-1].id)
            left = None if left is None else left - len(batch)
            updates: list[tuple[dict, str]] = []  # (new state of the message, what the event says)
            for msg in batch:
                now = clock()
                acc, records = days.account(msg.loan_id)
                verdict = _recheck(msg, acc, records, now, settings, days.own.get(msg.id))
                if isinstance(verdict, Refusal):
                    updates.append(({"id": msg.id, "status": "cancelled", "reason": str(verdict),
                                     "recipient": msg.recipient, "attempts": msg.attempts, "provider_ref": None},
                                    str(verdict)))
                    summary.cancelled[verdict.rule] += 1
                elif verdict is None:
                    summary.waiting += 1
                elif msg.channel in down:
                    summary.deferred[msg.channel] += 1
                else:
                    recipient = verdict
                    row, event = _deliver(msg, acc, recipient, senders[msg.channel], settings, summary)
                    if row["status"] == "queued":
                        down.add(msg.channel)
                    else:
                        records.note(acc, msg.channel, now)
                    updates.append((row, event))
            for sender in senders.values():
                sender.flush()
            # marked after delivery: a crash in between sends again, and the idempotency key
            # (the message id and text) makes the provider or the spool drop the second copy
            stamp = clock()
            with conn.begin():
                q.update_messages(conn, [{**u, "updated_at": stamp} for u, _ in updates])
                q.add_events(conn, [{"message_id": u["id"], "at": stamp, "status": u["status"], "reason": event,
                                     "actor": ACTOR, "recipient": u["recipient"], "provider_ref": u["provider_ref"]}
                                    for u, event in updates])
    return summary


class _TheirDays:
    """The accounts of a batch as of each borrower's own today, with their records."""

    def __init__(self, conn: Connection, batch, settings: Settings, now: datetime):
        loan_ids = sorted({m.loan_id for m in batch})
        zones = q.loan_zones(conn, loan_ids)
        by_day: dict[date, list[str]] = defaultdict(list)
        for loan_id in loan_ids:
            by_day[local_day(now, ZoneInfo(zones.get(loan_id) or settings.timezone))].append(loan_id)
        self._of: dict[str, tuple[Account, BatchRecords]] = {}
        for day, ids in by_day.items():
            accounts = list(iter_accounts(conn, as_of=day, settings=settings, loan_ids=ids))
            records = BatchRecords(conn, accounts, on=day, now=now, settings=settings)
            self._of.update({a.loan_id: (a, records) for a in accounts})
        # a command's messages: what they state of their record now, or why they may not go any more
        self.own = {**answer_facts(conn, [m.id for m in batch if m.purpose == CASE_ANSWER]),
                    **notice_facts(conn, [m.id for m in batch if m.purpose == AGENCY_NOTICE],
                                   on=local_day(now, settings.zone), settings=settings),
                    **letter_facts(conn, [m.id for m in batch if m.purpose == LAWYER_LETTER])}

    def account(self, loan_id: str) -> tuple[Account | None, BatchRecords | None]:
        return self._of.get(loan_id, (None, None))


def _purpose(msg) -> str:
    return msg.purpose or ("predue_reminder" if msg.episode.startswith("due-") else "overdue_notice")


def _recheck(msg, acc: Account | None, records: BatchRecords | None, now: datetime,
             settings: Settings, own: OwnFacts | Refusal | None = None) -> Refusal | str | None:
    """A refusal (cancel), None (not yet: wait) or the recipient to deliver to now. `own`: a
    command's message's facts from its record (a case, a placement), or why it may not go."""
    if acc is None:
        return Refusal("AMT-1", f"loan {msg.loan_id} is not in the ledger as of today")
    if _purpose(msg) in COMMAND_PURPOSES and not isinstance(own, OwnFacts):
        return own or Refusal("CASE", "no record on file sends this message")
    zone = zone_of(acc, settings)
    today = local_day(now, zone)
    if today > msg.as_of + timedelta(days=1):
        return Refusal("AMT-1", f"the figures are of {msg.as_of.isoformat()}, too old to send; "
                                "the next run queues current ones")
    if msg.channel in CAPPED and msg.send_on is not None and today > msg.send_on:
        return Refusal("WHEN-5", f"planned for {msg.send_on.isoformat()}; sending it today could make two "
                                 f"{'SMS' if msg.channel == 'sms' else 'pushes'} in a day (the next run plans "
                                 "today's)")
    situation = records.automated(acc, msg.channel, _purpose(msg), max(today, msg.as_of), exclude=msg.id)
    if isinstance(own, OwnFacts):
        situation = replace(situation, own_hold=own.hold_id)
    refusal = decide(msg.channel, situation)
    if refusal:
        if refusal.rule == "ADDR" and msg.recipient:
            return Refusal("ADDR", f"the {POINT.get(msg.channel, 'address')} it was queued for is no "
                                   "longer on file")
        return refusal
    if today < msg.as_of:
        return None  # the borrower's day has not begun: "overdue" is not true yet where they are
    context = own.context if isinstance(own, OwnFacts) else None
    refusal = _figures(msg, acc, records, settings, context) or _text(msg, acc, records, settings, context)
    if refusal:
        return refusal
    if not _inside_window(acc, settings, now):
        return None
    if msg.channel == "letter" and situation.recipient != msg.recipient:
        # the address block of the printed letter is the old one: a window envelope would go there
        return Refusal("ADDR", "the postal address changed after the letter was rendered; the next run renders "
                               "it again for the new one")
    return situation.recipient


def _figures(msg, acc: Account, records: BatchRecords, settings: Settings, case: dict | None = None) -> Refusal | None:
    """AMT-1/AMT-3: what the message states is still today's figure, and still owed."""
    state = acc.state
    if _purpose(msg) == TRANSFER_NOTICE:  # it states the transfer, no figure: events are never undone
        return None if state.standing.transfer else Refusal("XFER-1", "no transfer of the loan is on record")
    if _purpose(msg) == CASE_ANSWER:  # owed whatever was paid since: only what it states must hold,
        # the amounts its author typed too
        unproven = unproven_amount(case["case_answer"], acc, records.payments.get(acc.loan_id, []), settings)
        return unproven or _stated(msg, acc, records, settings)
    if msg.episode.startswith("due-"):  # a pre-due reminder: that installment, that amount
        due_on = date.fromisoformat(msg.episode[4:])
        unpaid = sum(p.unpaid for p in state.positions if p.installment.due_on == due_on)
        if unpaid == 0:
            return Refusal("PAID", f"the installment due {due_on.isoformat()} is paid")
        if unpaid != msg.amount_due:
            return Refusal("AMT-1", f"{fmt(unpaid)} is due on {due_on.isoformat()} now, not the "
                                    f"{fmt(msg.amount_due)} the message states")
    elif state.status == "closed" or state.overdue == 0:
        return Refusal("PAID", "nothing is overdue any more")
    elif state.overdue != msg.amount_overdue:
        return Refusal("AMT-1", f"the overdue amount is now {fmt(state.overdue)}, not the "
                                f"{fmt(msg.amount_overdue)} the message states; the next run queues the new figure")
    return _stated(msg, acc, records, settings)


def _stated(msg, acc: Account, records: BatchRecords, settings: Settings) -> Refusal | None:
    """AMT-3: every figure the text states is the engine's for today."""
    state = acc.state
    if msg.figures:
        penalty = penalty_for(acc, records.payments.get(acc.loan_id, []), settings)
        now = engine_values(acc.loan_id, state, penalty)
        for name, stated in stated_figures(msg.body, msg.channel, json.loads(msg.figures)).items():
            if now[name] != stated:
                return Refusal("AMT-3", f"the message states {name.replace('_', ' ')} {stated}; the engine's "
                                        f"figure for today is {now[name] or 'none'}")
    return None


def _text(msg, acc: Account, records: BatchRecords, settings: Settings, case: dict | None = None) -> Refusal | None:
    """The text as the borrower will read it, judged with the records as they are now (an
    answer letter with its case's values)."""
    if not msg.body:
        return None
    locale = acc.locale if acc.locale in settings.messaging.texts else "zh_CN"
    stored = json.loads(msg.figures) if msg.figures else engine_values(acc.loan_id, acc.state)
    facts = records.message_facts(acc, msg.episode)
    context = context_for(acc, locale, msg.channel, settings, purpose=_purpose(msg),
                          engine={k: stored.get(k, "") for k in ENGINE_FIELDS}, facts=facts)
    context.update(case or {})
    found = judged(msg.body, channel=msg.channel, locale=locale, purpose=_purpose(msg), context=context,
                   settings=settings, facts=facts)
    return found[0] if found else None


def _inside_window(acc: Account, settings: Settings, now: datetime) -> bool:
    zones = [acc.timezone] if acc.timezone else (settings.contact.served_timezones or (settings.timezone,))
    start, end = settings.contact.window
    moment = now.replace(tzinfo=UTC)
    return all(start <= moment.astimezone(ZoneInfo(z)).time() < end for z in zones)


def _deliver(msg, acc: Account, recipient: str, sender, settings: Settings, summary: SendSummary) -> tuple[dict, str]:
    texts = texts_for(settings, acc.locale)
    outcome = sender.send(Outgoing(id=msg.id, loan_id=msg.loan_id, channel=msg.channel, recipient=recipient,
                                   body=msg.body, signature=texts.sms_signature, template=msg.template,
                                   as_of=msg.as_of, locale=acc.locale if acc.locale in settings.messaging.texts
                                   else "zh_CN"))
    status = "queued" if outcome.status == "retry" else outcome.status
    {"sent": summary.sent, "failed": summary.failed, "queued": summary.deferred}[status][msg.channel] += 1
    if status == "sent":
        summary.billed[msg.channel] += msg.parts or 1
    # a provider's error body may quote the number or the text: scrubbed before it is stored
    reason = mask_text(outcome.reason)[:500] if outcome.reason else outcome.reason
    row = {"id": msg.id, "status": status, "reason": reason, "recipient": recipient,
           "attempts": msg.attempts + outcome.attempts, "provider_ref": outcome.provider_ref}
    event = reason or f"attempts {outcome.attempts}, ref {outcome.provider_ref}"
    if recipient != msg.recipient:  # WHO-1: the ledger's number or address now, not the one queued for
        shown = mask_phone(msg.recipient) if msg.channel == "sms" else "an earlier address"
        event += f"; recipient from the ledger in force (queued for {shown})"
    return row, (f"retry later: {event}" if status == "queued" else event)
