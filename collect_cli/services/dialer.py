"""A predictive dialer or a voice robot: today's call list out, its calls back in.

The list is the work queue's accounts that may be called now (services.reports.work_queue:
holds, WHEN-1/6 in each borrower's zone, WHEN-2/3/4, WHO-4, legal stages, as `log` judges a
call), each with the attempts and conversations left today and the script for its segment,
and only what a caller needs (AGY-3): the loan, the name to greet, the number, the language
and zone, the figures a first-party script states. Every file made is recorded. The results
come back into the contact log as `voice` or `robot` calls, which the call caps count like a
collector's (WHEN-2: connected calls with the borrower, all callers together; WHEN-3:
attempts to the number), each judged at its moment on what came before it: a call the
rules would have refused is recorded as it happened, with the breach. Promises, disputes,
complaints and opt-outs set going what they do on `collect log`.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Engine

from collect_cli.config import Settings
from collect_cli.domain.compliance import Refusal
from collect_cli.domain.money import fmt
from collect_cli.errors import UsageError
from collect_cli.ledger.dialer import COLUMNS, CallResult, read_results
from collect_cli.ledger.records import Rejected, write_rejects
from collect_cli.services.contact_facts import local_day, zone_of
from collect_cli.services.contacts import account_at, check_promise, consequences, judge_contact
from collect_cli.services.reports import work_queue
from collect_cli.store import queries as q

FIELDS = ["campaign", "loan_id", "name", "phone", "language", "time_zone", "call_from", "call_until", "valid_on",
          "attempts_left", "conversations_left", "script", "days_past_due", "amount_overdue", "as_of"]


@dataclass
class CallList:
    rows: list[dict]
    left_out: Counter = field(default_factory=Counter)  # by the rule that forbids a call now
    path: Path | None = None


def export_calls(*, engine: Engine, settings: Settings, campaign: str, as_of: date, now: datetime,
                 buckets: tuple[str, ...], limit: int | None, output: Path, agent: str) -> CallList:
    if not campaign.strip() or len(campaign) > 64:
        raise UsageError("--campaign: name the campaign (at most 64 characters)")
    unknown = [b for b in buckets if b not in {x.name for x in settings.buckets}]
    if unknown:
        raise UsageError(f"--bucket {unknown[0]}: not a configured bucket")
    start, end = settings.contact.window
    out = CallList([])
    with engine.begin() as conn:
        for e in work_queue(conn, as_of=as_of, settings=settings, limit=None, now=now).entries:
            acc = e.account
            if buckets and acc.state.bucket not in buckets:
                continue
            if e.call_now != "yes":
                out.left_out[e.call_now] += 1
                continue
            out.rows.append({
                "campaign": campaign, "loan_id": acc.loan_id, "name": acc.borrower_name, "phone": acc.phone,
                "language": acc.locale, "time_zone": zone_of(acc, settings).key, "call_from": f"{start:%H:%M}",
                "call_until": f"{end:%H:%M}", "valid_on": local_day(now, zone_of(acc, settings)).isoformat(),
                "attempts_left": e.attempts_left, "conversations_left": e.talks_left,
                "script": settings.dialer.script(acc.state.bucket or "", e.segment),
                "days_past_due": acc.state.dpd, "amount_overdue": fmt(acc.state.overdue), "as_of": as_of.isoformat()})
            if limit and len(out.rows) >= limit:
                break
        out.path = _write(output, out.rows)
        # AGY-3: every file shared is recorded, with what it held
        q.add_audit(conn, [{"at": now, "agent": agent, "action": "dialer export", "loan_id": None,
                            "detail": f"campaign {campaign}: {len(out.rows)} accounts as of {as_of.isoformat()} "
                                      f"to {output} ({', '.join(FIELDS)})"}])
    return out


def _write(path: Path, rows: list[dict]) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # names and numbers: owner-only
    with open(fd, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, FIELDS)
        w.writeheader()
        w.writerows(rows)
    return path


@dataclass
class ResultsImport:
    calls: int = 0
    before: int = 0  # rows taken in by an earlier import
    outcomes: Counter = field(default_factory=Counter)
    breaches: list[str] = field(default_factory=list)  # "line N: RULE: why"
    rejected: list[Rejected] = field(default_factory=list)
    rejects_path: Path | None = None


def import_results(*, engine: Engine, settings: Settings, path: Path, campaign: str | None, agent: str,
                   now: datetime) -> ResultsImport:
    results, rejected = read_results(path, zone=settings.zone, now=now)
    out = ResultsImport(rejected=list(rejected))
    with engine.begin() as conn:
        known = set(q.known_loan_ids(conn, {r.loan_id for r in results}))
        since = min((r.at for r in results), default=now)
        seen = {(c.loan_id, c.at, c.channel, c.outcome, c.agent)
                for rows in q.contacts_of(conn, sorted(known), since).values() for c in rows}
        for r in results:
            if r.loan_id not in known:
                out.rejected.append(Rejected(r.line, _values(r), f"loan_id: no loan {r.loan_id} on file"))
                continue
            caller = (f"{campaign}/{r.agent}" if campaign else r.agent)[:64]
            if (r.loan_id, r.at, r.channel, r.outcome, caller) in seen:
                out.before += 1
                continue
            seen.add((r.loan_id, r.at, r.channel, r.outcome, caller))
            acc = account_at(conn, r.loan_id, r.at, settings)
            if r.promise_amount is not None:
                try:
                    check_promise(r.promise_amount, r.promise_on, local_day(r.at, zone_of(acc, settings)), settings)
                except UsageError as exc:
                    out.rejected.append(Rejected(r.line, _values(r), f"promise_on: {exc}"))
                    continue
            number = r.number or acc.phone
            refusal = (Refusal("WHO-3", "the number dialled is not the borrower's on file: the dialer calls the "
                                        "borrower's number, no other") if number != acc.phone
                       else judge_contact(conn, acc, "call", r.outcome, None, number, r.at, settings, late=True,
                                          before=True))
            contact_id = q.add_contact(conn, loan_id=r.loan_id, borrower_id=acc.borrower_id, at=r.at, logged_at=now,
                                       channel=r.channel, direction="out", outcome=r.outcome, party=None,
                                       person_id=None, number=number, note=r.note, agent=caller, override=None,
                                       recording=r.recording, breach=str(refusal) if refusal else None)
            if r.promise_amount is not None:
                q.add_promise(conn, loan_id=r.loan_id, borrower_id=acc.borrower_id, contact_id=contact_id,
                              made_on=local_day(r.at, zone_of(acc, settings)), amount=r.promise_amount,
                              due_on=r.promise_on, grace_days=settings.promises.grace_days, status="open", paid=0,
                              evaluated_on=None, agent=caller)
            consequences(conn, loan_id=r.loan_id, channel=r.channel, outcome=r.outcome, note=r.note, agent=caller,
                         now=r.at, logged_at=now, settings=settings, contact_id=contact_id)
            out.calls += 1
            out.outcomes[r.outcome] += 1
            if refusal is not None:
                out.breaches.append(f"line {r.line}: {refusal}")
        of = f" (campaign {campaign})" if campaign else ""
        q.add_audit(conn, [{"at": now, "agent": agent, "action": "dialer results", "loan_id": None,
                            "detail": f"{out.calls} calls from {path}{of}, {out.before} taken in before, "
                                      f"{len(out.breaches)} breaching the rules, {len(out.rejected)} rejected"}])
    if out.rejected:
        out.rejects_path = write_rejects(path, out.rejected, list(COLUMNS))
    return out


def _values(r: CallResult) -> dict[str, str]:
    return {"loan_id": r.loan_id, "at": f"{r.at:%Y-%m-%d %H:%M}Z", "outcome": r.outcome, "channel": r.channel,
            "number": r.number or "", "agent": r.agent, "note": r.note or ""}
