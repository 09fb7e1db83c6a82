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


class CsvBook:
    """Schedules and payments read from the CSV files alone, and DPD on any day from them by
    cumulative sums (not the engine's allocation)."""

    def __init__(self, files, loan_ids=None):
        self.schedule, self.paid = defaultdict(list), defaultdict(list)
        for r in rows(files.installments, "utf-8-sig"):
            if loan_ids is None or r["借据号"] in loan_ids:
                self.schedule[r["借据号"]].append((date.fromisoformat(r["应还日期"]), int(r["期次"]),
                                                 fen(r["应还费用"]) + fen(r["应还利息"]) + fen(r["应还本金"])))
        for r in rows(files.payments, "utf-8"):
            if loan_ids is None or r["loan_id"] in loan_ids:
                self.paid[r["loan_id"]].append((date.fromisoformat(r["paid_on"]), fen(r["amount"])))
        for s in self.schedule.values():
            s.sort()

    def dpd(self, loan_id: str, day: date) -> int:
        paid = sum(a for d, a in self.paid[loan_id] if d <= day)
        cumulative = 0
        for due_on, _seq, amount in self.schedule[loan_id]:
            cumulative += amount
            if cumulative > paid:
                return (day - due_on).days if due_on < day else 0
        return 0

    def first_day_over(self, loan_id: str, over: int, start: date, end: date) -> date | None:
        """Day by day from `start`: the first day more than `over` days past due, by `end`."""
        day = start
        while day <= end:
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
    paid = defaultdict(int)
    for r in rows(files.payments, "utf-8"):
        if date.fromisoformat(r["paid_on"]) <= as_of:
            paid[r["loan_id"]] += fen(r["amount"])
    out = {}
    for loan_id, disbursed in loans.items():
        if disbursed > as_of:
            continue
        p = paid[loan_id]
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
                    dpd = (as_of - due_on).days
        closed = p >= cumulative
        out[loan_id] = {
            "status": "closed" if closed else "open",
            "dpd": dpd,
            "bucket": None if closed else bucket_of(dpd),
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
        want = {k for k, s in expected_states(imported, as_of).items() if s["dpd"] > 0}
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
        seen = {k: {"status": "closed" if p.bucket is None else "open", "dpd": p.dpd, "bucket": p.bucket,
                    "overdue": p.overdue, "outstanding": p.outstanding}
                for k, ps in got.items() if (p := ps[n]) is not None}
        assert seen == want, as_of


def test_first_day_past_due_matches_a_day_by_day_replay(book3k):
    cli, imported = book3k
    from collect_cli.domain.timeline import first_past_due
    from collect_cli.services.analytics import iter_book
    from collect_cli.store.database import open_engine

    engine = open_engine(cli.db)
    with engine.connect() as conn:
        book = [loan for loan in iter_book(conn)][:150]
    engine.dispose()
    loans = {loan.loan_id: loan for loan in book}
    csv_book = CsvBook(imported, set(loans))
    for loan_id, loan in loans.items():
        for over in (30, 60, 90):
            expected = csv_book.first_day_over(loan_id, over, date.fromordinal(loan.disbursed), GENERATED_ON)
            hit = first_past_due(loan.ledger, [over])[0]
            assert (hit if hit is not None and hit <= GENERATED_ON.toordinal() else None) == (
                expected.toordinal() if expected else None), (loan_id, over)
