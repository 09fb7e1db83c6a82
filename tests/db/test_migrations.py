"""The Alembic migrations and the SQLAlchemy models describe the same schema, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from collect_cli.store.database import create_store_engine, current_revision, head_revision, open_engine, upgrade
from collect_cli.store.models import Base


def test_models_and_migrations_agree(db):
    """A store migrated from nothing, revision by revision, has the schema of the models that
    a new store is created from (create_schema), server defaults included."""
    engine = create_store_engine(db)
    upgrade(engine)
    with engine.connect() as conn:
        opts = {"compare_type": True, "compare_server_default": True}
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata)
    engine.dispose()
    assert diff == []


def test_a_new_store_is_created_at_head_with_the_clock_default(db):
    engine = open_engine(db)
    assert current_revision(engine) == head_revision()
    with engine.begin() as conn:  # the database stamps the recorded time (REC-4)
        conn.exec_driver_sql("INSERT INTO store_facts (name, value) VALUES ('x', 'y')")
        assert conn.exec_driver_sql("SELECT recorded_at FROM store_facts").scalar() is not None
    engine.dispose()


def test_first_use_migrates_to_head_and_is_idempotent(db):
    engine = open_engine(db)
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {"borrowers", "loans", "installments", "payments", "import_batches"} <= tables
    engine.dispose()
    again = open_engine(db)  # a second open finds nothing to do
    assert current_revision(again) == head_revision()
    again.dispose()


def test_sqlite_pragmas(sqlite_db):
    engine = open_engine(sqlite_db)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0
    engine.dispose()


def test_the_shipped_sample_db_is_at_the_head_revision():
    """A sample.db left behind by a migration is upgraded in place on first use: the shipped
    file would change under the README's first command (scripts/build-sample-db rebuilds it)."""
    from pathlib import Path

    from sqlalchemy import create_engine

    from collect_cli.store.database import current_revision, head_revision

    engine = create_engine(f"sqlite:///file:{Path(__file__).parents[2] / 'sample.db'}?mode=ro&uri=true")
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
