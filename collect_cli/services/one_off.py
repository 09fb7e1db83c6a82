"""One message queued by a command rather than by the nightly strategy: a case's answer
letter, an agency placement notice. It goes through the same gates as the run's messages
(the contact policy for its purpose, the template's lint, the rendered text) and is judged
again at send like every message."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from collect_cli.config import Settings
from collect_cli.domain.compliance import send_after
from collect_cli.domain.policy import CAPPED, Situation, decide
from collect_cli.errors import Refused, UsageError
from collect_cli.messaging.lint import PER_MESSAGE
from collect_cli.messaging.templates import TemplateProblem, TemplateSet
from collect_cli.services.contact_facts import BatchRecords, local_day, recipient_for
from collect_cli.services.messages import compose, lint_findings, penalty_for, template_for, too_long
from collect_cli.services.portfolio import Account, iter_accounts
from collect_cli.store import queries as q


def status_by(message, known_by: datetime | None = None) -> str | None:
    """A message's status as it stood by `known_by` (naive UTC; None: now): a message is
    queued until its last change (sent, cancelled…), which is its updated_at."""
    if message is None:
        return None
    return message.status if known_by is None or message.updated_at <= known_by else "queued"


def sent_day(message, zone: ZoneInfo, known_by: datetime | None = None) -> date | None:
    """The day in `zone` a message was sent, when it had been by `known_by` (a sent message
    changes no more, so its updated_at is the send)."""
    return local_day(message.updated_at, zone) if status_by(message, known_by) == "sent" else None


@dataclass(frozen=True)
class OwnFacts:
    """What a command's message states of its own record (a case, a placement), read again at
    send from the records as they are then."""

    context: dict
    hold_id: int | None = None  # a case's answer: the hold its case placed, which it passes


@dataclass(frozen=True)
class Recipient:
    """A borrower as a message sent now reaches them: the account on their today, its records."""

    account: Account
    records: BatchRecords
    day: date  # the borrower's today
    zone: ZoneInfo

    def situation(self, channel: str, purpose: str, own_hold: int | None = None) -> Situation:
        return replace(self.records.automated(self.account, channel, purpose, self.day), own_hold=own_hold)


def account_now(conn: Connection, *, loan_id: str, settings: Settings, now: datetime) -> tuple[Account, date, ZoneInfo]:
    """The loan's account as of the borrower's today."""
    zone = ZoneInfo(q.loan_zones(conn, [loan_id]).get(loan_id) or settings.timezone)
    day = local_day(now, zone)
    acc = next(iter_accounts(conn, as_of=day, settings=settings, loan_ids=[loan_id]), None)
    if acc is None:
        raise UsageError(f"{loan_id} is not in the ledger as of {day.isoformat()}")
    return acc, day, zone


def reach(conn: Connection, *, loan_id: str, settings: Settings, now: datetime) -> Recipient:
    acc, day, zone = account_now(conn, loan_id=loan_id, settings=settings, now=now)
    return Recipient(acc, BatchRecords(conn, [acc], on=day, now=now, settings=settings), day, zone)


@dataclass(frozen=True)
class Queued:
    message_id: int
    send_after: datetime
    body: str


def queue_message(conn: Connection, *, loan_id: str, settings: Settings, now: datetime, agent: str, template: str,
                  purpose: str, step: str, episode: str, extra: dict, what: str,
                  own_hold: int | None = None, check=None) -> Queued:
    """Render `template` for the loan as of the borrower's today and queue it, in the caller's
    transaction; Refused (with the rule) when the policy or the content rules stop it. `what`
    names the message in errors and in its first event ("the answer to case 3"); `own_hold`:
    the hold of the case a case's answer answers; `check(account, records)`: a refusal of the
    message's own (a case's answer: the amounts its author typed)."""
    acc, day, zone = account_now(conn, loan_id=loan_id, settings=settings, now=now)
    try:
        src = template_for(TemplateSet(settings.messaging.template_dirs), template, acc.locale)
    except TemplateProblem as exc:
        raise UsageError(f"{what}: {exc}") from None
    channel = src.channel or "sms"
    if channel in CAPPED:  # another message beside this one counts against the same daily cap
        q.lock_points(conn, [k for k in (acc.borrower_id, recipient_for(channel, acc)) if k])
    to = Recipient(acc, BatchRecords(conn, [acc], on=day, now=now, settings=settings), day, zone)
    records = to.records
    refusal = decide(channel, to.situation(channel, purpose, own_hold))
    if refusal is not None:
        raise Refused(f"{what} cannot go: {refusal}")
    findings = [f for f in lint_findings(src, settings, purpose) if f.rule not in PER_MESSAGE]
    if findings:
        raise Refused(f"template {src.path.name} failed lint: {findings[0]} (see `collect templates lint`)")
    try:
        msg = compose(acc, src, settings, purpose=purpose, facts=records.message_facts(acc, None),
                      penalty=penalty_for(acc, records.payments.get(acc.loan_id, []), settings), extra=extra)
    except TemplateProblem as exc:
        raise UsageError(f"{what}: {exc}") from None
    refusal = msg.refusals[0] if msg.refusals else (check(acc, records) if check else None)
    if refusal:
        raise Refused(f"{what} would break {refusal}")
    if length := too_long(msg, settings):
        raise Refused(f"{what} is too long: {length.reason}")
    zones = [zone] if acc.timezone else [ZoneInfo(z) for z in (settings.contact.served_timezones
                                                               or (settings.timezone,))]
    when = send_after(now, zones, settings.contact.window, day=day)
    row = {"loan_id": acc.loan_id, "borrower_id": acc.borrower_id, "step": step, "episode": episode,
           "channel": channel, "purpose": purpose, "status": "queued", "reason": None, "recipient": msg.recipient,
           "template": f"{src.path.parent.name}/{src.path.name}", "template_hash": src.content_hash,
           "body": msg.body, "parts": msg.sms_parts or 1, "as_of": day, "amount_overdue": acc.state.overdue,
           "amount_due": acc.state.next_due_amount, "figures": msg.figures, "send_after": when,
           "send_on": local_day(when, zone), "attempts": 0, "provider_ref": None, "created_at": now,
           "updated_at": now}
    inserted = q.insert_messages(conn, [row])
    if not inserted:
        raise UsageError(f"{what}: a message {step} {episode} of {loan_id} is queued already")
    message_id = inserted[0].id
    q.add_versions(conn, now, [{**row, "id": message_id}])
    q.add_events(conn, [{"message_id": message_id, "at": now, "status": "queued", "reason": what, "actor": agent}])
    return Queued(message_id, when, msg.body)
