"""The analyst reports: trends, roll rates, classification, vintages, computed from the ledger
replayed as of any date (services/analytics.py), with no nightly snapshot to depend on.

Each report is a `Report`: sections of rows with raw values (counts, minor units, Decimal
shares 0…1) that cli/render turns into tables, JSON, CSV, charts and HTML.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

from sqlalchemy import Connection

from collect_cli.config import Settings
from collect_cli.domain.buckets import CLASSIFICATION, CLASSIFICATION_EN
from collect_cli.domain.loan_events import pauses_of
from collect_cli.domain.plans import month_after, schedule_before
from collect_cli.domain.timeline import Ledger, first_past_due
from collect_cli.errors import UsageError
from collect_cli.services.analytics import fold_book, iter_book, positions_on
from collect_cli.services.portfolio import iter_accounts
from collect_cli.store import queries as q


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str = "text"  # text | int | money (minor units) | pct (a Decimal share 0…1)


@dataclass(frozen=True)
class Chart:
    kind: str  # bar | stacked | line
    x: str  # the column along the x axis
    series: tuple[str, ...]  # the columns drawn
    ylabel: str = ""


@dataclass
class Section:
    name: str
    title: str
    columns: list[Column]
    rows: list[dict]
    chart: Chart | None = None


@dataclass
class Report:
    name: str
    title: str
    sections: list[Section]
    notes: list[str] = field(default_factory=list)


def share(part: int, whole: int) -> Decimal:
    return Decimal(part) / whole if whole else Decimal(0)


def dates_between(start: date, end: date, every: str) -> list[date]:
    """`start`, then every day, week or month to `end`, and `end` itself. Months keep the day
    of `start`, clamped to the month end; from a month end, every date is a month end."""
    if end < start:
        raise UsageError(f"--to {end.isoformat()} is before --from {start.isoformat()}")
    if every not in ("day", "week", "month"):
        raise UsageError(f"--every {every}: day, week or month")
    month_ends = every == "month" and _month_end(start) == start

    def nth(n: int) -> date:
        if every != "month":
            return start + timedelta(days=n * (7 if every == "week" else 1))
        return _month_end(month_after(start, n)) if month_ends else month_after(start, n)

    out: list[date] = []
    while (day := nth(len(out))) <= end:
        out.append(day)
        if len(out) > 3660:
            raise UsageError("more than 3,660 dates: choose a longer --every")
    return out if out[-1] == end else [*out, end]


# --- buckets over time -------------------------------------------------------------------------

def bucket_trend(conn: Connection, days: list[date], *, settings: Settings, product: str | None = None) -> Report:
    names = [b.name for b in settings.buckets]
    accounts, overdue, outstanding = fold_book(conn, _bucket_sums, (days, settings, product), add)
    counts = [{n: [accounts[(i, n)], overdue[(i, n)], outstanding[(i, n)]] for n in names} for i in range(len(days))]
    long = [{"as_of": d.isoformat(), "bucket": n, "accounts": counts[i][n][0], "overdue": counts[i][n][1],
             "outstanding": counts[i][n][2]} for i, d in enumerate(days) for n in names]
    wide = [{"as_of": d.isoformat(), **{n: counts[i][n][2] for n in names},
             "total": sum(c[2] for c in counts[i].values()),
             "accounts": sum(c[0] for c in counts[i].values())} for i, d in enumerate(days)]
    return Report("buckets", f"Buckets from {days[0].isoformat()} to {days[-1].isoformat()}", [
        Section("outstanding", "Outstanding principal by bucket",
                [Column("as_of", "as of"), *(Column(n, n, "money") for n in names), Column("total", "total", "money"),
                 Column("accounts", "open accounts", "int")], wide,
                Chart("stacked", "as_of", tuple(names), "outstanding principal")),
        Section("buckets", "Per date and bucket",
                [Column("as_of", "as of"), Column("bucket", "bucket"), Column("accounts", "accounts", "int"),
                 Column("overdue", "overdue", "money"), Column("outstanding", "outstanding", "money")], long),
    ])


def _bucket_sums(conn: Connection, days, settings, product, *, part) -> tuple[Counter, Counter, Counter]:
    accounts, overdue, outstanding = Counter(), Counter(), Counter()
    for _, positions in positions_on(conn, days, settings=settings, product=product, part=part):
        for i, p in enumerate(positions):
            if p is not None and p.bucket is not None:
                accounts[(i, p.bucket)] += 1
                overdue[(i, p.bucket)] += p.overdue
                outstanding[(i, p.bucket)] += p.outstanding
    return accounts, overdue, outstanding


def add(a: tuple, b: tuple) -> tuple:
    """Two partial results of fold_book, summed element by element (counters, numbers, lists)."""
    return tuple(x + y for x, y in zip(a, b, strict=True))


# --- roll rates --------------------------------------------------------------------------------

def rolls(conn: Connection, start: date, end: date, *, settings: Settings, product: str | None = None) -> Report:
    """Where the accounts of each bucket on `start` are on `end` (closed is a state, and so is
    transferred: sold to another creditor, neither cured nor rolled), by count and by
    outstanding principal on `start`; roll-forward (to a worse bucket) and cure (back to M0 or
    closed) rates per bucket, and the M0→M1→… flow of balances."""
    if end <= start:
        raise UsageError(f"--to {end.isoformat()} must be after --from {start.isoformat()}")
    names = [b.name for b in settings.buckets]
    states = [*names, "closed", "transferred"]
    pairs, pair_balance, new_loans = fold_book(conn, _roll_pairs, (start, end, settings, product), add)
    count = {a: {t: pairs[(a, t)] for t in states} for a in names}
    balance = {a: {t: pair_balance[(a, t)] for t in states} for a in names}
    rank = {n: i for i, n in enumerate(names)}
    summary, flow = [], []
    for a in names:
        n, bal = sum(count[a].values()), sum(balance[a].values())
        worse = sum(v for s, v in count[a].items() if s in rank and rank[s] > rank[a])
        cured = count[a][names[0]] + count[a]["closed"] if rank[a] > 0 else None
        summary.append({"bucket": a, "accounts": n, "balance": bal, "stayed": share(count[a][a], n),
                        "rolled_forward": share(worse, n), "cured": None if cured is None else share(cured, n)})
    for a, b in pairwise(names):
        flow.append({"from": a, "to": b, "balance_from": sum(balance[a].values()), "balance_rolled": balance[a][b],
                     "flow_rate": share(balance[a][b], sum(balance[a].values()))})
    matrix_cols = [Column("from", "from \\ to"), *(Column(s, s, "int") for s in states), Column("total", "total", "int")]
    return Report("rolls", f"Roll rates from {start.isoformat()} to {end.isoformat()}", [
        Section("accounts", "Accounts: bucket on the first date (rows) by state on the second (columns)",
                matrix_cols, [{"from": a, **count[a], "total": sum(count[a].values())} for a in names]),
        Section("balance", "Outstanding principal on the first date, by the same pairs",
                [Column("from", "from \\ to"), *(Column(s, s, "money") for s in states),
                 Column("total", "total", "money")],
                [{"from": a, **balance[a], "total": sum(balance[a].values())} for a in names]),
        Section("rates", "Per bucket: stayed, rolled to a worse bucket, cured (to M0 or closed)",
                [Column("bucket", "bucket"), Column("accounts", "accounts", "int"), Column("balance", "balance", "money"),
                 Column("stayed", "stayed %", "pct"), Column("rolled_forward", "rolled forward %", "pct"),
                 Column("cured", "cured %", "pct")], summary,
                Chart("bar", "bucket", ("rolled_forward", "cured"), "share of accounts")),
        Section("flow", "Flow rates: balance of each bucket that rolled into the next",
                [Column("from", "from"), Column("to", "to"), Column("balance_from", "balance", "money"),
                 Column("balance_rolled", "rolled", "money"), Column("flow_rate", "flow %", "pct")], flow,
                Chart("line", "from", ("flow_rate",), "flow rate")),
    ], notes=[f"{new_loans:,} loans disbursed after {start.isoformat()} are not in the matrix"] if new_loans else [])


def _roll_pairs(conn: Connection, start, end, settings, product, *, part) -> tuple[Counter, Counter, int]:
    pairs, balance, new_loans = Counter(), Counter(), 0
    for _, (first, last) in positions_on(conn, [start, end], settings=settings, product=product, part=part):
        if first is None:
            new_loans += last is not None
        elif first.bucket is not None:  # (closed already on `start`: not in the matrix)
            pairs[(first.bucket, last.state)] += 1
            balance[(first.bucket, last.state)] += first.outstanding
    return pairs, balance, new_loans


# --- classification ---------------------------------------------------------------------------

def classification(conn: Connection, as_of: date, *, settings: Settings, product: str | None = None) -> Report:
    tiers, sums = fold_book(conn, _tier_sums, (as_of, settings, product), add)
    count, balance = {t: tiers[t] for t in CLASSIFICATION}, {t: sums[t] for t in CLASSIFICATION}
    n, bal = sum(count.values()), sum(balance.values())
    rows = [{"tier": t, "tier_en": CLASSIFICATION_EN[t], "accounts": count[t], "share_accounts": share(count[t], n),
             "outstanding": balance[t], "share_outstanding": share(balance[t], bal)} for t in CLASSIFICATION]
    rows.append({"tier": "合计", "tier_en": "total", "accounts": n, "share_accounts": share(n, n),
                 "outstanding": bal, "share_outstanding": share(bal, bal)})
    return Report("classification", f"Five-tier classification as of {as_of.isoformat()}", [
        Section("tiers", "Open loans by tier",
                [Column("tier", "tier"), Column("tier_en", ""), Column("accounts", "accounts", "int"),
                 Column("share_accounts", "accounts %", "pct"), Column("outstanding", "outstanding", "money"),
                 Column("share_outstanding", "outstanding %", "pct")], rows,
                Chart("bar", "tier_en", ("outstanding",), "outstanding principal")),
    ], notes=["不良 (non-performing: 次级 + 可疑 + 损失) "
              f"{share(sum(balance[t] for t in CLASSIFICATION[2:]), bal) * 100:.2f}% of outstanding"])


def _tier_sums(conn: Connection, as_of, settings, product, *, part) -> tuple[Counter, Counter]:
    count, balance = Counter(), Counter()
    for _, (p,) in positions_on(conn, [as_of], settings=settings, product=product, part=part):
        if p is not None and p.classification is not None:
            count[p.classification] += 1
            balance[p.classification] += p.outstanding
    return count, balance


# --- write-offs -----------------------------------------------------------------------------------

def write_offs(conn: Connection, as_of: date, *, settings: Settings, product: str | None = None) -> Report:
    """Loans written off (核销) by `as_of`: off the books, still collected. Per loan what was
    written off, what came in after the write-off day (net of reversals: the recovery), and
    what it owes now; the totals, and the recovery rate."""
    events = q.events_of(conn, q.event_loan_ids(conn))
    ids = sorted(i for i, es in events.items() if any(e.event == "write_off" and e.event_on <= as_of for e in es))
    rows = []
    for first in range(0, len(ids), 1000):
        chunk = ids[first:first + 1000]
        pays = q.payments_of(conn, chunk, as_of)
        for a in iter_accounts(conn, as_of=as_of, settings=settings, product=product, loan_ids=chunk):
            s = a.state
            on = s.standing.written_off_on
            recovered = sum(amount for day, amount in pays[a.loan_id] if day > on)
            rows.append({"loan_id": a.loan_id, "product": a.product, "written_off_on": on.isoformat(),
                         "written_off": s.standing.written_off, "recovered": recovered,
                         "recovery_rate": share(recovered, s.standing.written_off), "status": s.status,
                         "dpd": s.dpd, "outstanding": s.outstanding_principal, "overdue": s.overdue})
    total = {"loan_id": "total", "product": "", "written_off_on": "", "status": "", "dpd": "",
             **{k: sum(r[k] for r in rows) for k in ("written_off", "recovered", "outstanding", "overdue")}}
    total["recovery_rate"] = share(total["recovered"], total["written_off"])
    return Report("write-offs", f"Written-off loans as of {as_of.isoformat()}", [
        Section("loans", "Written off, recovered after the write-off, and owed now",
                [Column("loan_id", "loan"), Column("product", "product"), Column("written_off_on", "written off on"),
                 Column("written_off", "written off", "money"), Column("recovered", "recovered", "money"),
                 Column("recovery_rate", "recovery %", "pct"), Column("status", "status"), Column("dpd", "dpd"),
                 Column("overdue", "overdue", "money"), Column("outstanding", "outstanding", "money")],
                [*rows, total] if rows else []),
    ], notes=[f"{len(rows):,} loans written off by {as_of.isoformat()}; recovered {total['recovery_rate'] * 100:.2f}% "
              "of what was written off"])


# --- vintages -------------------------------------------------------------------------------------

THRESHOLDS = (30, 60, 90)


def vintages(conn: Connection, as_of: date, *, settings: Settings, product: str | None = None,
             months: int = 12) -> Report:
    """Per disbursement month, the share of disbursed principal whose loan went more than 30,
    60, 90 days past due within 1, 2, 3 … months on book (ever, cumulative); a month on book
    not yet reached by `as_of` is left blank."""
    loans, principal, reached_by = fold_book(conn, _cohorts, (as_of, product, settings), add)
    sections = []
    for t in THRESHOLDS:
        rows = []
        for month in sorted(loans):
            row = {"cohort": month, "loans": loans[month], "principal": principal[month]}
            reached = 0
            month_end = _month_end(date.fromisoformat(f"{month}-01"))
            for mob in range(1, months + 1):
                reached += reached_by[(month, t, mob)]
                # a month on book is over for the whole cohort once it is over for its last loan
                row[f"mob{mob}"] = share(reached, principal[month]) if month_after(month_end, mob) <= as_of else None
            rows.append(row)
        sections.append(Section(f"dpd{t}", f"Share of principal ever more than {t} days past due, by months on book",
                                [Column("cohort", "disbursed"), Column("loans", "loans", "int"),
                                 Column("principal", "principal", "money"),
                                 *(Column(f"mob{m}", f"{m}", "pct") for m in range(1, months + 1))], rows,
                                Chart("curves", "cohort", tuple(f"mob{m}" for m in range(1, months + 1)),
                                      f"share of principal over {t} days past due") if t == 30 else None))
    return Report("vintages", f"Vintages as of {as_of.isoformat()}", sections,
                  notes=["a loan counts in month on book k when it first went that far past due within k months "
                         "of its disbursement; blank: that month is not over yet for the whole cohort"])


def _cohorts(conn: Connection, as_of, product, settings: Settings, *, part) -> tuple[Counter, Counter, Counter]:
    """Per disbursement month: loans, principal, and principal by (threshold, month on book)
    in which the loan first went that far past due."""
    loans, principal, reached_by = Counter(), Counter(), Counter()
    limit = as_of.toordinal()
    before_plans = _before_plans(conn, part)
    events = q.events_of(conn, q.event_loan_ids(conn, part))
    for loan in iter_book(conn, settings=settings, product=product, part=part):
        if loan.disbursed > limit:
            continue
        start = date.fromordinal(loan.disbursed)
        month = f"{start.year:04d}-{start.month:02d}"
        loans[month] += 1
        principal[month] += loan.principal
        aging = _aging(events.get(loan.loan_id, ()))
        hits = first_past_due(loan.ledger, THRESHOLDS, **aging)
        if loan.loan_id in before_plans:  # until its first plan, the schedule of then decides
            first_plan, original = before_plans[loan.loan_id]
            original = replace(original, rule=loan.ledger.rule, voids=loan.ledger.voids,
                               penalty_off=loan.ledger.penalty_off)
            hits = [old if old is not None and old <= first_plan else new if new is not None and new > first_plan
                    else None for old, new in zip(first_past_due(original, THRESHOLDS, **aging), hits, strict=True)]
        for t, hit in zip(THRESHOLDS, hits, strict=True):
            if hit is not None and hit <= limit:
                reached_by[(month, t, _months_on_book(start, date.fromordinal(hit)))] += loan.principal
    return loans, principal, reached_by


def _aging(events) -> dict:
    """How a loan's events bend its ageing: the days pauses froze, and the last day it can be
    late (the day before an early settlement or a sale)."""
    if not events:
        return {}
    ends = [e.event_on.toordinal() - 1 for e in events if e.event in ("settle", "transfer")]
    return {"pauses": [(p.start.toordinal(), p.end.toordinal()) for p in pauses_of(events)],
            "until": min(ends, default=None)}


def _before_plans(conn: Connection, part) -> dict[str, tuple[int, Ledger]]:
    """Per loan of the part whose schedule changed (a plan, a complete schedule, a waiver):
    the day the first change took effect, and its ledger on the schedule before any change
    (from installment history)."""
    ids = q.engine_loan_ids(conn, part)
    changes = {i: c for i, c in q.schedule_changes_of(conn, ids).items() if c}
    if not changes:
        return {}
    ids = sorted(changes)
    current, replaced = q.schedules_and_replaced(conn, ids)
    pays = q.payments_of(conn, ids, date.max)
    out = {}
    for loan_id in ids:
        newest_first = [batch for _, batch in sorted(changes[loan_id], key=lambda c: c[1], reverse=True)]
        original = schedule_before(current[loan_id], newest_first, replaced)
        out[loan_id] = (min(day for day, _ in changes[loan_id]).toordinal(), Ledger.of(loan_id, original, pays[loan_id]))
    return out


def _months_on_book(start: date, day: date) -> int:
    """1 for a day within the first month after `start`, 2 within the second, …"""
    k = max(1, (day.year - start.year) * 12 + day.month - start.month)
    while month_after(start, k) < day:
        k += 1
    while k > 1 and month_after(start, k - 1) >= day:
        k -= 1
    return k


def _month_end(day: date) -> date:
    return month_after(day.replace(day=1), 1) - timedelta(days=1)
