"""Where the project's own resources live (SQL, templates, reference data)."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = PROJECT_ROOT / "sql"
REGISTRY_FILE = SQL_DIR / "registry.yml"
TEMPLATES_DIR = PROJECT_ROOT / "report_templates"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
DEPLOYMENTS_DIR = PROJECT_ROOT / "deployments"
REFERENCE_DIR = PROJECT_ROOT / "reference"
DEFAULT_CONFIG_FILE = PROJECT_ROOT / "qaloop.example.toml"
