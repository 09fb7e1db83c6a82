"""The nightly run split by loan-id range: `--part i/n` on n hosts and `--workers N`
processes on one, in real processes on each backend, against one run of the whole book."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import create_engine, text

from collect_cli.domain.policy import CAPPED
from collect_cli.services.demo import generate_portfolio
from collect_cli.store.database import database_url, open_engine
from collect_cli.store.locks import run_lock
from tests.conftest import PG_URL, _pg_database
from tests.db.test_processes import collect, reminders

LOANS_ENCODING = "gb18030"
BORROWER_COLUMNS = (1, 2, 3, 8, 9, 10, 11)  # loans.csv: borrower id, name, phone, email, address, locale, zone


def outbox(db: str) -> dict[tuple, tuple]:
    """(loan, step, episode) -> what the message is, and an error if a key is there twice."""
    engine = create_engine(database_url(db))
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT loan_id, step, episode, status, reason, channel, borrower_id, recipient, "
                                 "send_on, body FROM outbox")).all()
    engine.dispose()
    keyed = {tuple(r[:3]): tuple(r[3:]) for r in rows}
    assert len(keyed) == len(rows), "a message is in the outbox twice"
    return keyed


def capped_per_person_day(rows: dict) -> Counter:
    """Queued SMS and pushes per (borrower, day) and per (number or push id, day): what WHEN-5
    caps, each channel apart."""
    out: Counter = Counter()
    for status, _, channel, borrower, recipient, send_on, _ in rows.values():
        if channel in CAPPED and status == "queued":
            out[channel, "borrower", borrower, send_on] += 1
            out[channel, "point", recipient, send_on] += 1
    return out


def same_as_one_run(parts: dict, whole: dict) -> None:
    """Every message of the whole run, once, saying the same; where a daily cap (SMS, push)
    chose between two loans of one borrower, the parts may have chosen the other loan, so
    those are held to the same count per borrower and day instead (and never more than the cap)."""
    assert parts.keys() == whole.keys()
    capped = {k for k, v in [*parts.items(), *whole.items()] if (v[1] or "").startswith("WHEN-5")}
    people = {(whole[k][3], whole[k][2]) for k in capped}  # (borrower, channel)
    chosen = {k for k, v in whole.items() if (v[3], v[2]) in people}
    assert {k: v for k, v in parts.items() if k not in chosen} == {k: v for k, v in whole.items() if k not in chosen}
    assert capped_per_person_day(parts) == capped_per_person_day(whole)
    assert max(capped_per_person_day(parts).values()) == 1


def cut_of(ids: list[str], parts: int) -> list[str]:
    ordered = sorted(ids)
    return [ordered[len(ordered) * k // parts] for k in range(1, parts)]


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """The demo book, with borrowers whose late loans fall on both sides of the cut into two
    parts: pairs that the daily SMS cap must judge together although two runs see them."""
    tmp_path = tmp_path_factory.mktemp("book")
    files = generate_portfolio(tmp_path / "demo", loans=3000, seed=11, as_of=date(2026, 11, 20))
    scratch = str(tmp_path / "scratch.db")
    assert collect(scratch, "import", *map(str, files.paths), cwd=tmp_path).wait(timeout=300) == 0
    assert reminders(scratch, tmp_path).wait(timeout=300) == 0
    texted = sorted(k[0] for k, v in outbox(scratch).items() if v[0] == "queued" and v[2] == "sms")
    with open(files.loans, encoding=LOANS_ENCODING, newline="") as fh:
        header, *rows = list(csv.reader(fh))
    (cut,) = cut_of([r[0] for r in rows], 2)
    pairs = list(zip([i for i in texted if i < cut], [i for i in texted if i >= cut], strict=False))[:300]
    by_id = {r[0]: r for r in rows}
    for first, second in pairs:  # the second loan is the first's borrower's too
        for col in BORROWER_COLUMNS:
            by_id[second][col] = by_id[first][col]
    with open(files.loans, "w", encoding=LOANS_ENCODING, newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    return files, pairs


def imported(db: str, files, cwd) -> str:
    p = collect(db, "import", *map(str, files.paths), cwd=cwd)
    assert p.wait(timeout=300) == 0, p.stderr.read()
    return db


WHOLE_RUNS: dict[str, tuple[dict, dict]] = {}  # backend -> (summary, outbox) of one run of the whole book


def whole_run(files, db: str, tmp_path) -> tuple[dict, dict]:
    """One run over the whole book, on a second store of the same backend (once a backend)."""
    backend = "postgresql" if db.startswith("postgresql") else "sqlite"
    if backend not in WHOLE_RUNS:
        WHOLE_RUNS[backend] = _run_whole(files, db, tmp_path)
    return WHOLE_RUNS[backend]


def _run_whole(files, db: str, tmp_path) -> tuple[dict, dict]:
    if db.startswith("postgresql"):
        other = _pg_database()
        twin = next(other)
    else:
        other, twin = None, str(tmp_path / "whole.db")
    try:
        imported(twin, files, tmp_path)
        p = reminders(twin, tmp_path)
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        return json.loads(out), outbox(twin)
    finally:
        if other is not None:
            other.close()


def totals(*summaries: dict) -> Counter:
    """Loans looked at and messages by outcome (per step they may differ: where the daily SMS
    cap chose another loan of a borrower, that loan may be at another step)."""
    return sum((Counter({k: s[k] for k in ("accounts", "queued", "suppressed", "skipped")}) for s in summaries),
               Counter())


def test_two_parts_in_two_processes_queue_what_one_run_queues(db, book, tmp_path):
    files, pairs = book
    imported(db, files, tmp_path)
    summary, whole = whole_run(files, db, tmp_path)
    capped = [k for k, v in whole.items() if (v[1] or "").startswith("WHEN-5") and k[0] in {b for _, b in pairs}]
    assert len(capped) >= 50, "the book has no borrower texted from both parts on one day"

    runs = [reminders(db, tmp_path, "--part", f"{i}/2") for i in (1, 2)]
    results = [json.loads(p.communicate(timeout=300)[0]) for p in runs]
    assert [p.returncode for p in runs] == [0, 0]
    assert [(r["part"], r["loans_from"] is None, r["loans_before"] is None) for r in results] == \
        [("1/2", True, False), ("2/2", False, True)]
    assert results[0]["loans_before"] == results[1]["loans_from"]
    same_as_one_run(outbox(db), whole)
    assert totals(*results) == totals(summary)


def test_workers_queue_what_one_process_queues(db, book, tmp_path):
    files, _ = book
    imported(db, files, tmp_path)
    summary, whole = whole_run(files, db, tmp_path)
    p = reminders(db, tmp_path, "--workers", "3")
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    same_as_one_run(outbox(db), whole)
    got = json.loads(out)
    assert (got["workers"], totals(got)) == (3, totals(summary))


def test_parts_run_again_or_overlapping_queue_nothing_twice(db, book, tmp_path):
    """A part re-run, and a split into three over a split into two: the outbox's key keeps each
    message once, and each run leaves what the others wrote as it was."""
    files, _ = book
    imported(db, files, tmp_path)
    _, whole = whole_run(files, db, tmp_path)
    for part in ("1/2", "1/2", "1/3", "2/3", "3/3", "2/2"):
        p = reminders(db, tmp_path, "--part", part)
        assert p.wait(timeout=300) == 0, p.stderr.read()
        if part == "1/2":
            first = outbox(db)
    rows = outbox(db)
    assert {k: v for k, v in rows.items() if k in first} == first
    same_as_one_run(rows, whole)


def test_the_first_part_fixes_the_days_cuts_for_the_others(db, book, tmp_path):
    """Loans imported between the hosts' starts move where a fresh cut would fall; every part
    of the day uses the cuts the first one recorded, so no loan falls between two ranges."""
    files, _ = book
    imported(db, files, tmp_path)
    first = reminders(db, tmp_path, "--part", "1/2")
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    cut = json.loads(out)["loans_before"]
    more = tmp_path / "more.csv"  # 4,000 loans more, all sorting before the cut: a fresh cut would move
    with open(files.loans, encoding=LOANS_ENCODING, newline="") as fh:
        header, *rows = list(csv.reader(fh))
    with open(more, "w", encoding=LOANS_ENCODING, newline="") as fh:
        csv.writer(fh).writerows([header, *([f"A{r[0]}", *r[1:]] for r in rows)])
    assert collect(db, "import", str(more), cwd=tmp_path).wait(timeout=300) == 0
    assert cut_of([r[0] for r in rows] + [f"A{r[0]}" for r in rows], 2) != [cut]
    second = reminders(db, tmp_path, "--part", "2/2")
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert json.loads(out)["loans_from"] == cut
    dry = reminders(db, tmp_path, "--part", "2/3", "--dry-run")  # a dry run records no cuts of its own
    assert dry.wait(timeout=300) == 0
    engine = open_engine(db)
    with engine.connect() as conn:
        recorded = conn.execute(text("SELECT parts, part, first_loan, end_loan FROM run_parts ORDER BY part")).all()
    engine.dispose()
    assert [tuple(r) for r in recorded] == [(2, 1, None, cut), (2, 2, cut, None)]


def test_parts_run_beside_each_other_but_not_beside_a_whole_run_nor_twice(db, book, tmp_path):
    files, _ = book
    imported(db, files, tmp_path)
    engine = open_engine(db)
    with run_lock(engine, "run-reminders", shared=True), run_lock(engine, "run-reminders-part-1-of-2"):
        again = reminders(db, tmp_path, "--part", "1/2")
        whole = reminders(db, tmp_path)
        assert again.wait(timeout=120) == 4 and "another" in again.stderr.read()
        assert whole.wait(timeout=120) == 4
        other = reminders(db, tmp_path, "--part", "2/2")
        assert other.wait(timeout=300) == 0, other.stderr.read()
    with run_lock(engine, "run-reminders"):
        assert reminders(db, tmp_path, "--part", "1/2").wait(timeout=120) == 4
    engine.dispose()


@pytest.mark.parametrize("args, says", [
    (("--part", "3/2"), "--part"), (("--part", "0/2"), "--part"), (("--part", "1"), "--part"),
    (("--part", "½/2"), "--part"), (("--workers", "0"), "--workers"),
    (("--workers", "2", "--dry-run"), "--workers"),
])
def test_bad_splits_are_refused_before_anything_is_done(sqlite_db, tmp_path, args, says):
    files = generate_portfolio(tmp_path / "demo", loans=50, seed=1, as_of=date(2026, 11, 20))
    imported(sqlite_db, files, tmp_path)
    p = reminders(sqlite_db, tmp_path, *args)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 2 and says in err and "Traceback" not in err, err
    assert outbox(sqlite_db) == {}


@pytest.mark.skipif(not PG_URL, reason="COLLECT_TEST_PG_URL is not set")
def test_pg_side_by_side_batches_wait_for_each_others_people(tmp_path):
    """Two transactions that lock a common borrower: the second waits until the first ends."""
    import threading
    import time

    from collect_cli.store import queries as q

    gen = _pg_database()
    url = next(gen)
    try:
        engine = open_engine(url)
        order = []
        with engine.connect() as a, engine.connect() as b:
            a.begin()
            q.lock_keys(a, ["C1", "13800000000"])

            def second():
                b.begin()
                q.lock_keys(b, ["C9", "C1"])
                order.append("b")
                b.rollback()

            t = threading.Thread(target=second)
            t.start()
            time.sleep(0.5)
            order.append("a")
            a.rollback()
            t.join(10)
        engine.dispose()
        assert order == ["a", "b"]
    finally:
        gen.close()
