"""Work spread over forked processes, each with its own connection to the store.

CPU-bound Python (the replay of the book, the text of each message) runs one core per
process. Fork starts the workers at once, with the caller's objects as they are (settings,
templates), without importing everything again; each worker opens its own engine and never
touches the parent's connections.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import TypeVar

from sqlalchemy import Connection, Engine

from collect_cli.errors import CollectError
from collect_cli.store.database import open_engine, share_snapshot

T = TypeVar("T")
R = TypeVar("R")


def in_forks(engine: Engine, snapshot: str | None, work: Callable[[Connection, T], R], items: Sequence[T],
             died: str) -> list[R]:
    """[work(conn, item) for item in items], each in a forked process whose `conn` reads the
    state the parent exported (`snapshot`; None: a snapshot of its own). A worker that dies
    (out of memory, killed) is a CollectError saying `died`."""
    url = engine.url.render_as_string(hide_password=False)
    try:
        with ProcessPoolExecutor(len(items), mp_context=get_context("fork")) as pool:
            return list(pool.map(_in_fork, [(url, snapshot, work, item) for item in items]))
    except BrokenProcessPool:
        raise CollectError(died) from None


def _in_fork(job):
    url, snapshot, work, item = job
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            share_snapshot(conn, snapshot)
            return work(conn, item)
    finally:
        engine.dispose()
