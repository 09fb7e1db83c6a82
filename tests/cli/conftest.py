"""Fixtures of the CLI tests."""

import pytest

from tests.cli.ledger_book import INSTALLMENTS, LOANS


@pytest.fixture
def book(cli, tmp_path):
    for name, content in (("loans.csv", LOANS), ("inst.csv", INSTALLMENTS)):
        (tmp_path / name).write_text(content, encoding="utf-8")
    r = cli("import", str(tmp_path / "loans.csv"), str(tmp_path / "inst.csv"))
    assert r.exit_code == 0, r.stderr
    return tmp_path


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def book3k(request, tmp_path_factory):
    """A generated 3,000-loan book imported once per backend, for tests that only read it:
    (the CLI on it, the generated files)."""
    from datetime import date

    from collect_cli.services.demo import generate_portfolio
    from tests.conftest import PG_URL, Cli, _pg_database

    folder = tmp_path_factory.mktemp("book3k")
    files = generate_portfolio(folder / "demo", loans=3000, seed=7, as_of=date(2026, 11, 20))
    if request.param == "sqlite":
        databases = iter([str(folder / "collect.db")])
    elif PG_URL:
        databases = _pg_database()
    else:
        pytest.skip("COLLECT_TEST_PG_URL is not set")
    db = next(databases)
    cli = Cli(db)
    r = cli("import", *map(str, files.paths), "--format", "json")
    assert r.exit_code == 0, r.stderr
    yield cli, files
    next(databases, None)  # the PostgreSQL database is dropped
