"""The layer contracts in pyproject.toml ([tool.importlinter]): the command line over the
flows over the domain package, and inside the domain the stages in pipeline order with
core (settings, periods, paths) at the bottom. A new upward import fails here."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_imports_run_one_way_through_the_layers():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports)], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_a_publisher_importing_a_report_would_be_refused(tmp_path):
    """The contract is live: an upward import (publish -> reports) breaks it."""
    spy = REPO / "tasks" / "publish" / "_layer_probe.py"
    spy.write_text("from tasks.reports import render  # noqa: F401\n")
    try:
        lint_imports = Path(sys.executable).with_name("lint-imports")
        result = subprocess.run([str(lint_imports), "--no-cache"], cwd=REPO, capture_output=True, text=True)
    finally:
        spy.unlink()
    assert result.returncode == 1
    assert "tasks.publish is not allowed to import tasks.reports" in result.stdout
