"""PostgreSQL plans on statistics: an import leaves the tables it wrote analyzed, so that the
nightly run after it is not planned on the estimates of empty tables (issue 15)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from collect_cli.store.database import open_engine
from tests.conftest import PG_URL, Cli, _pg_database


@pytest.fixture
def pg():
    if not PG_URL:
        pytest.skip("COLLECT_TEST_PG_URL is not set")
    yield from _pg_database()


def write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_an_import_leaves_the_tables_it_wrote_analyzed(pg, tmp_path):
    n = 400
    files = [
        write(tmp_path / "loans.csv", ["loan_id,borrower_id,borrower_name,phone,principal,disbursed_on",
                                       *(f"L{i:04d},B{i:04d},王小明,138{i:08d},1000,2026-01-01" for i in range(n))]),
        write(tmp_path / "inst.csv", ["loan_id,seq,due_on,principal_due,interest_due",
                                      *(f"L{i:04d},{k},2026-0{k + 1}-01,500,10" for i in range(n) for k in (1, 2))]),
        write(tmp_path / "pay.csv", ["payment_id,loan_id,paid_on,amount",
                                     *(f"P{i:04d},L{i:04d},2026-02-01,510" for i in range(n))]),
    ]
    r = Cli(pg)("import", *files)
    assert r.exit_code == 0, r.output
    engine = open_engine(pg)
    with engine.connect() as conn:
        # what the planner will assume: ANALYZE sets it to the rows there; never analyzed, -1
        estimates = dict(conn.execute(text(
            "SELECT relname, reltuples FROM pg_class WHERE relname IN "
            "('loans', 'borrowers', 'installments', 'payments', 'import_batches')")).all())
        plan = conn.execute(text("EXPLAIN SELECT * FROM payments")).scalar()
    engine.dispose()
    assert estimates == {"loans": n, "borrowers": n, "installments": 2 * n, "payments": n, "import_batches": 3}
    assert f"rows={n} " in plan, plan


def test_the_nightly_run_leaves_the_outbox_analyzed(pg, tmp_path):
    """`send` runs right after `run-reminders`, on an outbox the run just filled."""
    from datetime import date

    from collect_cli.services.demo import generate_portfolio

    files = generate_portfolio(tmp_path / "demo", loans=300, seed=5, as_of=date(2026, 11, 20))
    cli = Cli(pg)
    assert cli("import", *map(str, files.paths)).exit_code == 0
    r = cli("run-reminders", "--as-of", "2026-11-20", "--now", "2026-11-20T02:00", "--format", "json")
    assert r.exit_code == 0, r.output
    engine = open_engine(pg)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM outbox")).scalar()
        estimate = conn.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'outbox'")).scalar()
    engine.dispose()
    assert rows > 0 and estimate == rows


def test_the_nightly_run_analyzes_the_outbox_as_it_grows(pg, tmp_path, monkeypatch):
    """The run reads the outbox back by loan ids batch after batch: on a first night it is
    analyzed each time it has doubled, so those reads are not planned as scans of a table the
    planner takes for empty. Scaled down: batches of 4 accounts, the first ANALYZE at 5 rows."""
    from datetime import date, datetime

    from collect_cli.config import load_settings
    from collect_cli.services import reminders
    from collect_cli.services.demo import generate_portfolio
    from collect_cli.store import queries as q

    files = generate_portfolio(tmp_path / "demo", loans=300, seed=5, as_of=date(2026, 11, 20))
    assert Cli(pg)("import", *map(str, files.paths)).exit_code == 0
    monkeypatch.setattr(reminders, "BATCH", 4)
    monkeypatch.setattr(q.GrowingTables.__init__, "__defaults__", (5, False))
    analyzed = []
    wrote = q.GrowingTables.wrote
    monkeypatch.setattr(q.GrowingTables, "wrote", lambda self, conn, rows: analyzed.append(rows) or (
        wrote(self, conn, rows) and analyzed.append("ANALYZE")))
    engine = open_engine(pg)
    try:
        reminders.run_reminders(engine=engine, settings=load_settings(), as_of=date(2026, 11, 20),
                                now=datetime(2026, 11, 19, 18, 0))
        with engine.connect() as conn:
            count = conn.execute(text("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'outbox'")
                                 ).scalar()
    finally:
        engine.dispose()
    written = sum(n for n in analyzed if n != "ANALYZE")
    assert written > 20
    mid_run = analyzed.count("ANALYZE")
    assert 3 <= mid_run <= written.bit_length()  # doubling: a few, not one a batch
    assert count == mid_run + 1  # and once more at the end, for `send`


def test_an_import_analyzes_what_its_batches_read_back_as_it_grows(pg, tmp_path, monkeypatch):
    """Each batch of installments reads back the loan's rows already there, inside the file's
    one transaction: ANALYZE in that transaction, each time they doubled, keeps the lookup an
    index scan (a 10M-loan import on a table never analyzed scanned gigabytes per batch).
    Scaled down: batches of 10 rows, the first ANALYZE at 5 rows."""
    from collect_cli.services import importer
    from collect_cli.store import queries as q

    n = 200
    files = [write(tmp_path / "loans.csv", ["loan_id,borrower_id,borrower_name,phone,principal,disbursed_on",
                                            *(f"L{i:04d},B{i:04d},王小明,138{i:08d},1000,2026-01-01"
                                              for i in range(n))]),
             write(tmp_path / "inst.csv", ["loan_id,seq,due_on,principal_due,interest_due",
                                           *(f"L{i:04d},{k},2026-0{k + 1}-01,500,10" for i in range(n)
                                             for k in (1, 2))])]
    monkeypatch.setattr(importer, "BATCH_ROWS", 10)
    monkeypatch.setattr(q.GrowingTables.__init__, "__defaults__", (5, False))
    analyzed = []
    wrote = q.GrowingTables.wrote
    monkeypatch.setattr(q.GrowingTables, "wrote", lambda self, conn, rows: (
        wrote(self, conn, rows) and analyzed.append(self.tables[0])))
    r = Cli(pg)("import", *files)
    assert r.exit_code == 0, r.output
    for table, rows in (("loans", n), ("installments", 2 * n)):
        assert 3 <= analyzed.count(table) <= rows.bit_length(), analyzed  # doubling: a few, not one a batch
