"""Retention and permissions of the archived extracts (`<data dir>/archive/<run id>/`).

The archive holds child-level extracts exactly as read, so that any published figure
can be traced to its input. It is readable by its owner only (folders 0700, files
0400), and kept for `[archive] keep_months` months (default 24): a run deletes the
archives of runs started before that, and records what it deleted in the ledger as a
row of its own (flow `archive-retention`), with the run ids; `extract_files` keeps
their checksums, with `archived_path` emptied.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import uuid
from datetime import date, datetime, time, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tasks.core.periods import add_months
from tasks.warehouse.database import table, utcnow

OWNER_ONLY_FOLDER = stat.S_IRWXU  # 0700
OWNER_READ_ONLY_FILE = stat.S_IRUSR  # 0400
RETENTION_FLOW = "archive-retention"


def private_folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, OWNER_ONLY_FOLDER)
    return path


def seal_file(path: Path) -> None:
    os.chmod(path, OWNER_READ_ONLY_FILE)


def archives_to_delete(engine: Engine, archive_dir: Path, keep_months: int, today: date) -> list[str]:
    """The run ids whose archive folder exists and whose run started before `today`
    less `keep_months` months (a folder the ledger does not know is left alone)."""
    folders = {p.name for p in Path(archive_dir).iterdir() if p.is_dir()} if Path(archive_dir).is_dir() else set()
    if not folders:
        return []
    cutoff = datetime.combine(add_months(today, -keep_months), time.min, tzinfo=timezone.utc)
    with engine.connect() as connection:
        runs = table("runs", connection)
        rows = connection.execute(sa.select(runs.c.run_id, runs.c.started_at)
                                  .where(runs.c.run_id.in_(sorted(folders)))).all()
    return sorted(run_id for run_id, started in rows if _utc(started) < cutoff)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def delete_old_archives(engine: Engine, archive_dir: Path, keep_months: int, today: date,
                        run_id: str) -> str | None:
    """Delete the archives older than the retention period and record it in the ledger;
    returns the ledger message (None when nothing was old enough)."""
    old = archives_to_delete(engine, archive_dir, keep_months, today)
    if not old:
        return None
    for old_run in old:
        shutil.rmtree(Path(archive_dir) / old_run)  # the folder is 0700: its owner may
    cutoff = add_months(today, -keep_months)
    message = (f"deleted the archived extracts of {len(old)} run(s) started before {cutoff} "
               f"([archive] keep_months = {keep_months}), by run {run_id}: {', '.join(old)}")
    with engine.begin() as connection:
        files = table("extract_files", connection)
        # the months of a re-run list the archive of its first month (tasks/operations/shared_extract.py)
        in_old_folders = sa.or_(*(files.c.archived_path.startswith(f"{Path(archive_dir) / run}{os.sep}",
                                                                   autoescape=True) for run in old))
        connection.execute(files.update().where(files.c.run_id.in_(old) | in_old_folders)
                           .values(archived_path=None))
        connection.execute(table("runs", connection).insert(), [{
            "run_id": str(uuid.uuid4()), "flow": RETENTION_FLOW, "period": cutoff.isoformat(),
            "trigger": "retention", "started_at": utcnow(), "finished_at": utcnow(),
            "state": "Completed", "message": message, "source": "", "reason": None,
            "outputs": json.dumps([]),
        }])
    return message
