"""A run lock per job, so a second `run-reminders` or `send` at the same time does nothing.
A shared lock lets holders of the same shared lock run together but not with the holder
of the exclusive one (the parts of a nightly run, against a whole run).

SQLite: an advisory lock (flock) on a file beside the database, released by the kernel when
the process ends, even by SIGKILL. PostgreSQL: a session advisory lock, released when the
connection closes, so it holds across hosts that share the database.
"""

from __future__ import annotations

import fcntl
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

from collect_cli.errors import CollectError


class LockHeld(CollectError):
    """Another run holds the lock: nothing was done (exit 4, reminders.md)."""

    exit_code = 4


@contextmanager
def run_lock(engine: Engine, name: str, *, shared: bool = False) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        key = zlib.crc32(f"collect:{name}".encode())
        take, release = ((text("SELECT pg_try_advisory_lock_shared(:k)"), text("SELECT pg_advisory_unlock_shared(:k)"))
                         if shared else
                         (text("SELECT pg_try_advisory_lock(:k)"), text("SELECT pg_advisory_unlock(:k)")))
        with engine.connect() as conn:
            if not conn.execute(take, {"k": key}).scalar():
                raise LockHeld(f"another `{name}` is running on this database; nothing done")
            conn.commit()
            try:
                yield
            finally:
                conn.execute(release, {"k": key})
                conn.commit()
        return
    database = engine.url.database
    if database.startswith("file:"):  # an SQLite URI filename: file:/path/collect.db?mode=ro
        database = database.removeprefix("file:").split("?", 1)[0]
    path = f"{database}.{name}.lock"
    try:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    except OSError as exc:
        raise CollectError(f"cannot open the run lock {path}: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(f"another `{name}` is running on this database ({path}); nothing done") from None
        yield
    finally:
        os.close(fd)  # closing releases the lock
