"""Opening the store: URL from --db, SQLite pragmas, migrate-on-first-use with Alembic, snapshots."""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from collect_cli.errors import NoStore, StoreError, UsageError

SQLITE_BUSY_TIMEOUT_MS = 15_000


def database_url(db: str) -> str:
    """A file path becomes an SQLite URL; `postgresql://` uses the psycopg 3 driver."""
    if "://" not in db:
        return "sqlite:///" + str(Path(db).expanduser().resolve())
    if db.startswith("postgresql://") or db.startswith("postgres://"):
        return "postgresql+psycopg://" + db.split("://", 1)[1]
    return db


def display_url(db: str) -> str:
    """The URL as it may be printed: never with its password."""
    try:
        return make_url(database_url(db)).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<invalid database URL>"


_HOW_TO_CREATE = ("a store is made by `collect import FILE…`, `collect db upgrade` or `collect demo generate "
                  "--import`")


def create_store_engine(db: str, create: bool = True) -> Engine:
    """The engine for `db`; an SQLite file is made (owner-only) only when `create`: a command
    that reads refuses a path that is not there (a typo must not print an empty book)."""
    url = database_url(db)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise UsageError(f"--db: {display_url(db)} is neither a file path nor a database URL") from None
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if path and path != ":memory:" and not path.startswith("file:"):  # file: a URI (?mode=ro, say)
            folder = Path(path).parent
            if not folder.is_dir():
                raise StoreError(f"database {path}: folder {folder} does not exist")
            if not Path(path).exists():
                if not create:
                    raise NoStore(f"database {path} does not exist; {_HOW_TO_CREATE}")
                # owner-only: the store holds personal and financial data
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        # few cached statements: ours are batches whose SQL differs with the batch size, and
        # each cached one keeps its compiled program (up to megabytes): 128 of them, the
        # default, grew the nightly run by some 100 MB on a big book
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "cached_statements": 16})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        raise UsageError(f"--db: cannot use {display_url(db)}: {exc}") from None


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers never block the nightly writer
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: a crash loses no committed data
    cur.close()


def migrations_dir() -> Path:
    """migrations/ at the top of a checkout, shipped as collect_cli.migrations when installed."""
    spec = importlib.util.find_spec("collect_cli.migrations")
    if spec and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> None:
    command.upgrade(alembic_config(engine), "head")


def create_schema(engine: Engine) -> None:
    """A new store: the schema of the models at once, stamped as the head revision (Alembic's
    recipe for a database built from scratch; tests/db/test_migrations.py holds the
    migrations to the same schema): 36 ms, where replaying every migration took 0.3 s."""
    from collect_cli.store.models import Base

    with engine.begin() as conn:
        Base.metadata.create_all(conn)
        MigrationContext.configure(conn).stamp(ScriptDirectory.from_config(alembic_config()), "head")


def open_engine(db: str, create: bool = True) -> Engine:
    """The engine for `db`, migrated to the current schema; a new store is made only when
    `create` (import, db upgrade, demo generate --import), else a database without one is
    refused."""
    engine = create_store_engine(db, create)
    try:
        current = current_revision(engine)
        head = head_revision()
        if current is None and not create:
            engine.dispose()
            raise NoStore(f"database {display_url(db)} holds no collect store; {_HOW_TO_CREATE}")
        if current is None:
            create_schema(engine)
        elif current != head:
            known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
            if current not in known:
                raise StoreError(
                    f"database {display_url(db)} has schema {current}, newer than this collect "
                    "knows; upgrade collect"
                )
            upgrade(engine)
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc.__class__.__name__
        raise StoreError(f"cannot open database {display_url(db)}: {reason}") from None
    return engine


def begin_snapshot(conn: Connection) -> None:
    """From here until the connection's transaction ends, every read sees one state of the
    database, whatever commits meanwhile (an import of a file in the middle of a nightly run,
    say): REPEATABLE READ on PostgreSQL; on SQLite (WAL) one read transaction, taken at the
    first read. Nothing may have been read on the connection before."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
    else:
        conn.exec_driver_sql("BEGIN")


def export_snapshot(conn: Connection) -> str | None:
    """Begin a snapshot on `conn` (as begin_snapshot) and return its id, for other connections
    to read the very same state (share_snapshot) while `conn`'s transaction lasts. PostgreSQL
    only: None on SQLite, where each connection takes its own."""
    begin_snapshot(conn)
    if conn.dialect.name != "postgresql":
        return None
    return conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()


def share_snapshot(conn: Connection, snapshot: str | None) -> None:
    """Read, on a fresh connection, the state another connection exported (export_snapshot);
    with None, a snapshot of its own."""
    if snapshot is None:
        begin_snapshot(conn)
        return
    if not re.fullmatch(r"[0-9A-F]+(-[0-9A-F]+)+", snapshot):  # it is spliced into the statement
        raise ValueError(f"not a snapshot id: {snapshot!r}")
    conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
    conn.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
