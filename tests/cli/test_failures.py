"""The bad day: a full disk and a read-only database end in a clear `Error:` (exit 1), no
traceback, and nothing half-written."""

from __future__ import annotations

import json
import sqlite3

from collect_cli.store import database
from tests.cli.ledger_book import INSTALLMENTS, LOANS, acme
from tests.conftest import Cli


def ledger_counts(path) -> tuple[int, int]:
    with sqlite3.connect(path) as con:
        return tuple(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("loans", "installments"))


def test_a_full_disk_is_a_clean_error_and_the_file_is_not_half_imported(tmp_path, monkeypatch):
    db = tmp_path / "collect.db"
    cli = Cli(str(db))
    (tmp_path / "loans.csv").write_text(LOANS, encoding="utf-8")
    assert cli("import", str(tmp_path / "loans.csv")).exit_code == 0
    pages = sqlite3.connect(db).execute("PRAGMA page_count").fetchone()[0]
    real = database._sqlite_pragmas

    def full_disk(dbapi_conn, record):  # the disk fills up two pages from now
        real(dbapi_conn, record)
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages + 2}")

    monkeypatch.setattr(database, "_sqlite_pragmas", full_disk)
    big = "loan_id,seq,due_on,principal_due,interest_due,fee_due\n" + "".join(
        f"L{i % 5 + 1},{i},2026-01-31,100,5,\n" for i in range(1, 5000))
    (tmp_path / "big.csv").write_text(big, encoding="utf-8")
    r = cli("import", str(tmp_path / "big.csv"))
    assert r.exit_code == 1 and r.stderr.startswith("Error: ") and "full" in r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert ledger_counts(db) == (5, 0)


def test_a_read_only_database_is_a_clean_error(tmp_path, db):
    cli = Cli(db)
    pays = "payment_id,loan_id,paid_on,amount\nP1,L1,2026-01-31,105\n"
    for name, content in (("loans.csv", LOANS), ("inst.csv", INSTALLMENTS), ("pay.csv", pays)):
        (tmp_path / name).write_text(content, encoding="utf-8")
    assert cli("import", str(tmp_path / "loans.csv"), str(tmp_path / "inst.csv")).exit_code == 0
    if db.startswith("postgresql"):  # a server that allows this user to read only
        read_only = Cli(db + "?options=-c%20default_transaction_read_only%3Don")
    else:  # a file opened read-only (a copy on a read-only mount, say)
        read_only = Cli(f"sqlite:///file:{db}?mode=ro&uri=true")
    for args in (["import", str(tmp_path / "pay.csv")], ["run-reminders", "--as-of", "2026-02-10"]):
        r = read_only(*args)
        assert r.exit_code == 1, r.stdout + r.stderr
        assert r.stderr.startswith("Error: ") and "read" in r.stderr.lower()
        assert "Traceback" not in r.stdout + r.stderr
    r = read_only("queue", "--as-of", "2026-02-10")  # reading still works
    assert r.exit_code == 0, r.stderr
    assert json.loads(cli("outbox", "--format", "json").stdout) == []  # nothing was queued


def test_an_export_never_replaces_the_store_or_a_ledger_file(tmp_path, sqlite_db):
    """--output naming the database, or a ledger input, is refused and the file is left as it
    was; an earlier file of the same export is replaced whole (a rerun)."""
    cli = Cli(sqlite_db)
    loans = tmp_path / "loans.csv"
    loans.write_text(LOANS, encoding="utf-8")
    (tmp_path / "inst.csv").write_text(INSTALLMENTS, encoding="utf-8")
    assert cli("import", str(loans), str(tmp_path / "inst.csv")).exit_code == 0
    acme(cli)  # an agency of the register: a file goes only to one (AGY-3)

    def contents() -> list[str]:  # the store as SQL: a WAL checkpoint may rewrite the file's pages
        with sqlite3.connect(sqlite_db) as con:
            return list(con.iterdump())

    store = contents()
    for target in (sqlite_db, str(loans)):
        for args in (["bureau", "export", "--as-of", "2026-02-10"],
                     ["placements", "export", "--agency", "Acme", "--as-of", "2026-02-10"]):
            r = cli(*args, "--output", target)
            assert r.exit_code == 2 and "not an earlier file of this export" in r.stderr, r.stderr
    assert contents() == store and loans.read_text(encoding="utf-8") == LOANS
    out = tmp_path / "bureau.csv"
    for _ in range(2):
        r = cli("bureau", "export", "--as-of", "2026-02-10", "--output", str(out))
        assert r.exit_code == 0, r.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_a_moment_out_of_range_is_a_usage_error(sqlite_db):
    cli = Cli(sqlite_db)
    assert cli("db", "upgrade").exit_code == 0
    for args in (["run-reminders"], ["queue"], ["send"], ["hold", "L1", "--reason", "dispute"]):
        for moment in ("0001-01-01T00:00", "9999-12-31T23:00+00:00", "9999-12-31T12:00"):
            r = cli(*args, "--now", moment)
            assert r.exit_code == 2 and "out of range" in r.stderr and "Traceback" not in r.stdout + r.stderr
