"""The production set-up's Prefect server on PostgreSQL: start `prefect server start`
with PREFECT_API_DATABASE_CONNECTION_URL on a database of its own, run a flow against
it from another process and read the flow run's state back through the API.

Skips only when PostgreSQL cannot be reached, and never under CI=true."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

POSTGRES_URL = os.environ.get("QALOOP_TEST_POSTGRES_URL",  # as in conftest.py
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DATABASE = "qaloop_prefect_test"
FLOW_SCRIPT = """
from prefect import flow

@flow(name="postgres-smoke")
def add(a: int, b: int) -> int:
    return a + b

state = add(a=20, b=22, return_state=True)
print(state.state_details.flow_run_id, state.result())
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recreate_database(database: str = DATABASE, drivername: str = "postgresql+asyncpg") -> sa.engine.URL:
    """A new, empty database (its URL); skips when PostgreSQL cannot be reached, except under CI."""
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f"drop database if exists {database} with (force)"))
            connection.execute(sa.text(f"create database {database}"))
    except sa.exc.OperationalError as error:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is not reachable under CI: {error}")
        pytest.skip(f"PostgreSQL is not reachable: {error}")
    finally:
        admin.dispose()
    return sa.engine.make_url(POSTGRES_URL).set(drivername=drivername, database=database)


def drop_database(database: str = DATABASE) -> None:
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"drop database if exists {database} with (force)"))
    admin.dispose()


def wait_healthy(api: str, server: subprocess.Popen, seconds: float, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"prefect server exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"prefect server not healthy after {seconds} s")


PREFECT = os.path.join(os.path.dirname(sys.executable), "prefect")


def start_prefect_server(home, database_url: sa.engine.URL) -> tuple[subprocess.Popen, str, dict]:
    """`prefect server start` on `database_url`, healthy: its process, its API URL and the
    environment of its clients (PREFECT_API_URL set, no other PREFECT_ variable of ours)."""
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    env.update({"PREFECT_HOME": str(home), "DO_NOT_TRACK": "1",
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_UI_ENABLED": "false"})
    log = Path(home) / "server.log"  # a file, not a pipe: a long test's log would fill a pipe
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as output:
        server = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                  env={**env, "PREFECT_API_DATABASE_CONNECTION_URL":
                                       database_url.render_as_string(hide_password=False)},
                                  stdout=output, stderr=subprocess.STDOUT, text=True)
    try:
        wait_healthy(api, server, 60, log)
    except BaseException:
        stop(server)
        raise
    return server, api, {**env, "PREFECT_API_URL": api}


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_prefect_server_on_postgresql_runs_a_flow(tmp_path):
    database_url = recreate_database()
    server, api, client_env = start_prefect_server(tmp_path / "home", database_url)
    try:
        run = subprocess.run([sys.executable, "-c", FLOW_SCRIPT], env=client_env, capture_output=True,
                             text=True, timeout=60)
        assert run.returncode == 0, run.stderr[-2000:]
        flow_run_id, result = run.stdout.split()[-2:]
        assert result == "42"
        flow_run = httpx.get(f"{api}/flow_runs/{flow_run_id}", timeout=10).json()
        assert flow_run["state"]["type"] == "COMPLETED"
        flow = httpx.get(f"{api}/flows/{flow_run['flow_id']}", timeout=10).json()
        assert flow["name"] == "postgres-smoke"
        engine = sa.create_engine(sa.engine.make_url(POSTGRES_URL).set(database=DATABASE))
        with engine.connect() as connection:  # the run really is in PostgreSQL
            stored = connection.execute(sa.text("select state_type from flow_run where id = :id"),
                                        {"id": flow_run_id}).scalar()
        engine.dispose()
        assert stored == "COMPLETED"
    finally:
        stop(server)
        drop_database()
