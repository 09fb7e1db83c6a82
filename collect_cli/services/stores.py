"""The store itself: opening it (migrated on first use), its schema revision, whether it is a
demo store, and the audit of what a command did outside any workflow (--show-pii, --now)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine

from collect_cli.store import queries as q
from collect_cli.store.database import create_store_engine, current_revision, display_url, head_revision, open_engine

__all__ = ["audit", "current_revision", "display_url", "has_imports", "head_revision", "is_demo", "mark_demo",
           "open_store", "revision"]


def open_store(db: str, create: bool = False) -> Engine:
    """The store at `db`, migrated to head; `create`: make it when there is none."""
    return open_engine(db, create)


def revision(db: str, *, create: bool = False) -> str | None:
    """The schema revision of the database at `db` (None: no store in it), without migrating it."""
    engine = create_store_engine(db, create=create)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def is_demo(conn: Connection) -> bool:
    return q.store_fact(conn, "demo") is not None


def mark_demo(conn: Connection) -> None:
    """A demo store: --now may pretend the clock on it (audited)."""
    if not is_demo(conn):
        q.set_store_fact(conn, "demo", "made as a demo store")


def has_imports(conn: Connection) -> bool:
    return bool(q.import_history(conn, limit=1))


def audit(conn: Connection, *, at: datetime, agent: str, action: str, detail: str) -> None:
    """One entry of the audit not about a loan: what a command did (the real time of recording
    is the store's)."""
    q.add_audit(conn, [{"at": at, "agent": agent, "action": action, "loan_id": None, "detail": detail}])
