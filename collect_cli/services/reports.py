"""Reports and the work queue as of a date, computed from the ledger through the engine."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from collect_cli.config import Settings
from collect_cli.domain.policy import CALLS, MAX_CONNECTED_CALLS, MAX_DIAL_ATTEMPTS, decide
from collect_cli.domain.scoring import History, queue_score, queue_sort_key
from collect_cli.domain.segments import CallRecord, segment
from collect_cli.errors import UsageError
from collect_cli.services.analyst import add
from collect_cli.services.analytics import fold_book, positions_on
from collect_cli.services.contact_facts import (
    CALL_HISTORY_DAYS,
    call_situation,
    end_of_day,
    hold_facts,
    legal_states,
    local_day,
    shared_unconfirmed,
    zone_of,
)
from collect_cli.services.portfolio import Account, borrower_loan_counts, episodes_of, iter_accounts
from collect_cli.store import queries as q


@dataclass
class BucketRow:
    bucket: str
    accounts: int = 0
    overdue: int = 0  # minor units
    outstanding: int = 0  # outstanding principal, minor units
    share: Decimal = Decimal(0)  # of all outstanding principal of open loans, 0…1


@dataclass(frozen=True)
class BucketReport:
    as_of: date
    rows: list[BucketRow]
    total: BucketRow
    closed: int  # loans closed by as_of, left out of the buckets
    transferred: int = 0  # loans sold to another creditor by as_of, left out too (XFER-1)
    written_off: BucketRow | None = None  # of the loans in the buckets, those written off (still collected)


def bucket_report(conn: Connection, *, as_of: date, settings: Settings,
                  product: str | None = None) -> BucketReport:
    """From the lean replay of the book (services/analytics.py), in parallel parts when big."""
    accounts_, overdue, outstanding, closed, transferred, written_off = fold_book(
        conn, _bucket_part, (as_of, settings, product), add)
    rows = [BucketRow(b.name, accounts_[b.name], overdue[b.name], outstanding[b.name]) for b in settings.buckets]
    total = BucketRow("total", sum(r.accounts for r in rows), sum(r.overdue for r in rows),
                      sum(r.outstanding for r in rows))
    for row in (*rows, total):
        row.share = Decimal(row.outstanding) / total.outstanding if total.outstanding else Decimal(0)
    return BucketReport(as_of=as_of, rows=rows, total=total, closed=closed, transferred=transferred,
                        written_off=BucketRow("written off", written_off["accounts"], written_off["overdue"],
                                              written_off["outstanding"]))


def _bucket_part(conn: Connection, as_of: date, settings: Settings, product, *, part) -> tuple:
    accounts_, overdue, outstanding, left_out = Counter(), Counter(), Counter(), Counter()
    written_off = Counter()  # accounts, overdue, outstanding
    for _, (p,) in positions_on(conn, [as_of], settings=settings, product=product, part=part):
        if p is None:
            continue
        if p.bucket is None:
            left_out[p.status] += 1
            continue
        accounts_[p.bucket] += 1
        overdue[p.bucket] += p.overdue
        outstanding[p.bucket] += p.outstanding
        if p.written_off:
            written_off.update(accounts=1, overdue=p.overdue, outstanding=p.outstanding)
    return accounts_, overdue, outstanding, left_out["closed"], left_out["transferred"], written_off


def accounts(conn: Connection, *, as_of: date, settings: Settings, bucket: str | None = None,
             product: str | None = None) -> Iterator[Account]:
    if bucket is not None:
        names = [b.name for b in settings.buckets]
        if bucket not in names and bucket != "closed":
            raise UsageError(f"--bucket {bucket}: not a configured bucket ({', '.join(names)}, closed)")
    def wanted(acc: Account) -> bool:
        return bucket is None or acc.state.bucket == bucket or (bucket == "closed" and acc.state.status == "closed")

    # checked above, before the first account is read: output may be streamed
    return filter(wanted, iter_accounts(conn, as_of=as_of, settings=settings, product=product))


@dataclass(frozen=True)
class QueueEntry:
    rank: int
    score: Decimal
    account: Account
    reasons: list[str]
    segment: str
    call_now: str  # "yes", or the rule that forbids a call right now
    last_agent: str | None = None  # who worked the account last
    hold: str | None = None  # a hold that forbids calls (HOLD-1, HOLD-3): shown to supervisors only
    attempts_left: int = MAX_DIAL_ATTEMPTS  # WHEN-3: dial attempts to the number left today
    talks_left: int = MAX_CONNECTED_CALLS  # WHEN-2: connected calls with the borrower left today

@dataclass(frozen=True)
class WorkQueue:
    entries: list[QueueEntry]
    delinquent: int  # all open accounts with DPD > 0
    handed_over: int  # of those, past handover_dpd and so left out (unless include_handover)
    held: int  # of those, under a hold that forbids calls (HOLD-1, HOLD-3): supervisors only


HISTORY_DAYS = 60  # contacts this far back decide segments and the contact gap


def history_since(as_of: date) -> datetime:
    return datetime.combine(as_of - timedelta(days=HISTORY_DAYS), time(0))


def work_queue(conn: Connection, *, as_of: date, settings: Settings, limit: int | None, now: datetime,
               product: str | None = None, include_handover: bool = False, supervisor: bool = False) -> WorkQueue:
    """Delinquent accounts (DPD > 0), most urgent first, each with its score's reasons, its
    segment and whether the borrower may be called at `now` (naive UTC), as the contact policy
    decides. Accounts under a hold that forbids calls are left out, or, for a supervisor,
    listed with the hold.

    Scored a batch at a time as the late loans stream by; with `limit`, only the best so far
    are kept, so memory does not grow with the book."""
    weights = settings.queue
    known = end_of_day(as_of, settings.zone)  # a past day's queue knows what was recorded by its end
    delinquent = handed_over = held = 0
    best: list[tuple[tuple, QueueEntry]] = []

    def score(batch: list[Account]) -> None:
        nonlocal held, best
        if not batch:
            return
        ids = [a.loan_id for a in batch]
        borrower_ids = sorted({a.borrower_id for a in batch})
        phones = [a.phone for a in batch if a.phone]
        # a hold "until D" holds through D in the borrower's zone, as `log` judges it: read from
        # the day before and kept while the borrower's own day has not passed its end
        holds = q.active_holds(conn, ids, borrower_ids, as_of - timedelta(days=1),
                               [p for a in batch for p in a.points], known_by=known)
        pays = q.payments_of(conn, ids, as_of)
        promises = q.promises_of(conn, ids, known, as_of)
        history = q.contacts_of(conn, ids, history_since(as_of), known)
        recent = q.contacts_around(conn, borrower_ids, phones, now - timedelta(days=CALL_HISTORY_DAYS), known)
        _, behind = borrower_loan_counts(conn, as_of, borrower_ids, settings)  # late loans of every product
        shared = shared_unconfirmed(conn, batch)
        legal = legal_states(conn, ids, known or now) if settings.legal.stop_calls_from else {}
        scored = []
        for acc in batch:
            day = min(as_of, local_day(now, zone_of(acc, settings)))
            facts = hold_facts([h for h in holds[acc.loan_id] if h.until is None or h.until >= day])
            barring = next((h for h in facts if h.rule in ("HOLD-1", "HOLD-3")), None)
            if barring is not None:
                held += 1
                if not supervisor:
                    continue
            situation = call_situation(acc, holds=facts, contacts=recent, now=now, settings=settings,
                                       number=acc.phone, shared=acc.loan_id in shared, legal=legal.get(acc.loan_id))
            call = decide("call", situation)
            entry = _queue_entry(acc, settings, as_of, pays[acc.loan_id], promises[acc.loan_id],
                                 history[acc.loan_id], max(behind[acc.borrower_id] - 1, 0),
                                 call_now="yes" if call is None else call.rule,
                                 hold=f"{barring.rule} {barring.reason} (hold {barring.id})" if barring else None)
            entry = replace(entry, attempts_left=max(0, MAX_DIAL_ATTEMPTS - situation.attempts_today),
                            talks_left=max(0, MAX_CONNECTED_CALLS - situation.connected_today))
            scored.append((queue_sort_key(entry.score, acc.state.dpd, acc.state.overdue, acc.loan_id), entry))
        best += scored
        if limit:
            best = heapq.nsmallest(limit, best, key=lambda t: t[0])

    batch: list[Account] = []
    for acc in iter_accounts(conn, as_of=as_of, settings=settings, product=product, late_only=True):
        delinquent += 1
        if acc.state.dpd > weights.handover_dpd:
            handed_over += 1
            if not include_handover:
                continue
        batch.append(acc)
        if len(batch) == 1000:
            score(batch)
            batch = []
    score(batch)
    ranked = sorted(best, key=lambda t: t[0])
    entries = [replace(e, rank=i) for i, (_, e) in enumerate(ranked, 1)]
    return WorkQueue(entries=entries, delinquent=delinquent, handed_over=handed_over, held=held)


def _queue_entry(acc: Account, settings: Settings, as_of: date, payments, promises, contacts, other_late: int, *,
                 call_now: str, hold: str | None) -> QueueEntry:
    s = acc.state
    zone = ZoneInfo(acc.timezone or settings.timezone)
    local_day = lambda t: t.replace(tzinfo=UTC).astimezone(zone).date()  # noqa: E731
    broken = [p for p in promises if p.status == "broken" and p.evaluated_on]
    history = History(
        promise_due_today=any(p.status == "open" and p.due_on == as_of for p in promises),
        promise_broken_days_ago=min(((as_of - p.evaluated_on).days for p in broken), default=None),
        days_since_contact=(as_of - local_day(contacts[-1].at)).days if contacts else None,
        other_delinquent_loans=other_late,
    )
    score, reasons = queue_score(s.dpd, s.overdue, history, settings.queue)
    seg = segment_of(acc, as_of=as_of, payments=payments, promises=promises, contacts=contacts, zone=zone)
    return QueueEntry(rank=0, score=score, account=acc, reasons=reasons, segment=seg, call_now=call_now,
                      last_agent=contacts[-1].agent if contacts else None, hold=hold)


def segment_of(acc: Account, *, as_of: date, payments, promises, contacts, zone: ZoneInfo) -> str:
    """The account's segment from its ledger, calls and settled promises (domain.segments)."""
    starts = episodes_of(acc, payments, as_of)
    episode_from = starts[-1] if starts else as_of
    calls = [CallRecord(c.at.replace(tzinfo=UTC).astimezone(zone).date(), c.outcome)
             for c in contacts if c.channel in CALLS]
    return segment(as_of=as_of, dpd=acc.state.dpd, episodes=len(starts), calls=calls,
                   promise_verdicts=[p.status for p in promises if p.made_on >= episode_from and p.status != "open"])
