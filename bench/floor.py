"""The floor for `report buckets`: the fastest bulk read of the columns it needs, and a
vectorised per-loan DPD, overdue and outstanding principal over them, in numpy.

    python bench/floor.py DB --as-of 2026-11-20 [--check]

DB is an SQLite file or a postgresql:// URL. On SQLite the rows come through sqlite3's
`fetchmany` as plain tuples; on PostgreSQL through `COPY (…) TO STDOUT`, split and parsed by
numpy. Day numbers are computed by the database. The computation is the default allocation
rule's (installments oldest first, fees and interest before principal; a reversal a
negative payment), which is what collect's lean replay does for such loans; loans with
events (write-offs, sales, pauses, settlements) or changed schedules are left out of the
comparison (`--check`), which holds the floor to collect's own positions loan by loan.

It prints one JSON line: seconds to read, seconds to compute, rows, and the bucket totals.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from datetime import date

import numpy as np

JULIAN_TO_ORDINAL = 1721424.5  # julianday(d) - this = d.toordinal()

def queries(backend: str, as_of: date) -> dict[str, tuple[str, int]]:
    """name -> (SQL, columns: the loan id as text, the rest integers), each in loan order as
    its table's index gives it; dates as day numbers (date.toordinal()), computed by the database."""
    def day(column: str) -> str:
        if backend == "sqlite":
            return f"CAST(julianday({column}) - {JULIAN_TO_ORDINAL} AS INTEGER)"
        return f"({column} - DATE '0001-01-01' + 1)"

    return {
        "loans": (f"SELECT loan_id, {day('disbursed_on')} FROM loans ORDER BY loan_id", 2),
        "installments": (f"SELECT loan_id, {day('due_on')}, principal_due, interest_due + fee_due "
                         "FROM installments ORDER BY loan_id, seq", 4),
        "payments": (f"SELECT loan_id, {day('paid_on')}, amount FROM payments "
                     f"WHERE paid_on <= '{as_of.isoformat()}' ORDER BY loan_id, paid_on", 3),
    }


def read_sqlite(path: str, as_of: date) -> dict[str, list[np.ndarray]]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    out = {}
    for name, (sql, ncols) in queries("sqlite", as_of).items():
        cur = con.execute(sql)
        ids, nums = [], [[] for _ in range(ncols - 1)]
        while rows := cur.fetchmany(200_000):
            cols = list(zip(*rows, strict=True))
            ids.append(np.array(cols[0], dtype="S"))
            for i, c in enumerate(cols[1:]):
                nums[i].append(np.fromiter(c, dtype=np.int64, count=len(c)))
        out[name] = [_cat(ids, "S1"), *(_cat(n, np.int64) for n in nums)]
    con.close()
    return out


def read_postgresql(url: str, as_of: date) -> dict[str, list[np.ndarray]]:
    import psycopg

    out = {}
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as con, con.cursor() as cur:
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        for name, (sql, ncols) in queries("postgresql", as_of).items():
            ids, nums, rest = [], [[] for _ in range(ncols - 1)], b""
            with cur.copy(f"COPY ({sql}) TO STDOUT") as copy:
                block, size = [], 0
                for data in copy:
                    block.append(bytes(data))
                    size += len(data)
                    if size > 32 << 20:  # parse 32 MB at a time: memory stays flat
                        rest = _parse(rest + b"".join(block), ncols, ids, nums)
                        block, size = [], 0
                rest = _parse(rest + b"".join(block), ncols, ids, nums, last=True)
            out[name] = [_cat(ids, "S1"), *(_cat(n, np.int64) for n in nums)]
    return out


def _parse(text: bytes, ncols: int, ids: list, nums: list, last: bool = False) -> bytes:
    """Parse the whole lines of `text` (COPY's tab-separated text) into the column lists;
    return what follows the last newline."""
    cut = len(text) if last else text.rfind(b"\n") + 1
    fields = np.array(text[:cut].split(), dtype="S").reshape(-1, ncols)
    ids.append(fields[:, 0])
    for i in range(1, ncols):
        nums[i - 1].append(fields[:, i].astype(np.int64))
    return text[cut:]


def _cat(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts) if parts else np.array([], dtype=dtype)


def _groups(loan_ids: np.ndarray, row_ids: np.ndarray) -> np.ndarray:
    """The index into `loan_ids` (sorted) of each row's loan, the rows being in loan order."""
    if not len(row_ids):
        return np.array([], dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], row_ids[1:] != row_ids[:-1])))
    owner = np.searchsorted(loan_ids, row_ids[starts])
    return np.repeat(owner, np.diff(np.append(starts, len(row_ids))))


def positions(data: dict[str, list[np.ndarray]], day: int) -> dict[str, np.ndarray]:
    """Per loan: disbursed by `day`, DPD, overdue, outstanding principal and closed, as
    timeline.snapshots computes them under the default rule."""
    loan_ids, disbursed = data["loans"]
    n = len(loan_ids)
    i_ids, due, principal, other = data["installments"]
    p_ids, paid_on, amount = data["payments"]
    i_loan, p_loan = _groups(loan_ids, i_ids), _groups(loan_ids, p_ids)
    # a loan's installments by due day (stable: seq order among equal days), loans in order
    order = np.lexsort((due, i_loan))
    i_loan, due, principal, other = i_loan[order], due[order], principal[order], other[order]
    paid = np.zeros(n, dtype=np.int64)
    np.add.at(paid, p_loan, amount)  # every payment read was made by the day
    money = principal + other
    run = np.cumsum(money)
    first = np.searchsorted(i_loan, np.arange(n))  # each loan's first installment row
    cum = run - np.concatenate(([0], run))[first][i_loan]  # running total within the loan
    unpaid = cum > paid[i_loan]
    big = np.iinfo(np.int64).max
    rows = np.arange(len(cum))
    k = np.full(n, big)
    np.minimum.at(k, i_loan, np.where(unpaid, rows, big))  # the oldest installment with money unpaid
    has_k = k != big
    kk = np.where(has_k, k, 0)
    total = np.zeros(n, dtype=np.int64)
    np.add.at(total, i_loan, money)
    principal_total = np.zeros(n, dtype=np.int64)
    np.add.at(principal_total, i_loan, principal)
    prun = np.cumsum(principal)
    principal_before_k = prun[kk] - principal[kk] - np.concatenate(([0], prun))[first]
    outstanding = np.where(has_k, principal_total - principal_before_k
                           - np.minimum(np.maximum(paid - (cum[kk] - principal[kk]), 0), principal[kk]), 0)
    dpd = np.where(has_k & (due[kk] < day), day - due[kk], 0)
    fell = np.zeros(n, dtype=np.int64)
    np.add.at(fell, i_loan, np.where(due < day, money, 0))
    has_schedule = np.bincount(i_loan, minlength=n) > 0
    return {"disbursed": disbursed <= day, "dpd": dpd, "overdue": np.maximum(fell - paid, 0),
            "outstanding": outstanding, "closed": has_schedule & (paid >= total)}


def bucket_totals(pos: dict[str, np.ndarray], grace: int, buckets) -> dict[str, tuple[int, int, int]]:
    """Per bucket of the open loans disbursed by the day: accounts, overdue, outstanding."""
    open_ = pos["disbursed"] & ~pos["closed"]
    late = np.maximum(pos["dpd"] - grace, 0)
    out = {}
    for b in buckets:
        inside = open_ & (late >= b.min_days) & ((late <= b.max_days) if b.max_days is not None else True)
        out[b.name] = (int(inside.sum()), int(pos["overdue"][inside].sum()), int(pos["outstanding"][inside].sum()))
    return out


def check(db: str, data, pos, as_of: date) -> int:
    """Loans whose figures differ from collect's own (positions_on), of those the default rule
    alone decides (no events, no changed schedule): 0 when the floor computes the report."""
    from collect_cli.config import load_settings
    from collect_cli.services.analytics import positions_on
    from collect_cli.store import queries as q
    from collect_cli.store.database import open_engine

    engine = open_engine(db, create=False)
    settings = load_settings()
    index = {i.decode(): n for n, i in enumerate(data["loans"][0])}
    wrong = 0
    with engine.connect() as conn:
        skip = set(q.engine_loan_ids(conn))
        for loan, (p,) in positions_on(conn, [as_of], settings=settings):
            n = index[loan.loan_id]
            if loan.loan_id in skip or p is None:
                continue
            got = (int(pos["dpd"][n]), int(pos["overdue"][n]), int(pos["outstanding"][n]), bool(pos["closed"][n]))
            want = (p.dpd, p.overdue, p.outstanding, p.status == "closed")
            wrong += got != want
    engine.dispose()
    return wrong


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("db")
    ap.add_argument("--as-of", type=date.fromisoformat, required=True)
    ap.add_argument("--check", action="store_true", help="hold the floor to collect's figures, loan by loan")
    a = ap.parse_args()
    from collect_cli.config import load_settings

    settings = load_settings()
    started = time.perf_counter()
    pg = a.db.startswith("postgresql")
    data = read_postgresql(a.db, a.as_of) if pg else read_sqlite(a.db, a.as_of)
    read = time.perf_counter() - started
    pos = positions(data, a.as_of.toordinal())
    totals = bucket_totals(pos, settings.grace_days, settings.buckets)
    computed = time.perf_counter() - started - read
    out = {"read_s": round(read, 2), "compute_s": round(computed, 2),
           "rows": sum(len(cols[0]) for cols in data.values()), "buckets": totals}
    if a.check:
        out["loans_differing"] = check(a.db, data, pos, a.as_of)
    print(json.dumps(out), file=sys.stdout)


if __name__ == "__main__":
    main()
