"""One extract read once for every month of a re-run (flows/backfill.py): load once,
compute many.

The re-run reads its source once and registers what it read here, under a key; each
month is still an ordinary monthly flow run (its own ledger row, run id, lock, extract
date check, data-quality state, figures and versioned outputs), given the key, and takes
from the shared extract what every month would otherwise repeat:

- the extract itself;
- its archive: copied once, by the first month to need it; every month's ledger lists
  the same archived files and checksums;
- its date as the source gives it (manifest, database clock, file times), read once;
- its validation: the Great Expectations suites run once per extract date (a month whose
  date comes from the ledger of an earlier run of that month is validated for its own
  date), against the source tables as they were before the re-run loaded anything; the
  first month validated keeps the Data Docs and sends the alerts, once, naming the
  re-run's months; every month stores the results and reports its own data-quality state;
- its load into the source tables: the first month loads it, and a later month computes
  from that load while the source tables still hold it (the ledger's `source_loads`:
  any other load since, by another run of any flow, means it is loaded again), under the
  same "staging" lock as every load-and-compute section.

A key lives in the process of the re-run that made it: a flow run given a key from
elsewhere is refused (`UnknownSharedExtract`).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from tasks.extract.extracts import Extract

T = TypeVar("T")


class UnknownSharedExtract(LookupError):
    """A shared extract's key that no re-run of this process holds."""


class SharedExtract:
    """What a re-run read from `source`, for the months it serves (`label`: what its
    alerts name, e.g. "2024-01 to 2024-12")."""

    def __init__(self, source: str, extracts: dict[str, Extract], label: str,
                 previous_row_counts: dict[str, int]):
        self.key = str(uuid.uuid4())
        self.source = source
        self.extracts = extracts
        self.label = label
        self.previous_row_counts = previous_row_counts  # the source tables before the re-run's load
        self.loads: dict[frozenset[str], int] = {}  # blocked tables -> the load of the rest
        self._made: dict[object, object] = {}
        self._lock = threading.Lock()

    def once(self, what: object, make: Callable[[], T]) -> tuple[T, bool]:
        """`what` as the first month to ask made it, and whether this caller made it. The
        months asking meanwhile wait for it; a failure is not kept (the next month tries)."""
        with self._lock:
            if what not in self._made:
                self._made[what] = make()
                return self._made[what], True
            return self._made[what], False


def once(shared: SharedExtract | None, what: object, make: Callable[[], T]) -> tuple[T, bool]:
    """`shared.once`, or for a run of its own `make()` (made by this run)."""
    return shared.once(what, make) if shared is not None else (make(), True)


_REGISTERED: dict[str, SharedExtract] = {}


@contextmanager
def registered(shared: SharedExtract | None) -> Iterator[str | None]:
    """The shared extract's key, for the months' flow runs, while the block runs (None
    for none)."""
    if shared is None:
        yield None
        return
    _REGISTERED[shared.key] = shared
    try:
        yield shared.key
    finally:
        del _REGISTERED[shared.key]


def lookup(key: str | None) -> SharedExtract | None:
    if key is None:
        return None
    try:
        return _REGISTERED[key]
    except KeyError:
        raise UnknownSharedExtract(
            f"no re-run in this process shares the extract {key}: a month given a shared extract "
            "is run by `qaloop rerun monthly`, not on its own") from None
