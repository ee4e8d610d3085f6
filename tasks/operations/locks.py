"""Named locks that keep two runs apart, released by the operating system or the
database when their holder dies (a crashed run never leaves a stale lock behind).

- PostgreSQL warehouse: a session advisory lock (`pg_try_advisory_lock`) on a dedicated
  connection, so runs on different machines sharing the warehouse exclude each other.
- SQLite warehouse: `flock` on a file next to the database (SQLite is single-machine).

Names used: `run:<flow>:<period>` (two runs of one flow and period never interleave)
and `staging` (the shared source tables: one load-and-compute section at a time).
"""

from __future__ import annotations

import fcntl
import hashlib
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

POLL_SECONDS = 0.5


class LockTimeout(RuntimeError):
    """The lock stayed busy for longer than the caller was willing to wait."""


def run_lock_name(flow: str, period: str) -> str:
    return f"run:{flow}:{period}"


@contextmanager
def hold(engine: Engine, name: str, wait_seconds: float,
         on_busy: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the named lock for the block. When it is busy, call `on_busy` once, then
    wait up to `wait_seconds` before raising LockTimeout."""
    if engine.dialect.name == "postgresql":
        lock = _PostgresLock(engine, name)
    else:
        lock = _FileLock(_lock_file(engine, name))
    deadline = time.monotonic() + wait_seconds
    told = False
    while not lock.try_acquire():
        if not told and on_busy:
            on_busy()
        told = True
        if time.monotonic() >= deadline:
            lock.close()
            raise LockTimeout(f"lock {name!r} still busy after {wait_seconds:g} s")
        time.sleep(POLL_SECONDS)
    try:
        yield
    finally:
        lock.release()


def _lock_file(engine: Engine, name: str) -> Path:
    database = engine.url.database
    folder = Path(database).resolve().parent if database and database != ":memory:" else Path("/tmp")
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    return folder / "locks" / f"{safe}.lock"


class _FileLock:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(path, "a+")

    def try_acquire(self) -> bool:
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def release(self) -> None:
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.close()

    def close(self) -> None:
        self.handle.close()


class _PostgresLock:
    def __init__(self, engine: Engine, name: str):
        # One key per database and name; the schema is part of it so that warehouses in
        # different schemas of one database do not block each other.
        self.connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        schema = self.connection.execute(sa.text("select current_schema()")).scalar() or ""
        digest = hashlib.sha256(f"qaloop|{schema}|{name}".encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)

    def try_acquire(self) -> bool:
        return bool(self.connection.execute(sa.text("select pg_try_advisory_lock(:k)"),
                                            {"k": self.key}).scalar())

    def release(self) -> None:
        try:
            self.connection.execute(sa.text("select pg_advisory_unlock(:k)"), {"k": self.key})
        finally:
            self.close()

    def close(self) -> None:
        self.connection.close()
