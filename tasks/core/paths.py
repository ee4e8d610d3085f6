"""Where the project's own resources live (SQL, templates, reference data)."""

from importlib.metadata import version
from pathlib import Path

QALOOP_VERSION = version("qaloop")

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = PROJECT_ROOT / "sql"
REGISTRY_FILE = SQL_DIR / "registry.yml"
TEMPLATES_DIR = PROJECT_ROOT / "report_templates"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
DEPLOYMENTS_DIR = PROJECT_ROOT / "deployments"
REFERENCE_DIR = PROJECT_ROOT / "reference"
