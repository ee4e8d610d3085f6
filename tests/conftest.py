"""Shared fixtures: a warehouse on SQLite and on the real PostgreSQL of this machine.

PostgreSQL tests skip only when the server cannot be reached, and never under CI
(CI=true), where an unreachable PostgreSQL is a failure.
"""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from tasks.warehouse.database import make_engine, upgrade_schema

POSTGRES_URL = os.environ.get("QALOOP_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def postgres_engine_or_skip(schema: str) -> sa.Engine:
    """An engine whose search_path is a fresh schema of the test database."""
    admin = sa.create_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(sa.text(f'create schema "{schema}"'))
    except sa.exc.OperationalError as error:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is not reachable under CI: {error}")
        pytest.skip(f"PostgreSQL is not reachable: {error}")
    finally:
        admin.dispose()
    # the search_path in the URL, as production's warehouse_url gives it: an engine made
    # again from engine.url (the trend's second process) reads the same schema
    return sa.create_engine(sa.make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"}))


def drop_postgres_schema(schema: str) -> None:
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f'drop schema if exists "{schema}" cascade'))
    admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def warehouse(request, tmp_path_factory):
    """A migrated warehouse, once per dialect per test session."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('wh') / 'warehouse.sqlite'}")
        upgrade_schema(engine)
        yield engine
        engine.dispose()
        return
    schema = f"qaloop_test_{uuid.uuid4().hex[:10]}"
    engine = postgres_engine_or_skip(schema)
    try:
        upgrade_schema(engine)
        yield engine
    finally:
        engine.dispose()
        drop_postgres_schema(schema)


@pytest.fixture
def sqlite_warehouse(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'warehouse.sqlite'}")
    upgrade_schema(engine)
    yield engine
    engine.dispose()


END_TO_END_MODULES = {"test_prefect_postgres.py"}  # starts its own `prefect server start`


def pytest_collection_modifyitems(items):
    """Mark the end-to-end flow runs: every test that needs the Prefect server, and the
    modules that start one of their own. `make test-fast` runs the rest (-m "not flow")."""
    for item in items:
        if "prefect_server" in item.fixturenames or item.path.name in END_TO_END_MODULES:
            item.add_marker(pytest.mark.flow)


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    """A real Prefect server (the test harness), started once per test session."""
    os.environ.setdefault("PREFECT_HOME", str(tmp_path_factory.mktemp("prefect-home")))
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness
    with prefect_test_harness(server_startup_timeout=60):
        yield
