"""Early warning, backtested: on a generated book, current accounts that score high as of a
date go late in the next 30 days more often than those that score low. Whether an account
went late is computed here from the CSV files alone."""

from __future__ import annotations

import json
from datetime import date, timedelta

from collect_cli.config import Settings
from collect_cli.services.watchlist import scored
from collect_cli.store.database import open_engine
from tests.cli.test_roundtrip import CsvBook

AS_OF = date(2026, 8, 31)


def went_late(files, loan_ids: set[str], start: date, days: int) -> set[str]:
    csv_book = CsvBook(files, loan_ids)
    end = start + timedelta(days=days)
    return {m for m in loan_ids if csv_book.first_day_over(m, 0, start + timedelta(days=1), end)}


def test_high_scores_go_late_more_often(book3k):
    cli, imported = book3k
    engine = open_engine(cli.db)
    with engine.connect() as conn:
        current = scored(conn, AS_OF, settings=Settings())
    engine.dispose()
    assert len(current) > 500
    late = went_late(imported, {r["loan_id"] for r in current}, AS_OF, 30)
    fifth = len(current) // 5
    top, bottom = current[:fifth], current[-fifth:]
    flagged = [r for r in current if r["score"] >= Settings().watchlist.threshold]
    clean = [r for r in current if r["score"] == 0]
    rate = lambda group: sum(r["loan_id"] in late for r in group) / len(group)  # noqa: E731
    overall = rate(current)
    lift = rate(top) / overall
    print(f"backtest as of {AS_OF}: {len(current)} current accounts, {overall:.1%} late within 30 days; "
          f"top fifth {rate(top):.1%} (lift {lift:.2f}), bottom fifth {rate(bottom):.1%}; "
          f"on the watch list {rate(flagged):.1%} of {len(flagged)}, score 0 {rate(clean):.1%} of {len(clean)}")
    assert rate(top) > 2 * rate(bottom)
    assert lift > 1.5
    assert rate(flagged) > 3 * rate(clean)
    assert all(bool(r["reasons"]) == (r["score"] > 0) for r in current)  # every point says why


def test_the_watchlist_report(book3k):
    cli, imported = book3k
    r = cli("report", "watchlist", "--as-of", AS_OF.isoformat(), "--top", "5", "--format", "json")
    assert r.exit_code == 0, r.stderr
    got = json.loads(r.stdout)["accounts"]
    assert len(got) == 5 and all(g["why"] for g in got)
    scores = [float(g["score"]) for g in got]
    assert scores == sorted(scores, reverse=True)


STRATEGY = """
[[strategy]]
step = "predue_watch"
bucket = "M0"
channel = "sms"
template = "predue"
due_in = [1, 5]
min_watch_score = 10
"""


def test_a_strategy_step_can_ask_for_a_watch_score(cli, book, tmp_path):
    from tests.cli.ledger_book import outbox, pay, run

    (tmp_path / "collect.toml").write_text(STRATEGY, encoding="utf-8")
    # L1 paid its first installment 20 days late, L2 on time: only L1 gets the early reminder
    pay(cli, tmp_path, "P1,L1,2026-02-20,105", "P2,L2,2026-01-30,105")
    run(cli, "2026-02-25")
    assert [m["step"] for m in outbox(cli, "L1")] == ["predue_watch"]
    assert outbox(cli, "L2") == []


def test_a_watch_score_is_only_for_current_accounts(cli, book, tmp_path):
    (tmp_path / "collect.toml").write_text(STRATEGY.replace('"M0"', '"M1"').replace("due_in = [1, 5]", "min_days = 1"),
                                           encoding="utf-8")
    r = cli("report", "buckets")
    assert r.exit_code == 2 and "min_watch_score" in r.stderr
