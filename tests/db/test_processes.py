"""run-reminders in real processes: a held lock, two runs at once, and a SIGKILL half-way."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from collect_cli.services.demo import generate_portfolio
from collect_cli.store.database import database_url, open_engine
from collect_cli.store.locks import run_lock

AS_OF = "2026-11-20"
NOW = "2026-11-20T02:00"


def collect(db: str, *args: str, cwd) -> subprocess.Popen:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("COLLECT_")}, "COLLECT_ALLOW_CLOCK": "1"}
    return subprocess.Popen([sys.executable, "-m", "collect_cli", "--db", db, *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def reminders(db: str, cwd, *extra: str) -> subprocess.Popen:
    return collect(db, "run-reminders", "--as-of", AS_OF, "--now", NOW, "--format", "json", *extra, cwd=cwd)


@pytest.fixture
def portfolio(db, tmp_path):
    files = generate_portfolio(tmp_path / "demo", loans=6000, seed=11, as_of=__import__("datetime").date(2026, 11, 20))
    p = collect(db, "import", str(files.loans), str(files.installments), str(files.payments), cwd=tmp_path)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    return db


def outbox_rows(db: str) -> list[tuple]:
    engine = create_engine(database_url(db))
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT loan_id, step, episode, status, reason, body FROM outbox")).all()
    engine.dispose()
    return sorted(tuple(r) for r in rows)


def per_step(rows: list[tuple]) -> dict:
    out: dict = {}
    for _, step, _, status, reason, _ in rows:
        key = (step, status, (reason or "").split(":")[0] if status == "suppressed" else "")
        out[key] = out.get(key, 0) + 1
    return out


def expected(summary: dict) -> dict:
    out = {}
    for s in summary["steps"]:
        if s["queued"]:
            out[(s["step"], "queued", "")] = s["queued"]
        if s["skipped"]:
            out[(s["step"], "skipped", "")] = s["skipped"]
        for rule, n in s["suppressed_by_rule"].items():
            out[(s["step"], "suppressed", rule)] = n
    return out


def test_a_second_run_while_the_lock_is_held_does_nothing_and_exits_4(portfolio, tmp_path):
    engine = open_engine(portfolio)
    with run_lock(engine, "run-reminders"):
        p = reminders(portfolio, tmp_path)
        out, err = p.communicate(timeout=120)
    engine.dispose()
    assert p.returncode == 4, err
    assert "another" in err and out == ""
    assert outbox_rows(portfolio) == []


def test_two_runs_at_once_queue_each_message_once(portfolio, tmp_path):
    dry = reminders(portfolio, tmp_path, "--dry-run")
    want = expected(json.loads(dry.communicate(timeout=120)[0]))
    runs = [reminders(portfolio, tmp_path) for _ in range(2)]
    codes = sorted(p.wait(timeout=300) for p in runs)
    assert codes in ([0, 4], [0, 0]), [p.stderr.read() for p in runs]
    rows = outbox_rows(portfolio)
    assert len({r[:3] for r in rows}) == len(rows)
    assert per_step(rows) == want


def test_two_runs_whose_locks_cannot_see_each_other_still_queue_each_message_once(portfolio, tmp_path):
    """Two hosts whose run locks miss each other (a lock file on a network share, a proxy
    that pins no session): the unique key (loan, step, episode) alone keeps every message
    queued once."""
    unlocked = ("import contextlib, sys; from collect_cli.services import reminders; "
                "reminders.run_lock = lambda *a, **k: contextlib.nullcontext(); "
                "from collect_cli.cli.app import main; sys.argv[0] = 'collect'; main()")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("COLLECT_")}, "COLLECT_ALLOW_CLOCK": "1"}
    runs = [subprocess.Popen([sys.executable, "-c", unlocked, "--db", portfolio, "run-reminders", "--as-of", AS_OF,
                              "--now", NOW, "--format", "json"], cwd=tmp_path, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=300) for p in runs]
    assert [p.returncode for p in runs] == [0, 0], [err for _, err in results]
    rows = outbox_rows(portfolio)
    assert rows and len({r[:3] for r in rows}) == len(rows)


def test_a_run_killed_half_way_is_finished_by_the_next_run(portfolio, tmp_path):
    dry = reminders(portfolio, tmp_path, "--dry-run")
    want = expected(json.loads(dry.communicate(timeout=120)[0]))
    engine = create_engine(database_url(portfolio))
    p = reminders(portfolio, tmp_path)
    deadline = time.monotonic() + 60
    with engine.connect() as conn:
        while time.monotonic() < deadline and p.poll() is None:
            if conn.execute(text("SELECT count(*) FROM outbox")).scalar():
                break  # the first batch is committed: kill it now
            conn.rollback()
            time.sleep(0.01)
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    engine.dispose()
    partial = outbox_rows(portfolio)
    assert p.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert 0 < len(partial) < sum(want.values())
    again = reminders(portfolio, tmp_path)
    assert again.wait(timeout=300) == 0, again.stderr.read()
    rows = outbox_rows(portfolio)
    assert per_step(rows) == want
    assert set(partial) <= set(rows)  # nothing written before the kill changed or went missing


def split_payments(files, tmp_path, on: str) -> tuple[Path, Path]:
    """The demo's payments cut in two files: those made before `on`, and the rest."""
    header, *rows = files.payments.read_text(encoding="utf-8").splitlines(keepends=True)
    early, late = tmp_path / "early.csv", tmp_path / "late.csv"
    early.write_text(header + "".join(r for r in rows if r.split(",")[2] < on), encoding="utf-8")
    late.write_text(header + "".join(r for r in rows if r.split(",")[2] >= on), encoding="utf-8")
    return early, late


def test_a_file_imported_during_the_nightly_run_is_in_every_message_or_in_none(db, tmp_path):
    """run-reminders reads the ledger as of one moment: a payments file committed half-way
    through the run is in none of its messages, never in some. (Each file is one
    transaction, so no reader ever sees half a file.)"""
    from datetime import date

    files = generate_portfolio(tmp_path / "demo", loans=6000, seed=11, as_of=date(2026, 11, 20))
    early, late = split_payments(files, tmp_path, "2026-11-01")

    def store(where: str, *payments: Path) -> str:
        p = collect(where, "import", str(files.loans), str(files.installments), *map(str, payments), cwd=tmp_path)
        assert p.wait(timeout=300) == 0, p.stderr.read()
        return where

    without = store(str(tmp_path / "without.db"), early)
    with_late = store(str(tmp_path / "with.db"), early, late)
    for expected_store in (without, with_late):
        assert reminders(expected_store, tmp_path).wait(timeout=300) == 0
    before, after = outbox_rows(without), outbox_rows(with_late)
    assert before != after  # the late payments change what the messages say

    store(db, early)
    engine = create_engine(database_url(db))
    run = reminders(db, tmp_path)
    with engine.connect() as conn:  # once the run has committed its first batch,
        while run.poll() is None and not conn.execute(text("SELECT count(*) FROM outbox")).scalar():
            conn.rollback()
            time.sleep(0.01)
    engine.dispose()
    run.send_signal(signal.SIGSTOP)  # hold it there while the file is imported
    imported = collect(db, "import", str(late), cwd=tmp_path)
    try:
        imported.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass  # SQLite: stopped in a batch's write, the run holds the lock the import waits for
    finally:
        run.send_signal(signal.SIGCONT)
    assert imported.wait(timeout=300) == 0, imported.stderr.read()
    overlapped = run.poll() is None
    assert run.wait(timeout=300) == 0, run.stderr.read()
    assert overlapped, "the run ended before the import did"
    assert outbox_rows(db) == before  # the next run is the one that sees the file


LEDGER_COLUMNS = {"borrowers": "borrower_id, name, phone, email, address, locale, timezone",
                  "loans": "loan_id, borrower_id, principal, disbursed_on, annual_rate_ppm, product",
                  "installments": "loan_id, seq, due_on, principal_due, interest_due, fee_due",
                  "payments": "payment_id, loan_id, paid_on, amount"}


def ledger(db: str) -> dict[str, list[tuple]]:
    """The ledger's rows, without the batch ids (a sequence need not give the same ids twice)."""
    engine = create_engine(database_url(db))
    with engine.connect() as conn:
        out = {t: sorted(tuple(map(str, r)) for r in conn.execute(text(f"SELECT {cols} FROM {t}")))
               for t, cols in LEDGER_COLUMNS.items()}
    engine.dispose()
    return out


def test_an_import_killed_anywhere_keeps_whole_files_and_the_rerun_finishes_the_job(db, tmp_path):
    from datetime import date

    files = generate_portfolio(tmp_path / "demo", loans=6000, seed=3, as_of=date(2026, 11, 20))
    paths = [str(files.loans), str(files.installments), str(files.payments)]
    clean = str(tmp_path / "clean.db")
    assert collect(clean, "import", *paths, cwd=tmp_path).wait(timeout=300) == 0
    want = ledger(clean)
    open_engine(db).dispose()  # the schema first: the kills are about the import
    rng = random.Random(20261122)
    cut_short = []
    for attempt in range(3):  # killed at a random moment; whatever it had done, the next run completes it
        p = collect(db, "import", *paths, cwd=tmp_path)
        if attempt == 0:  # once the loans file is in, with the others on their way
            engine = create_engine(database_url(db))
            with engine.connect() as conn:
                while p.poll() is None and not conn.execute(text("SELECT count(*) FROM loans")).scalar():
                    conn.rollback()
                    time.sleep(0.005)
            engine.dispose()
        else:
            time.sleep(rng.uniform(0.05, 1.0))
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
        got = ledger(db)
        for table, rows in got.items():  # each file is in whole or not at all
            assert rows in ([], want[table]), (attempt, table)
        cut_short.append(got != want)
    assert any(cut_short), "every import finished before it was killed"
    again = collect(db, "import", *paths, cwd=tmp_path)
    assert again.wait(timeout=300) == 0, again.stderr.read()
    assert ledger(db) == want


def test_send_killed_anywhere_delivers_each_message_once_after_the_rerun(portfolio, tmp_path):
    assert reminders(portfolio, tmp_path).wait(timeout=300) == 0
    engine = create_engine(database_url(portfolio))
    spooled = lambda: sum(len(f.read_bytes().splitlines()) for f in (tmp_path / "outbox").glob("*.jsonl"))  # noqa: E731
    p = collect(portfolio, "send", "--now", "2026-11-20T09:00", cwd=tmp_path)
    with engine.connect() as conn:  # killed in the worst place: delivered, not yet marked sent
        while p.poll() is None and spooled() <= conn.execute(
                text("SELECT count(*) FROM outbox WHERE status = 'sent' AND channel = 'sms'")).scalar():
            conn.rollback()
    p.send_signal(signal.SIGKILL)
    assert p.wait(timeout=30) == -signal.SIGKILL, "send finished before it could be killed"
    engine.dispose()
    again = collect(portfolio, "send", "--now", "2026-11-20T09:00", "--format", "json", cwd=tmp_path)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    engine = create_engine(database_url(portfolio))
    with engine.connect() as conn:
        sent = {(c, i) for i, c in conn.execute(text("SELECT id, channel FROM outbox WHERE status = 'sent'"))}
    engine.dispose()
    spool = tmp_path / "outbox"
    delivered = [(json.loads(line)["channel"], json.loads(line)["id"])
                 for f in spool.glob("*.jsonl") for line in f.read_text(encoding="utf-8").splitlines()]
    letters = [("letter", int(f.name.split("-")[0])) for f in spool.glob("letters/*/*.html")]
    assert len(delivered) == len(set(delivered))  # nothing twice to the gateway
    assert set(delivered) | set(letters) == sent  # nothing lost, nothing marked sent that was not
    assert {c for c, _ in sent} >= {"sms", "letter"}


@pytest.fixture
def small_book(db, tmp_path):
    from datetime import date

    files = generate_portfolio(tmp_path / "demo", loans=1500, seed=5, as_of=date(2026, 11, 20))
    p = collect(db, "import", str(files.loans), str(files.installments), str(files.payments), cwd=tmp_path)
    assert p.wait(timeout=300) == 0
    return db


def test_two_agents_taking_work_at_once_never_get_the_same_account(small_book, tmp_path):
    takers = [collect(small_book, "queue", "take", "--agent", agent, "--limit", "25", "--as-of", AS_OF,
                      "--now", "2026-11-20T09:00", "--format", "json", cwd=tmp_path) for agent in ("wang", "li")]
    got = []
    for p in takers:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        got.append(json.loads(out)["loans"])
    assert len(got[0]) == len(got[1]) == 25
    assert not set(got[0]) & set(got[1])
    engine = create_engine(database_url(small_book))
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT loan_id, agent FROM assignments")).all()
    engine.dispose()
    assert len(rows) == 50 and len({r.loan_id for r in rows}) == 50


def test_two_collectors_applying_plans_at_once_apply_one(small_book, tmp_path):
    """Two `plan --apply` for the same loan at the same moment: one applies, the other is
    refused on the state the first one left (PLAN-ORDER: one plan a day), never both."""
    q = collect(small_book, "queue", "--as-of", AS_OF, "--limit", "1", "--format", "json", cwd=tmp_path)
    out, err = q.communicate(timeout=300)
    loan = json.loads(out)[0]["loan_id"]
    runs = [collect(small_book, "plan", loan, "--installments", n, "--as-of", AS_OF, "--apply", "--agent", agent,
                    "--format", "json", cwd=tmp_path) for agent, n in (("wang", "6"), ("li", "9"))]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in runs]
    assert sorted(code for code, _ in results) == [0, 6], results
    assert any("PLAN-ORDER" in err for _, err in results)
    engine = create_engine(database_url(small_book))
    with engine.connect() as conn:
        plans = conn.execute(text("SELECT batch_id FROM plans")).scalars().all()
        replaced_by = conn.execute(text("SELECT DISTINCT replaced_by_batch_id FROM installment_history")).scalars().all()
    engine.dispose()
    assert len(plans) == 1 and replaced_by == plans
