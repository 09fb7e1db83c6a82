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
