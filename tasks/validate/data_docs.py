"""Data Docs that read offline and say what a result means.

Great Expectations builds its Data Docs with style sheets and scripts from outside sites
(Bootstrap, jQuery, Font Awesome, Vega from CDNs) and fills its index page by script: on
an LA network without internet the index is blank and the result icons are missing.
After the build, every page here loses what it would fetch from outside, gets a local
style sheet, and shows each result in words ("Met", "Not met"); a table whose rules
broken are all warnings says so instead of GE's "Status: Failed". The index is replaced
by qaloop's own page: per table, the rules checked and those not passed with their
severity in words, linking to GE's pages. Counts only: no record ids (GE's own pages,
inside the performance team, keep the example rows).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from tasks.core.paths import TEMPLATES_DIR

STYLE_SHEET = "static/styles/qaloop_offline.css"
OUTSIDE_ASSET = re.compile(
    r"<link\b[^>]*\bhref=\"https?://[^\"]*\"[^>]*>"
    r"|<script\b[^>]*>.*?</script>"
    r"|<img\b[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>", re.I | re.S)
MET_ICON = re.compile(r"<i class=\"fas fa-check-circle text-success\"[^>]*></i>")
NOT_MET_ICON = re.compile(r"<i class=\"fas fa-times text-danger\"[^>]*></i>")
OTHER_ICON = re.compile(r"<i class=\"fas? [^\"]*\"[^>]*></i>")
OVERVIEW_STATUS = re.compile(r"(<span class=\"h6\" >Status:</span>)\s*(?:<i [^>]*></i>)?\s*(?:Succeeded|Failed)")

CSS = """body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10.5pt; color: #1b1b1b;
       margin: 1.2em 2em; max-width: 80em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.5em; } h3, h4, h5, h6 { font-size: 1em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #b1b4b6; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f3f2f1; }
.num { text-align: right; }
.met { color: #00703c; font-weight: bold; }
.not-met, .critical { color: #d4351c; font-weight: bold; }
.warning { color: #8a4b00; font-weight: bold; }
.note { color: #505a5f; }
.sticky-footer, .btn-group-toggle, button { display: none; }
"""


@dataclass(frozen=True)
class TableResult:
    table: str
    checked: int
    warnings: int
    critical: int
    results_page: str | None
    rules_page: str | None

    @property
    def outcome(self) -> str:
        if self.critical:
            return f"Critical: {self.critical} rule(s) not met; the figures that read them are withheld"
        if self.warnings:
            return f"Warning: {self.warnings} rule(s) not met; figures published, check the rows"
        return "Every rule met"


def make_offline(docs_dir: Path, results: list, extract_date: date) -> Path:
    """Rewrite the GE site in `docs_dir` to read offline, with qaloop's index; returns it.
    `results`: tasks.validate.validation.RuleResult of every check of the run."""
    docs_dir = Path(docs_dir)
    (docs_dir / STYLE_SHEET).parent.mkdir(parents=True, exist_ok=True)
    (docs_dir / STYLE_SHEET).write_text(CSS, encoding="utf-8")
    by_table = _by_table(results)
    for page in docs_dir.rglob("*.html"):
        table = _validated_table(page, docs_dir)
        page.write_text(offline_page(page.read_text(encoding="utf-8"), _style_link(page, docs_dir),
                                     _table_words(by_table.get(table, []))), encoding="utf-8")
    index = docs_dir / "index.html"
    index.write_text(index_page(_table_results(by_table, docs_dir), results, extract_date), encoding="utf-8")
    return index


def offline_page(html: str, style_link: str, status_words: str) -> str:
    """One GE page without outside assets, with the local style sheet and results in words."""
    html = OUTSIDE_ASSET.sub("", html)
    html = OVERVIEW_STATUS.sub(lambda m: f"{m.group(1)} {status_words}", html)
    html = MET_ICON.sub('<span class="met">Met</span>', html)
    html = NOT_MET_ICON.sub('<span class="not-met">Not met</span>', html)
    html = OTHER_ICON.sub("", html)
    return html.replace("</head>", f'<link rel="stylesheet" href="{style_link}">\n</head>', 1)


def index_page(tables: list[TableResult], results: list, extract_date: date) -> str:
    not_passed = sorted((r for r in results if not r.success),
                        key=lambda r: (r.severity != "critical", r.table, r.column or "", r.rule))
    return _templates().get_template("data_docs_index.html").render(
        tables=tables, rules=[_rule_row(r) for r in not_passed], extract_date=extract_date,
        critical=sum(t.critical for t in tables), warnings=sum(t.warnings for t in tables))


def _rule_row(result) -> dict:
    return {"table": result.table, "column": result.column or "", "rule": result.rule,
            "severity": "Critical" if result.blocking else "Warning", "detail": result.detail,
            "failing": result.unexpected, "checked": result.checked,
            "pass_rate": shown_pass_rate(result)}


def shown_pass_rate(result) -> str:
    """A pass rate only where rows were checked: a missing file or column has none."""
    if not result.checked:
        return "not checked"
    return f"{100 * result.pass_rate:.1f}%"


def _table_words(table_results: list) -> str:
    critical = sum(1 for r in table_results if r.blocking)
    warnings = sum(1 for r in table_results if not r.success and not r.blocking)
    if critical:
        return f'<span class="critical">Critical: {critical} rule(s) not met</span>'
    if warnings:
        return f'<span class="warning">Warning: {warnings} rule(s) not met (no critical rule broken)</span>'
    return '<span class="met">Every rule met</span>'


def _by_table(results: list) -> dict[str, list]:
    grouped = defaultdict(list)
    for result in results:
        grouped[result.table].append(result)
    return dict(grouped)


def _table_results(by_table: dict[str, list], docs_dir: Path) -> list[TableResult]:
    rows = []
    for table in sorted(by_table):
        results = by_table[table]
        results_page = next(iter(sorted((docs_dir / "validations" / table).rglob("*.html"))), None)
        rules_page = docs_dir / "expectations" / f"{table}.html"
        rows.append(TableResult(
            table, len(results),
            sum(1 for r in results if not r.success and not r.blocking),
            sum(1 for r in results if r.blocking),
            results_page.relative_to(docs_dir).as_posix() if results_page else None,
            rules_page.relative_to(docs_dir).as_posix() if rules_page.exists() else None))
    return rows


def _validated_table(page: Path, docs_dir: Path) -> str | None:
    """validations/<table>/... pages show one table's results."""
    parts = page.relative_to(docs_dir).parts
    return parts[1] if len(parts) > 2 and parts[0] == "validations" else None


def _style_link(page: Path, docs_dir: Path) -> str:
    depth = len(page.relative_to(docs_dir).parts) - 1
    return "../" * depth + STYLE_SHEET


def _templates() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(["html"]))
