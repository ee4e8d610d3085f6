"""The temporary Prefect server a command line run starts when no PREFECT_API_URL is set:
a start-up wait that suits a busy machine, a one-line failure, and the clean-up of a
server left running by a process killed outright.

The wait is PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS (Prefect's own setting;
Prefect's default is 20 s, too short on a loaded laptop); the command line sets it to
QALOOP_PREFECT_STARTUP_SECONDS, else DEFAULT_STARTUP_SECONDS, unless it is already set.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

DEFAULT_STARTUP_SECONDS = 180
SERVER_RECORD = "qaloop-temporary-server.json"  # in PREFECT_HOME: {"server_pid", "owner_pid"}
STARTUP_SETTING = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"


class InfrastructureError(RuntimeError):
    """Prefect or the warehouse could not be used: nothing was run (exit status 5)."""


def set_startup_wait() -> int:
    """Prefect's start-up wait for its temporary server, unless already set."""
    wanted = os.environ.get("QALOOP_PREFECT_STARTUP_SECONDS") or str(DEFAULT_STARTUP_SECONDS)
    return int(os.environ.setdefault(STARTUP_SETTING, wanted))


def start_prefect(prefect_home: Path) -> str | None:
    """With no Prefect server configured, start the temporary one now (so that a slow
    start is one clear error, not a traceback in the middle of a run) and record its
    process, after removing one a killed run left behind. Returns a line to print, if any."""
    from prefect.settings import PREFECT_API_URL
    if PREFECT_API_URL.value():
        return None
    note = stop_leftover_server(prefect_home)
    from prefect.server.api.server import SubprocessASGIServer
    server = SubprocessASGIServer()
    wait = int(os.environ.get(STARTUP_SETTING, DEFAULT_STARTUP_SECONDS))
    try:
        server.start(timeout=wait)
    except Exception as error:
        server.stop()
        raise InfrastructureError(
            f"the temporary Prefect server did not start within {wait} s ({str(error).splitlines()[0][:160]}); "
            f"the machine may be busy: try again, raise QALOOP_PREFECT_STARTUP_SECONDS, or run a "
            f"Prefect server (deployments/README.md)") from None
    _record_server(prefect_home, server.server_process.pid)
    return note


def _record_server(prefect_home: Path, server_pid: int) -> None:
    prefect_home.mkdir(parents=True, exist_ok=True)
    (prefect_home / SERVER_RECORD).write_text(json.dumps({"server_pid": server_pid, "owner_pid": os.getpid()}))


def stop_leftover_server(prefect_home: Path) -> str | None:
    """Stop the temporary Prefect server recorded in `prefect_home` when the process
    that started it is gone (it was killed outright and could not stop it)."""
    record = prefect_home / SERVER_RECORD
    try:
        pids = json.loads(record.read_text())
    except (OSError, ValueError):
        return None
    server, owner = int(pids["server_pid"]), int(pids["owner_pid"])
    if process_alive(owner):
        return None  # the command that started it is still running
    record.unlink(missing_ok=True)
    if not _is_temporary_prefect_server(server):
        return None
    os.kill(server, signal.SIGTERM)
    for _ in range(50):
        if not process_alive(server):
            break
        time.sleep(0.1)
    else:
        os.kill(server, signal.SIGKILL)
    return f"stopped the temporary Prefect server (process {server}) a killed run left running"


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped by its parent) is gone too
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1] != "Z"
    except OSError:
        return True


def _is_temporary_prefect_server(pid: int) -> bool:
    """A live process started by Prefect as its temporary server (its environment says so)."""
    try:
        environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False
    return process_alive(pid) and b"PREFECT__SERVER_EPHEMERAL=1" in environment
