"""Reports and the work queue as of a date, computed from the ledger through the engine."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Connection

from collect_cli.config import Settings
from collect_cli.domain.scoring import queue_score, queue_sort_key
from collect_cli.errors import UsageError
from collect_cli.services.portfolio import Account, iter_accounts


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


def bucket_report(conn: Connection, *, as_of: date, settings: Settings,
                  product: str | None = None) -> BucketReport:
    rows = {b.name: BucketRow(b.name) for b in settings.buckets}
    total = BucketRow("total")
    closed = 0
    for acc in iter_accounts(conn, as_of=as_of, settings=settings, product=product):
        s = acc.state
        if s.status == "closed":
            closed += 1
            continue
        for row in (rows[s.bucket], total):
            row.accounts += 1
            row.overdue += s.overdue
            row.outstanding += s.outstanding_principal
    for row in (*rows.values(), total):
        row.share = Decimal(row.outstanding) / total.outstanding if total.outstanding else Decimal(0)
    return BucketReport(as_of=as_of, rows=list(rows.values()), total=total, closed=closed)


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


@dataclass(frozen=True)
class WorkQueue:
    entries: list[QueueEntry]
    delinquent: int  # all open accounts with DPD > 0
    handed_over: int  # of those, past handover_dpd and so left out (unless include_handover)


def work_queue(conn: Connection, *, as_of: date, settings: Settings, limit: int | None,
               product: str | None = None, include_handover: bool = False) -> WorkQueue:
    """Delinquent accounts (DPD > 0), most urgent first; only the top `limit` are kept in memory."""
    weights = settings.queue
    counts = {"delinquent": 0, "handed_over": 0}

    def scored() -> Iterator[tuple[tuple, Decimal, Account]]:
        for acc in iter_accounts(conn, as_of=as_of, settings=settings, product=product):
            s = acc.state
            if s.status != "open" or s.dpd == 0:
                continue
            counts["delinquent"] += 1
            if s.dpd > weights.handover_dpd:
                counts["handed_over"] += 1
                if not include_handover:
                    continue
            score = queue_score(s.dpd, s.overdue, weights)
            yield queue_sort_key(score, s.dpd, s.overdue, acc.loan_id), score, acc

    ranked = heapq.nsmallest(limit, scored(), key=lambda t: t[0]) if limit else sorted(scored(), key=lambda t: t[0])
    entries = [QueueEntry(rank=i, score=score, account=acc) for i, (_, score, acc) in enumerate(ranked, 1)]
    return WorkQueue(entries=entries, **counts)
