"""Import -> report round trip over a generated portfolio, checked against an independent
computation written here from the CSV files alone (cumulative sums instead of allocation)."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

GENERATED_ON = date(2026, 11, 20)
AS_OF_DATES = [GENERATED_ON, date(2026, 3, 31), date(2025, 12, 31)]


def fen(text: str) -> int:
    return int(Decimal(text.replace("¥", "").replace(",", "")) * 100)


def rows(path, encoding):
    with open(path, encoding=encoding, newline="") as fh:
        return list(csv.DictReader(fh))


def payments_by_loan(files) -> dict[str, list[tuple[date, int]]]:
    """Each loan's payments and, a reversal (冲正) being the payment undone from its day, the
    payment's amount negated on the day of the reversal."""
    paid, by_id = defaultdict(list), {}
    for r in rows(files.payments, "utf-8"):
        by_id[r["payment_id"]] = (r["loan_id"], fen(r["amount"]))
        paid[r["loan_id"]].append((date.fromisoformat(r["paid_on"]), fen(r["amount"])))
    for r in rows(files.reversals, "gb18030"):
        loan_id, amount = by_id[r["原交易流水号"]]
        paid[loan_id].append((date.fromisoformat(r["冲正日期"]), -amount))
    return paid


class Events:
    """The loan events file read alone: settlement and sale days, and the days each pause froze
    (a pause S..E freezes S+1..E; a resume on R ends it on R), counted one by one."""

    def __init__(self, files):
        self.settled, self.sold, self.frozen = {}, {}, defaultdict(set)
        rows_ = rows(files.loan_events, "gb18030")
        resumed = {(r["借据号"], r["事件日期"]) for r in rows_ if r["事件类型"] == "恢复计逾"}
        for r in rows_:
            loan, kind, on = r["借据号"], r["事件类型"], date.fromisoformat(r["事件日期"])
            if kind == "提前结清":
                self.settled[loan] = on
            elif kind == "债权转让":
                self.sold[loan] = on
            elif kind == "暂停计逾":
                end = date.fromisoformat(r["结束日期"])
                end = min([date.fromisoformat(d) for l_, d in resumed if l_ == loan
                           and on <= date.fromisoformat(d) <= end], default=end)
                self.frozen[loan] |= {on + timedelta(days=k) for k in range(1, (end - on).days + 1)}

    def effective(self, loan_id: str, due_on: date, day: date) -> int:
        """Days past due on `day` of an installment due `due_on`, less the frozen days."""
        return (day - due_on).days - sum(1 for f in self.frozen.get(loan_id, ()) if due_on < f <= day)

    def last_day(self, loan_id: str) -> date | None:
        """The last day the loan is the lender's to be late: before its settlement or sale."""
        ends = [d - timedelta(days=1) for d in (self.settled.get(loan_id), self.sold.get(loan_id)) if d]
        return min(ends, default=None)


class CsvBook:
    """Schedules, payments, reversals and loan events read from the CSV files alone, and DPD on
    any day from them by cumulative sums (not the engine's allocation)."""

    def __init__(self, files, loan_ids=None):
        self.schedule = defaultdict(list)
        for r in rows(files.installments, "utf-8-sig"):
            if loan_ids is None or r["借据号"] in loan_ids:
                self.schedule[r["借据号"]].append((date.fromisoformat(r["应还日期"]), int(r["期次"]),
                                                 fen(r["应还费用"]) + fen(r["应还利息"]) + fen(r["应还本金"])))
        self.paid = payments_by_loan(files)
        self.events = Events(files)
        for s in self.schedule.values():
            s.sort()

    def dpd(self, loan_id: str, day: date) -> int:
        paid = sum(a for d, a in self.paid[loan_id] if d <= day)
        cumulative = 0
        for due_on, _seq, amount in self.schedule[loan_id]:
            cumulative += amount
            if cumulative > paid:
                return self.events.effective(loan_id, due_on, day) if due_on < day else 0
        return 0

    def first_day_over(self, loan_id: str, over: int, start: date, end: date) -> date | None:
        """Day by day from `start`: the first day more than `over` days past due, by `end`
        (and by the day before the loan was settled or sold)."""
        day, last = start, min(end, self.events.last_day(loan_id) or end)
        while day <= last:
            if self.dpd(loan_id, day) > over:
                return day
            day += timedelta(days=1)
        return None


def bucket_of(dpd: int) -> str:
    if dpd == 0:
        return "M0"
    n = (dpd - 1) // 30 + 1
    return "M7+" if n >= 7 else f"M{n}"


def expected_states(files, as_of: date) -> dict[str, dict]:
    """Per loan: status, dpd, bucket, overdue, outstanding (fen), computed without the engine."""
    loans = {r["借据号"]: date.fromisoformat(r["放款日期"]) for r in rows(files.loans, "gb18030")}
    schedule = defaultdict(list)
    for r in rows(files.installments, "utf-8-sig"):
        schedule[r["借据号"]].append((date.fromisoformat(r["应还日期"]), int(r["期次"]), fen(r["应还费用"]),
                                      fen(r["应还利息"]), fen(r["应还本金"])))
    paid = {loan_id: sum(a for d, a in pays if d <= as_of) for loan_id, pays in payments_by_loan(files).items()}
    events = Events(files)
    out = {}
    for loan_id, disbursed in loans.items():
        if disbursed > as_of:
            continue
        p = paid.get(loan_id, 0)
        if events.settled.get(loan_id, date.max) <= as_of:  # the core system closed it
            out[loan_id] = {"status": "closed", "dpd": 0, "bucket": None, "overdue": 0, "outstanding": 0}
            continue
        cumulative = dpd = overdue_due = principal_left = 0
        for due_on, _seq, fee, interest, principal in sorted(schedule[loan_id]):
            before = cumulative
            cumulative += fee + interest + principal
            # what of this installment's principal the payments reach (fees and interest first)
            principal_paid = min(max(p - before - fee - interest, 0), principal)
            principal_left += principal - principal_paid
            if due_on < as_of:
                overdue_due = cumulative
                if cumulative > p and dpd == 0:
                    dpd = events.effective(loan_id, due_on, as_of)
        closed = p >= cumulative
        sold = events.sold.get(loan_id, date.max) <= as_of
        out[loan_id] = {
            "status": "closed" if closed else "transferred" if sold else "open",
            "dpd": dpd,
            "bucket": None if closed or sold else bucket_of(dpd),
            "overdue": max(overdue_due - p, 0),
            "outstanding": principal_left,
        }
    return out


def test_reports_match_independent_computation(book3k):
    cli, imported = book3k
    """Accounts and buckets at several dates, including one before most loans existed."""
    for as_of in [*AS_OF_DATES, GENERATED_ON - timedelta(days=700)]:
        want = expected_states(imported, as_of)
        r = cli("report", "accounts", "--as-of", as_of.isoformat(), "--format", "json")
        assert r.exit_code == 0, r.stderr
        got = {a["loan_id"]: {"status": a["status"], "dpd": a["dpd"], "bucket": a["bucket"],
                              "overdue": fen(a["overdue"]), "outstanding": fen(a["outstanding"])}
               for a in json.loads(r.stdout)}
        assert got == want, as_of

        report = json.loads(cli("report", "buckets", "--as-of", as_of.isoformat(), "--format", "json").stdout)
        buckets, total = report["buckets"], report["total"]
        assert [b["bucket"] for b in buckets] == ["M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7+"]
        # the total the table shows, in the JSON too, and the sum of the buckets
        assert total["accounts"] == sum(b["accounts"] for b in buckets)
        assert fen(total["overdue"]) == sum(fen(b["overdue"]) for b in buckets)
        assert fen(total["outstanding"]) == sum(fen(b["outstanding"]) for b in buckets)
        for b in buckets:
            members = [s for s in want.values() if s["bucket"] == b["bucket"]]
            assert b["accounts"] == len(members)
            assert fen(b["overdue"]) == sum(s["overdue"] for s in members)
            assert fen(b["outstanding"]) == sum(s["outstanding"] for s in members)
        if any(b["accounts"] for b in buckets):
            assert abs(sum(Decimal(b["share_pct"]) for b in buckets) - 100) <= Decimal("0.05")

    # the generated book is not trivial: every bucket, and closed loans, are exercised
    today = expected_states(imported, GENERATED_ON)
    assert {s["bucket"] for s in today.values()} == {"M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7+", None}


def test_queue_lists_delinquent_accounts_up_to_handover_most_urgent_first(book3k):
    cli, imported = book3k
    want = expected_states(imported, GENERATED_ON)
    delinquent = {k for k, s in want.items() if s["status"] == "open" and s["dpd"] > 0}
    assert {k for k, s in want.items() if s["status"] == "transferred"}  # sold loans are left out
    r = cli("queue", "--as-of", GENERATED_ON.isoformat(), "--limit", "0", "--format", "json")
    got = json.loads(r.stdout)
    assert {q["loan_id"] for q in got} == {k for k in delinquent if want[k]["dpd"] <= 90}
    assert "legal / agency" in r.stderr
    scores = [Decimal(q["score"]) for q in got]
    assert scores == sorted(scores, reverse=True)
    borrower = {r["借据号"]: r["客户号"] for r in rows(imported.loans, "gb18030")}
    late_loans = defaultdict(int)
    for loan_id in delinquent:
        late_loans[borrower[loan_id]] += 1
    for q in got:  # the documented score, recomputed here (nobody was contacted: +10 each)
        dpd, overdue = want[q["loan_id"]]["dpd"], want[q["loan_id"]]["overdue"]
        expected = (Decimal(60) * min(dpd, 90) / 90 + Decimal(40) * min(overdue, 1_000_000) / 1_000_000
                    + 10 + 5 * min(late_loans[borrower[q["loan_id"]]] - 1, 2))
        assert Decimal(q["score"]) == expected.quantize(Decimal("0.1"))
    assert all("****" in q["phone"] for q in got)  # masked by default

    every = json.loads(cli("queue", "--as-of", GENERATED_ON.isoformat(), "--limit", "0", "--all",
                           "--format", "json").stdout)
    assert {q["loan_id"] for q in every} == delinquent
    top = json.loads(cli("queue", "--as-of", GENERATED_ON.isoformat(), "--limit", "7", "--format", "json").stdout)
    assert top == got[:7]


def test_the_database_finds_the_late_loans_the_engine_finds(book3k):
    cli, imported = book3k
    """The set-based filter of the queue and the escalations (late_only) against the
    independent computation, on dates where loans are late, paid off and not yet disbursed."""
    from collect_cli.config import Settings
    from collect_cli.services.portfolio import iter_accounts
    from collect_cli.store.database import open_engine

    engine = open_engine(cli.db)
    for as_of in [*AS_OF_DATES, GENERATED_ON - timedelta(days=700)]:
        want = {k for k, s in expected_states(imported, as_of).items() if s["dpd"] > 0 and s["status"] == "open"}
        with engine.connect() as conn:
            got = {a.loan_id: a.state.dpd for a in iter_accounts(conn, as_of=as_of, settings=Settings(),
                                                                   late_only=True)}
        assert set(got) == want, as_of
        assert all(dpd > 0 for dpd in got.values())
    engine.dispose()


def test_the_book_replay_matches_the_independent_computation(book3k):
    cli, imported = book3k
    """The lean pass of the analyst reports (services/analytics.py), all dates at once."""
    from collect_cli.config import Settings
    from collect_cli.services.analytics import positions_on
    from collect_cli.store.database import open_engine

    days = [*AS_OF_DATES, GENERATED_ON - timedelta(days=700)]
    engine = open_engine(cli.db)
    with engine.connect() as conn:
        got = {loan.loan_id: pos for loan, pos in positions_on(conn, days, settings=Settings())}
    engine.dispose()
    for n, as_of in enumerate(days):
        want = expected_states(imported, as_of)
        seen = {k: {"status": p.status, "dpd": p.dpd, "bucket": p.bucket,
                    "overdue": p.overdue, "outstanding": p.outstanding}
                for k, ps in got.items() if (p := ps[n]) is not None}
        assert seen == want, as_of


def test_first_day_past_due_matches_a_day_by_day_replay(book3k):
    cli, imported = book3k
    from collect_cli.domain.timeline import first_past_due
    from collect_cli.services.analyst import _aging
    from collect_cli.config import Settings
    from collect_cli.services.analytics import iter_book
    from collect_cli.store import queries as q
    from collect_cli.store.database import open_engine

    engine = open_engine(cli.db)
    with engine.connect() as conn:
        everything, events = list(iter_book(conn, settings=Settings())), q.events_of(conn)
    engine.dispose()
    # 150 loans, and every loan with a reversal or with loan events (pauses, settlements, sales)
    reversed_ = {loan.loan_id for loan in everything if any(a < 0 for _, _, a in loan.ledger.payments)}
    book = everything[:150] + [loan for loan in everything[150:] if loan.loan_id in events.keys() | reversed_]
    assert len(reversed_) > 5 and {e.event for es in events.values() for e in es} >= {"pause", "settle", "transfer"}
    loans = {loan.loan_id: loan for loan in book}
    csv_book = CsvBook(imported, set(loans))
    for loan_id, loan in loans.items():
        for over in (30, 60, 90):
            expected = csv_book.first_day_over(loan_id, over, date.fromordinal(loan.disbursed), GENERATED_ON)
            hit = first_past_due(loan.ledger, [over], **_aging(events.get(loan_id, ())))[0]
            assert (hit if hit is not None and hit <= GENERATED_ON.toordinal() else None) == (
                expected.toordinal() if expected else None), (loan_id, over)
