"""Analyst reports against computations written here from the CSV files alone: the bucket
trend and the roll matrix from two (or more) as-of states computed independently, the
classification from DPD, vintages from a day-by-day replay."""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta

from tests.cli.test_roundtrip import GENERATED_ON, CsvBook, expected_states, fen, payments_by_loan, rows

START = date(2026, 10, 20)


def report(cli, *args: str) -> dict:
    r = cli("report", *args, "--format", "json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def pct(part: int, whole: int) -> str:
    return f"{Decimal(part) / whole * 100:.2f}" if whole else "0.00"


def test_rolls_count_the_pairs_of_two_independent_states(book3k):
    cli, imported = book3k
    first, last = expected_states(imported, START), expected_states(imported, GENERATED_ON)
    pairs, balance = Counter(), Counter()
    for loan_id, s in first.items():
        if s["bucket"] is not None:
            to = last[loan_id]["bucket"] or last[loan_id]["status"]  # closed or transferred
            pairs[(s["bucket"], to)] += 1
            balance[(s["bucket"], to)] += s["outstanding"]
    got = report(cli, "rolls", "--from", START.isoformat(), "--to", GENERATED_ON.isoformat())
    states = ["M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7+", "closed", "transferred"]
    assert sum(pairs[(a, "transferred")] for a in states) > 0  # the sold loans are their own state
    for row in got["accounts"]:
        assert {s: row[s] for s in states} == {s: pairs[(row["from"], s)] for s in states}, row["from"]
    for row in got["balance"]:
        assert {s: fen(row[s]) for s in states} == {s: balance[(row["from"], s)] for s in states}, row["from"]
    rates = {r["bucket"]: r for r in got["rates"]}
    m2 = {s: pairs[("M2", s)] for s in states}
    n = sum(m2.values())
    assert rates["M2"]["cured"] == pct(m2["M0"] + m2["closed"], n)
    assert rates["M2"]["rolled_forward"] == pct(sum(m2[s] for s in states[3:8]), n)
    flow = {r["from"]: r for r in got["flow"]}
    m0_balance = sum(v for (a, _), v in balance.items() if a == "M0")
    assert flow["M0"]["flow_rate"] == pct(balance[("M0", "M1")], m0_balance)
    assert sum(pairs.values()) > 1000 and pairs[("M1", "M0")] and pairs[("M1", "M2")]  # a real book


def test_bucket_trend_matches_each_date(book3k):
    cli, imported = book3k
    got = report(cli, "buckets", "--from", "2026-08-31", "--to", "2026-11-20", "--every", "month")
    days = sorted({r["as_of"] for r in got["buckets"]})
    assert days == ["2026-08-31", "2026-09-30", "2026-10-31", "2026-11-20"]  # month ends, then --to itself
    for day in days:
        want = expected_states(imported, date.fromisoformat(day))
        for r in (r for r in got["buckets"] if r["as_of"] == day):
            members = [s for s in want.values() if s["bucket"] == r["bucket"]]
            assert (r["accounts"], fen(r["outstanding"]), fen(r["overdue"])) == (
                len(members), sum(s["outstanding"] for s in members), sum(s["overdue"] for s in members))


def test_classification_by_dpd(book3k):
    cli, imported = book3k
    want = expected_states(imported, GENERATED_ON)

    def tier(dpd: int) -> str:
        return "损失" if dpd > 360 else "可疑" if dpd > 270 else "次级" if dpd > 90 else "关注" if dpd else "正常"

    count, balance = Counter(), Counter()
    for s in want.values():
        if s["status"] == "open":
            count[tier(s["dpd"])] += 1
            balance[tier(s["dpd"])] += s["outstanding"]
    got = {r["tier"]: r for r in report(cli, "classification", "--as-of", GENERATED_ON.isoformat())["tiers"]}
    for t in ("正常", "关注", "次级", "可疑", "损失"):
        assert (got[t]["accounts"], fen(got[t]["outstanding"])) == (count[t], balance[t]), t
        assert got[t]["share_outstanding"] == pct(balance[t], sum(balance.values()))
    assert got["合计"]["accounts"] == sum(count.values())


def test_vintages_from_a_day_by_day_replay(book3k):
    cli, imported = book3k
    as_of = GENERATED_ON
    loans = {r["借据号"]: (date.fromisoformat(r["放款日期"]), fen(r["贷款本金"])) for r in rows(imported.loans, "gb18030")}
    chosen = sorted(loans)[::8]  # every 8th loan, a day at a time: enough to hold the report to account
    csv_book = CsvBook(imported, set(chosen))
    first_30 = {m: d for m in chosen if (d := csv_book.first_day_over(m, 30, loans[m][0], as_of))}
    got = report(cli, "vintages", "--as-of", as_of.isoformat(), "--months", "6")
    by_cohort = {r["cohort"]: r for r in got["dpd30"]}
    cohorts = defaultdict(list)
    for loan_id, (disbursed, _principal) in loans.items():
        if disbursed <= as_of:
            cohorts[disbursed.strftime("%Y-%m")].append(loan_id)
    assert set(by_cohort) == set(cohorts)
    for month, members in cohorts.items():
        assert by_cohort[month]["loans"] == len(members)
        assert fen(by_cohort[month]["principal"]) == sum(loans[m][1] for m in members)
    from collect_cli.domain.timeline import first_past_due
    from collect_cli.services.analyst import _aging
    from collect_cli.config import Settings
    from collect_cli.services.analytics import iter_book
    from collect_cli.store import queries as q
    from collect_cli.store.database import open_engine

    engine = open_engine(cli.db)
    with engine.connect() as conn:
        book, events = {loan.loan_id: loan for loan in iter_book(conn, settings=Settings())}, q.events_of(conn)
    engine.dispose()
    first = {}
    for loan_id, loan in book.items():
        hit = first_past_due(loan.ledger, [30], **_aging(events.get(loan_id, ())))[0]
        first[loan_id] = date.fromordinal(hit) if hit is not None and hit <= as_of.toordinal() else None
    assert {m: first[m] for m in chosen} == {m: first_30.get(m) for m in chosen}  # held to the replay
    # the shares, cohort by cohort: principal of loans first 30+ within k months of disbursement
    for month, members in cohorts.items():
        principal = sum(loans[m][1] for m in members)
        first_day = min(loans[m][0] for m in members)
        month_end = (first_day.replace(day=1) + relativedelta(months=1)) - timedelta(days=1)
        for mob in range(1, 7):
            cell = by_cohort[month][f"mob{mob}"]
            if month_end + relativedelta(months=mob) > as_of:
                assert cell is None
                continue
            reached = sum(loans[m][1] for m in members
                          if first[m] is not None and first[m] <= loans[m][0] + relativedelta(months=mob))
            assert cell == pct(reached, principal), (month, mob)


def test_exports_are_safe_for_excel_and_charts_are_drawn(book3k, tmp_path):
    cli, imported = book3k
    out, png, svg = tmp_path / "rolls.csv", tmp_path / "rolls.png", tmp_path / "classes.svg"
    r = cli("report", "rolls", "--from", START.isoformat(), "--to", GENERATED_ON.isoformat(), "--output", str(out),
            "--chart", str(png))
    assert r.exit_code == 0, r.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel opens it in the right encoding
    with open(out, encoding="utf-8-sig", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert {row["table"] for row in table} == {"accounts", "balance", "rates", "flow"}
    assert png.read_bytes().startswith(b"\x89PNG")
    r = cli("report", "classification", "--as-of", GENERATED_ON.isoformat(), "--chart", str(svg))
    assert r.exit_code == 0 and "<svg" in svg.read_text(encoding="utf-8")
    assert cli("report", "rolls", "--chart", str(tmp_path / "x.gif")).exit_code == 2
    assert cli("report", "rolls", "--from", "2026-11-20", "--to", "2026-10-20").exit_code == 2
    assert cli("report", "buckets", "--from", "2026-11-20", "--to", "2026-10-20").exit_code == 2


def test_collections_by_bucket_the_day_before_and_recovery(book3k):
    cli, imported = book3k
    start, end = date(2026, 11, 11), date(2026, 11, 20)
    # collected net: a reversal takes its payment back on its own day
    pays = [(loan_id, d, a) for loan_id, ps in payments_by_loan(imported).items() for d, a in ps]
    in_period = [p for p in pays if start <= p[1] <= end]
    states = {d: expected_states(imported, d - timedelta(days=1)) for d in {p[1] for p in in_period}}
    by_bucket = Counter()
    for loan_id, d, amount in in_period:
        by_bucket[states[d][loan_id]["bucket"] or "closed"] += amount
    eve = expected_states(imported, start - timedelta(days=1))
    paid_in = Counter()
    for loan_id, _, amount in in_period:
        paid_in[loan_id] += amount
    recovered = sum(min(s["overdue"], paid_in[k]) for k, s in eve.items())
    owed = sum(s["overdue"] for s in eve.values())
    got = report(cli, "collections", "--from", start.isoformat(), "--to", end.isoformat())
    assert {r["bucket"]: fen(r["amount"]) for r in got["by_bucket"] if fen(r["amount"])} == {
        k: v for k, v in by_bucket.items() if v}
    [rec] = got["recovery"]
    assert (fen(rec["overdue_before"]), fen(rec["recovered"]), rec["recovery_rate"]) == (owed, recovered,
                                                                                         pct(recovered, owed))
    assert sum(fen(r["amount"]) for r in got["by_month"]) == sum(a for _, _, a in in_period)


def test_promises_and_contacts_reports(cli, book, tmp_path):
    from tests.cli.ledger_book import pay, run

    def log(loan, agent, at, *extra):
        r = cli("log", loan, "--channel", "call", "--now", at, "--agent", agent, *extra)
        assert r.exit_code == 0, r.stderr

    log("L1", "wang", "2026-02-02T10:00", "--outcome", "promise", "--promise", "105", "--on", "2026-02-05")
    log("L2", "wang", "2026-02-02T10:10", "--outcome", "promise", "--promise", "105", "--on", "2026-02-06")
    log("L4", "li", "2026-02-03T11:00", "--outcome", "promise", "--promise", "105", "--on", "2026-02-20")
    log("L3", "li", "2026-02-03T11:30", "--outcome", "no-answer")
    pay(cli, tmp_path, "P1,L1,2026-02-05,105", "P2,L2,2026-02-06,50", "P3,L3,2026-02-12,105")
    run(cli, "2026-02-08")
    got = report(cli, "promises", "--from", "2026-02-01", "--to", "2026-02-10")
    agents = {r["agent"]: r for r in got["by_agent"]}
    assert (agents["wang"]["made"], agents["wang"]["kept"], agents["wang"]["partly_kept"],
            agents["wang"]["paid"], agents["wang"]["kept_rate"]) == (2, 1, 1, "155.00", "50.00")
    assert (agents["li"]["made"], agents["li"]["open"]) == (1, 1)  # 02-20 is after the period
    c = report(cli, "contacts", "--from", "2026-02-01", "--to", "2026-02-10")
    per = {r["agent"]: r for r in c["agents"]}
    assert (per["wang"]["accounts"], per["wang"]["contacts"], per["wang"]["promises"]) == (2, 2, 2)
    # paid within 7 days after the contact: wang 105 + 50; li's L3 call on 02-03, paid 02-12: too late
    assert (per["wang"]["collected"], per["li"]["collected"]) == ("155.00", "0.00")
    assert {(r["channel"], r["outcome"]): r["contacts"] for r in c["calls"]} == {
        ("call", "promise"): 3, ("call", "no-answer"): 1}
    steps = {r["step"]: r for r in c["messages"]}
    assert steps and all(sum(r[s] for s in ("queued", "sent", "failed", "suppressed", "cancelled", "skipped")) > 0
                         for r in steps.values())


def test_report_all_writes_one_self_contained_page(book3k, tmp_path):
    cli, imported = book3k
    page = tmp_path / "all.html"
    r = cli("report", "all", "--html", str(page), "--as-of", GENERATED_ON.isoformat())
    assert r.exit_code == 0, r.stderr
    text = page.read_text(encoding="utf-8")
    for name in ("buckets", "rolls", "classification", "vintages", "collections", "promises", "contacts", "watchlist"):
        assert f'id="{name}"' in text
    assert text.count("<svg") >= 5  # the charts, inline
    assert "<script" not in text and 'src="http' not in text and "<link" not in text  # nothing to fetch


def test_the_book_cut_into_parts_gives_the_same_reports(book3k, monkeypatch):
    """Big books are replayed in parallel processes, one range of loans each: the same figures."""
    from collect_cli.services import analytics

    cli, _ = book3k
    asks = [("rolls", "--from", START.isoformat(), "--to", GENERATED_ON.isoformat()),
            ("vintages", "--as-of", GENERATED_ON.isoformat()),
            ("classification", "--as-of", GENERATED_ON.isoformat()),
            ("buckets", "--from", "2026-08-31", "--to", GENERATED_ON.isoformat()),
            ("collections", "--from", "2026-11-01", "--to", GENERATED_ON.isoformat()),
            ("watchlist", "--as-of", GENERATED_ON.isoformat(), "--top", "0")]
    whole = [report(cli, *a) for a in asks]
    monkeypatch.setattr(analytics, "PARALLEL_MIN", 0)
    monkeypatch.setattr(analytics, "cores", lambda: 3)
    assert [report(cli, *a) for a in asks] == whole


def test_promises_and_contacts_over_a_generated_book(cli, tmp_path):
    """Seeded random calls and promises on a generated book; the verdicts, the per-agent
    figures and the money collected after contact computed here from the CSV payments."""
    import random

    from collect_cli.services.demo import generate_portfolio

    files = generate_portfolio(tmp_path / "demo", loans=400, seed=3, as_of=GENERATED_ON)
    assert cli("import", str(files.loans), str(files.installments), str(files.payments)).exit_code == 0
    paid = defaultdict(list)
    for r in rows(files.payments, "utf-8"):
        paid[r["loan_id"]].append((date.fromisoformat(r["paid_on"]), fen(r["amount"])))
    loans = sorted(r["借据号"] for r in rows(files.loans, "gb18030")
                   if date.fromisoformat(r["放款日期"]) <= date(2026, 10, 1))
    rng = random.Random(11)
    start, end = date(2026, 10, 1), date(2026, 10, 31)
    verdicts, per_agent = Counter(), defaultdict(Counter)
    contacts = []  # (loan, day, agent)
    for loan in rng.sample(loans, 60):
        agent = rng.choice(["wang", "li", "zhao"])
        day = start + timedelta(days=rng.randrange(0, 31))
        at = f"{day.isoformat()}T{rng.randrange(9, 20):02d}:00"
        if rng.random() < 0.6:
            amount = rng.choice([100, 500, 2000])
            on = day + timedelta(days=rng.randrange(0, 10))
            r = cli("log", loan, "--channel", "call", "--outcome", "promise", "--promise", str(amount), "--on",
                    on.isoformat(), "--now", at, "--agent", agent)
            got = sum(a for d, a in paid[loan] if day <= d <= on)
            verdict = ("open" if on >= end else "kept" if got >= amount * 100
                       else "partly_kept" if got else "broken")
            verdicts[(agent, verdict)] += 1
            per_agent[agent]["promises"] += 1
        else:
            r = cli("log", loan, "--channel", "call", "--outcome", "no-answer", "--now", at, "--agent", agent)
        assert r.exit_code == 0, r.stderr
        per_agent[agent]["contacts"] += 1
        contacts.append((loan, day, agent))
    for loan in {c[0] for c in contacts}:  # a payment counts for the latest contact in the 7 days before it
        for d, a in paid[loan]:
            before = [(day, agent) for lo, day, agent in contacts if lo == loan and day <= d <= day + timedelta(days=7)]
            if before:
                per_agent[max(before)[1]]["collected"] += a
    got = {r["agent"]: r for r in report(cli, "promises", "--from", start.isoformat(), "--to", end.isoformat())["by_agent"]}
    for agent in ("wang", "li", "zhao"):
        for v in ("kept", "partly_kept", "broken", "open"):
            assert got.get(agent, {}).get(v, 0) == verdicts[(agent, v)], (agent, v)
    c = {r["agent"]: r for r in report(cli, "contacts", "--from", start.isoformat(), "--to", end.isoformat())["agents"]}
    for agent, want in per_agent.items():
        assert (c[agent]["contacts"], c[agent]["promises"], fen(c[agent]["collected"])) == (
            want["contacts"], want["promises"], want["collected"]), agent


def test_buckets_as_of_a_date_to_a_file_keeps_the_date(book3k, tmp_path):
    cli, _ = book3k
    out = tmp_path / "b.csv"
    assert cli("report", "buckets", "--as-of", "2026-10-31", "-o", str(out)).exit_code == 0
    with open(out, encoding="utf-8-sig", newline="") as fh:
        assert {row["as_of"] for row in csv.DictReader(fh)} == {"2026-10-31"}
    assert cli("report", "buckets", "--as-of", "2026-10-31", "--from", "2026-10-01").exit_code == 2


def _die(conn, *, part):
    import os

    os._exit(3)  # a worker killed (out of memory, say)


def test_a_dead_worker_is_a_clean_error(book3k, monkeypatch):
    from collect_cli.errors import CollectError
    from collect_cli.services import analytics
    from collect_cli.store.database import open_engine

    cli, _ = book3k
    monkeypatch.setattr(analytics, "PARALLEL_MIN", 0)
    monkeypatch.setattr(analytics, "cores", lambda: 2)
    engine = open_engine(cli.db)
    try:
        with engine.connect() as conn, pytest.raises(CollectError, match="parallel replay died"):
            analytics.fold_book(conn, _die, (), lambda a, b: a)
    finally:
        engine.dispose()
