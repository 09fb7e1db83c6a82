"""Shared fixtures: a store per test on SQLite and, when COLLECT_TEST_PG_URL is set, PostgreSQL."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from collect_cli.cli.app import app

PG_URL = os.environ.get("COLLECT_TEST_PG_URL")
FIXTURES = Path(__file__).parent / "fixtures"


def _pg_database():
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"collect_test_{uuid.uuid4().hex[:12]}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path) -> str:
    """The --db value of a new, empty store on each backend."""
    if request.param == "sqlite":
        yield str(tmp_path / "collect.db")
        return
    if not PG_URL:
        pytest.skip("COLLECT_TEST_PG_URL is not set")
    yield from _pg_database()


@pytest.fixture
def sqlite_db(tmp_path) -> str:
    return str(tmp_path / "collect.db")


class Cli:
    """Runs `collect --db DB …` in-process and returns the result (stdout and stderr apart)."""

    def __init__(self, db: str):
        self.db = db
        self.runner = CliRunner()

    def __call__(self, *args: str, env: dict | None = None):
        return self.runner.invoke(app, ["--db", self.db, *args], env=env, catch_exceptions=False)


@pytest.fixture
def cli(db) -> Cli:
    return Cli(db)


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path, monkeypatch):
    """No test reads a collect.toml or writes a collect.db in the developer's folder."""
    monkeypatch.chdir(tmp_path)
    for var in ("COLLECT_DB", "COLLECT_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    # the tests replay days with --now on stores they import; tests of the clock unset it
    monkeypatch.setenv("COLLECT_ALLOW_CLOCK", "1")
