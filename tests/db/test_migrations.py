"""The Alembic migrations and the SQLAlchemy models describe the same schema, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from collect_cli.store.database import current_revision, head_revision, open_engine
from collect_cli.store.models import Base


def test_models_and_migrations_agree(db):
    engine = open_engine(db)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    assert diff == []


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
