"""Validate the extracts before load: Great Expectations suites per table, declared as
data in expectations/, plus the checks that span tables or runs (foreign keys, dates
against the parent record, row counts against the table's last good load, freshness).

Every check comes back as one RuleResult of the same shape, whichever engine ran it.
A failed critical rule is table-level (TABLE_RULES: the table is not loaded and every
KPI reading it is withheld, `blocked_tables`) or column-level (only the KPIs reading
the column are withheld, `failed_columns`); a failed warning rule is reported and
publication goes ahead. Results carry record ids only, never values (no names, dates
of birth or free text).

    report = validate_extracts(extracts, extract_date, loaded_row_counts(engine),
                               docs_dir=out_dir / "data_docs")
"""

from __future__ import annotations

import logging
import re
import threading
import time
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Engine

from tasks.core.paths import EXPECTATIONS_DIR
from tasks.core.periods import Period
from tasks.core.settings import ValidationSettings
from tasks.extract.extracts import Extract
from tasks.core.sources import CASE_SYSTEM_TABLES, TABLES, SourceTable, row_key
from tasks.validate.data_docs import make_offline

SUITES_DIR = EXPECTATIONS_DIR
CRITICAL, WARNING = "critical", "warning"
# Failures that make the whole table unusable; any other failed rule names the columns
# it is about, and withholds only the KPIs reading them.
TABLE_RULES = {"file_present", "table_present", "file_readable", "file_not_empty", "file_complete",
               "file_encoding", "required_columns", "row_key_not_null", "row_key_unique",
               "row_count_shrunk", "table_has_rows", "row_count_change", "file_age"}
MAX_EXAMPLES = 10
ROW = "_row"  # the line of the file a row came from (header = line 1), for rows without an id


# --- results ------------------------------------------------------------------------

@dataclass
class RuleResult:
    source: str           # the file or database table the rows came from
    table: str
    column: str | None
    rule: str
    severity: str         # critical | warning: as declared, or as it turned out for a failure
    success: bool
    checked: int          # rows (or values) checked
    unexpected: int       # rows breaking the rule
    example_ids: list[str] = field(default_factory=list)
    detail: str = ""      # what the rule says, specifically

    @property
    def pass_rate(self) -> float:
        if self.checked:
            return round(1 - self.unexpected / self.checked, 6)
        return 1.0 if self.success else 0.0

    @property
    def blocking(self) -> bool:
        return not self.success and self.severity == CRITICAL

    @property
    def failed_columns(self) -> list[str] | None:
        """The columns a failed rule is about, when only they are unusable (a code, a
        date, an order of dates, an orphan key); None when the table as a whole is
        (not read, incomplete, keys missing or repeated, shrunk): see TABLE_RULES."""
        if self.rule in TABLE_RULES or not self.column:
            return None
        return [c.strip() for c in self.column.split(",")]

    def message(self) -> str:
        where = f"{self.table}" + (f".{self.column}" if self.column else "")
        if self.success:
            return f"{where}: {self.rule} passed"
        examples = f"; example ids: {', '.join(self.example_ids)}" if self.example_ids else ""
        rows = f"{self.unexpected} of {self.checked} rows" if self.checked else f"{self.unexpected} rows"
        return f"{self.severity.upper()} {self.source} {where}: {self.rule}: {self.detail} ({rows}){examples}"


@dataclass
class ValidationReport:
    extract_date: date
    results: list[RuleResult]
    data_docs_index: Path | None = None
    seconds: float = 0.0

    @property
    def failures(self) -> list[RuleResult]:
        """The critical failures: each blocks its table."""
        return [r for r in self.results if r.blocking]

    @property
    def warnings(self) -> list[RuleResult]:
        return [r for r in self.results if not r.success and not r.blocking]

    @property
    def blocked_tables(self) -> list[str]:
        """Tables with a critical table-level failure: not loaded (the warehouse keeps
        their last good load), and every KPI reading them is withheld."""
        return sorted({r.table for r in self.failures if r.failed_columns is None})

    @property
    def failed_columns(self) -> dict[str, list[str]]:
        """{table: columns} with a critical column-level failure: the table is loaded,
        and only the KPIs reading those columns are withheld."""
        failed: dict[str, set[str]] = {}
        for result in self.failures:
            if result.failed_columns is not None and result.table not in self.blocked_tables:
                failed.setdefault(result.table, set()).update(result.failed_columns)
        return {table: sorted(columns) for table, columns in sorted(failed.items())}

    @property
    def missing_required_tables(self) -> list[str]:
        """Required (case-system) tables the source did not have at all."""
        return sorted({r.table for r in self.failures
                       if r.rule in ("file_present", "table_present") and r.table in CASE_SYSTEM_TABLES})

    @property
    def failed_export(self) -> bool:
        """More than half of the required case-system tables are missing: the export
        itself failed, and publishing the sliver it holds would mislead."""
        return len(self.missing_required_tables) > len(CASE_SYSTEM_TABLES) / 2

    def failed_export_message(self) -> str:
        missing = self.missing_required_tables
        return (f"failed export: {len(missing)} of the {len(CASE_SYSTEM_TABLES)} required case-system "
                f"tables are missing ({', '.join(missing)}); more than half missing stops the run")

    @property
    def critical_tables(self) -> list[str]:
        """Every table with any critical failure, table- or column-level."""
        return sorted({r.table for r in self.failures})

    def frame(self) -> pd.DataFrame:
        """One row per rule checked: for the data-quality sheet and the dq_results table."""
        return pd.DataFrame([{
            "table_name": r.table, "column_name": r.column, "rule": r.rule,
            "severity": r.severity, "success": r.success, "checked": r.checked,
            "unexpected": r.unexpected, "pass_rate": r.pass_rate,
            "example_ids": ", ".join(r.example_ids), "detail": r.detail, "source": r.source,
        } for r in self.results], columns=["table_name", "column_name", "rule", "severity",
                                           "success", "checked", "unexpected", "pass_rate",
                                           "example_ids", "detail", "source"])


# --- the declared suites ---------------------------------------------------------------

@dataclass
class Rule:
    """One declared rule of one table, before it is run."""

    table: str
    rule: str
    column: str | None
    severity: str
    detail: str
    mostly: float = 1.0
    spec: dict = field(default_factory=dict)


@lru_cache(maxsize=4)
def load_suites(suites_dir: Path = SUITES_DIR) -> tuple[dict, dict[str, dict]]:
    """defaults.yml and the per-table declarations, by table name."""
    defaults = yaml.safe_load((suites_dir / "defaults.yml").read_text(encoding="utf-8"))
    tables = {}
    for name in TABLES:
        path = suites_dir / f"{name}.yml"
        tables[name] = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    return defaults, tables


def declared_rules(table: SourceTable, suite: dict, defaults: dict) -> list[Rule]:
    """Every rule of one table: those generated from its contract, then its own."""
    def default(rule: str) -> dict:
        return {"severity": defaults[rule]["severity"], "mostly": defaults[rule].get("mostly", 1.0)}

    keys = row_key(table)
    key_label = " + ".join(keys)
    rules = [Rule(table.name, "row_key_not_null", c, **default("row_key_not_null"),
                  detail=f"the row id {c} must be filled") for c in keys]
    rules.append(Rule(table.name, "row_key_unique", key_label, **default("row_key_unique"),
                      detail=f"each {key_label} must appear once", spec={"columns": keys}))
    planned = set(suite.get("planned_dates", []))
    for column in table.columns_of_type("date"):
        if column in planned:
            years = defaults["planned_date_plausible"]["years_ahead"]
            rules.append(Rule(table.name, "planned_date_plausible", column,
                              **default("planned_date_plausible"),
                              detail=f"{column} (a due or target date) must lie between 1900-01-01 "
                                     f"and {years} years after the extract date", spec={"years": years}))
        else:
            rules.append(Rule(table.name, "date_plausible", column, **default("date_plausible"),
                              detail=f"{column} must lie between 1900-01-01 and the extract date"))
    for severity in (CRITICAL, WARNING):
        section = suite.get(severity) or {}
        for column in section.get("not_null", []):
            rules.append(Rule(table.name, "not_null", column, severity,
                              f"{column} must be filled"))
        for spec in section.get("code_lists", []):
            rules += _code_list_rules(table.name, spec, severity, defaults)
        for spec in section.get("ranges", []):
            rules.append(Rule(table.name, "number_range", spec["column"], severity,
                              f"{spec['column']} must lie between {spec['min']:g} and {spec['max']:g} "
                              f"({spec['from']})", spec.get("mostly", 1.0), spec))
        for spec in section.get("date_order", []):
            rules.append(Rule(table.name, "date_order", f"{spec['earlier']}, {spec['later']}", severity,
                              f"{spec['earlier']} must not be after {spec['later']}",
                              spec.get("mostly", 1.0), spec))
        for spec in section.get("references", []):
            columns, keys_ = _as_list(spec["column"]), _as_list(spec["key"])
            rules.append(Rule(table.name, "references", ", ".join(columns), severity,
                              f"{' + '.join(columns)} must match a {' + '.join(keys_)} "
                              f"in {spec['table']}", spec.get("mostly", 1.0), spec))
        for spec in section.get("date_after_parent", []):
            rules.append(Rule(table.name, "date_after_parent", spec["date"], severity,
                              f"{spec['date']} must not be before {spec['parent_date']} of the "
                              f"{spec['table']} record its {spec['column']} points to",
                              spec.get("mostly", 1.0), spec))
    return rules


def _code_list_rules(table: str, spec: dict, severity: str, defaults: dict) -> list[Rule]:
    """The code list itself, and a warning for SSD build placeholders (`PLACEHOLDER_DATA`:
    a field the LA has not mapped), which the code list then accepts. `counted` says how
    the definitions count a value outside the list (kpis.md: such values are warnings)."""
    column, placeholders = spec["column"], list(defaults["ssd_placeholder"]["values"])
    counted = f"; {spec['counted']}" if spec.get("counted") else ""
    listed = f"{', '.join(spec['values'][:12])}{', ...' if len(spec['values']) > 12 else ''}"
    return [
        Rule(table, "in_code_list", column, severity,
             f"{column} must be one of {listed} ({spec['from']}){counted}",
             spec.get("mostly", 1.0), dict(spec, values=list(spec["values"]) + placeholders)),
        Rule(table, "ssd_placeholder", column, defaults["ssd_placeholder"]["severity"],
             f"{column} holds the SSD placeholder {' or '.join(placeholders)} (the LA has not mapped "
             f"this field){counted or '; counted as a value outside the list'}",
             spec={"values": placeholders})]


def _as_list(value) -> list[str]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


# --- running them -------------------------------------------------------------------

_GE_CONTEXT = threading.Lock()


def validate_extracts(extracts: dict[str, Extract], extract_date: date,
                      previous_row_counts: dict[str, int] | None = None,
                      settings: ValidationSettings | None = None,
                      docs_dir: Path | None = None) -> ValidationReport:
    """Run every table's suite once, then the checks across tables and runs; build Data
    Docs into docs_dir when given (the report's data_docs_index is its index.html)."""
    started = time.perf_counter()
    settings = settings or ValidationSettings()
    defaults, suites = load_suites(Path(settings.suites_dir))
    defaults = _with_overrides(defaults, settings)
    results: list[RuleResult] = []
    per_table_rules = {name: declared_rules(TABLES[name], suites.get(name, {}), defaults)
                       for name in extracts}
    results += _extract_results(extracts, defaults)
    usable = {name: e for name, e in extracts.items() if e.usable}
    with _GE_CONTEXT:  # GE's context is process-wide and not thread-safe (backfills run periods in threads)
        ge = GeRunner(docs_dir)
        for name, extract in usable.items():
            frame = _frame_for_checks(extract)
            ge_rules = [r for r in per_table_rules[name] if r.rule in GE_RULES]
            results += ge.validate(name, extract.source_name, frame, ge_rules, extract_date)
            results += _cross_table_results(extract, frame, per_table_rules[name], usable)
        index = ge.build_docs() if docs_dir else None
    results += _row_count_results(extracts, previous_row_counts or {}, defaults)
    results += _supplied_before_results(extracts, previous_row_counts or {}, defaults)
    results += _freshness_results(extracts, suites, defaults, extract_date)
    if index:
        index = make_offline(index.parent, results, extract_date)
    return ValidationReport(extract_date, results, index, round(time.perf_counter() - started, 3))


def _with_overrides(defaults: dict, settings: ValidationSettings) -> dict:
    """defaults.yml with the limits of the `[validation]` settings (their only defaults)."""
    defaults = {k: dict(v) for k, v in defaults.items()}
    defaults["row_count_change"]["limit"] = settings.row_change_limit
    defaults["row_count_shrunk"]["limit"] = settings.row_shrink_limit
    defaults["file_age"]["days"] = settings.max_file_age_days
    return defaults


def _frame_for_checks(extract: Extract) -> pd.DataFrame:
    """The conformed rows with dates as datetimes (for GE comparisons) and the file line."""
    frame = extract.frame.copy()
    for column in TABLES[extract.table].columns_of_type("date"):
        frame[column] = _as_datetime_ns(frame[column])
    frame[ROW] = frame.index + 2
    return frame


def _as_datetime_ns(values: pd.Series) -> pd.Series:
    """datetime64[ns], which GE compares vectorised (other resolutions go value by value).
    Dates beyond the ns range (a year 0201 or 3024 typed in) are clipped to its ends, so
    they still fail the plausibility rule instead of vanishing."""
    as_datetime = pd.to_datetime(values, errors="coerce")
    return as_datetime.clip(lower=pd.Timestamp("1678-01-01"),
                            upper=pd.Timestamp("2261-12-31")).astype("datetime64[ns]")


def _example_ids(frame: pd.DataFrame, table: str, bad: pd.Series) -> list[str]:
    keys = row_key(TABLES[table])
    rows = frame.loc[bad, keys + [ROW]].head(MAX_EXAMPLES * 3)
    return _unique_ids([_id_of(row, keys) for row in rows.to_dict("records")])


def _id_of(row: dict, keys: list[str]) -> str:
    values = [row.get(k) for k in keys]
    if any(v is None or (isinstance(v, float) and pd.isna(v)) for v in values):
        return f"line {row.get(ROW)}"
    return "/".join(str(v) for v in values)


def _unique_ids(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))[:MAX_EXAMPLES]


def _result(rule: Rule, source: str, checked: int, bad: int, ids: list[str]) -> RuleResult:
    """Severity as it turned out: a critical rule whose pass rate still reaches `mostly`
    is reported as a warning."""
    severity = rule.severity
    if bad and severity == CRITICAL and checked and (1 - bad / checked) >= rule.mostly:
        severity = WARNING
    return RuleResult(source, rule.table, rule.column, rule.rule, severity, bad == 0,
                      checked, bad, ids, rule.detail)


# --- checks made while reading (file present, complete, columns, parseable values) ----

def _extract_results(extracts: dict[str, Extract], defaults: dict) -> list[RuleResult]:
    results = []
    for name, extract in extracts.items():
        rows = len(extract.frame)
        for issue in extract.issues:
            rule = issue.rule if issue.rule in defaults else "file_readable"
            results.append(RuleResult(
                extract.source_name, name, issue.column, issue.rule,
                defaults[rule]["severity"], False, rows if issue.row_count else 0,
                issue.row_count or rows, issue.row_ids, issue.message))
        if not extract.usable:
            continue
        failed = {(i.rule, i.column) for i in extract.issues}
        for kind, rule in (("date", "dates_parseable"), ("number", "numbers_parseable")):
            for column in TABLES[name].columns_of_type(kind):
                if (rule, column) not in failed:
                    results.append(RuleResult(extract.source_name, name, column, rule,
                                              defaults[rule]["severity"], True, rows, 0, [],
                                              f"{column} must be a {kind}"))
        results.append(RuleResult(extract.source_name, name, None, "required_columns",
                                  defaults["required_columns"]["severity"], True, rows, 0, [],
                                  "the contract's columns must be present"))
        if rows == 0:
            results.append(RuleResult(extract.source_name, name, None, "table_has_rows",
                                      defaults["table_has_rows"]["severity"], False, 0, 0, [],
                                      "the table has a header but no rows"))
    return results


# --- checks across tables ------------------------------------------------------------

def _cross_table_results(extract: Extract, frame: pd.DataFrame, rules: list[Rule],
                         usable: dict[str, Extract]) -> list[RuleResult]:
    results = []
    for rule in rules:
        if rule.rule not in ("references", "date_after_parent"):
            continue
        parent = usable.get(rule.spec["table"])
        if parent is None:
            continue  # the parent table is absent or blocked: nothing to check against
        columns, keys = _as_list(rule.spec["column"]), _as_list(rule.spec["key"])
        filled = frame[columns].notna().all(axis=1)
        if rule.rule == "references":
            bad = filled & ~_matches_a_key(frame[columns], parent.frame[keys])
            checked = int(filled.sum())
        else:
            parent_dates = parent.frame[[keys[0], rule.spec["parent_date"]]].dropna()
            parent_dates = parent_dates.drop_duplicates(keys[0]).set_index(keys[0])[rule.spec["parent_date"]]
            earliest = pd.to_datetime(frame[columns[0]].map(parent_dates), errors="coerce")
            own = frame[rule.spec["date"]]
            compared = earliest.notna() & own.notna()
            bad = compared & (own < earliest)
            checked = int(compared.sum())
        results.append(_result(rule, extract.source_name, checked, int(bad.sum()),
                               _example_ids(frame, extract.table, bad)))
    return results


def _matches_a_key(values: pd.DataFrame, keys: pd.DataFrame) -> np.ndarray:
    """Whether each row of `values` equals, as text, a complete row of `keys` (the same
    number of columns, in order): a hash join, where a MultiIndex would sort every key."""
    known = keys.dropna().astype(str).drop_duplicates()
    known.columns = values.columns
    joined = values.astype(str).merge(known, how="left", on=list(values.columns), indicator=True)
    return (joined["_merge"] == "both").to_numpy()


# --- checks against the table's last good load and the calendar -------------------------

def _row_count_results(extracts: dict[str, Extract], previous: dict[str, int],
                       defaults: dict) -> list[RuleResult]:
    change_limit = defaults["row_count_change"]["limit"]
    shrink_limit = defaults["row_count_shrunk"]["limit"]
    results = []
    for name, extract in extracts.items():
        before = previous.get(name)
        if not before or not extract.usable:
            continue
        now = len(extract.frame)
        change = (now - before) / before
        shrunk = change < -shrink_limit
        moved = abs(change) > change_limit
        rule = "row_count_shrunk" if shrunk else "row_count_change"
        results.append(RuleResult(
            extract.source_name, name, None, rule, defaults[rule]["severity"],
            not (shrunk or moved), 1, int(shrunk or moved), [],
            f"{now} rows against {before} in the table's last good load ({change:+.0%}; limits "
            f"{change_limit:.0%} change, {shrink_limit:.0%} shrinkage)"))
    return results


def _supplied_before_results(extracts: dict[str, Extract], previous: dict[str, int],
                             defaults: dict) -> list[RuleResult]:
    """An optional table (QA, complaints, IRO, surveys) that the last good load has but
    this extract lacks: its readers are withheld rather than computed from an old load or
    dropped from the outputs."""
    return [RuleResult("(no file)", name, None, "file_present", defaults["file_present"]["severity"],
                       False, 0, 0, [], f"{name} is missing from this extract, but its last good "
                       f"load has {rows} rows: an optional table once supplied is expected every time")
            for name, rows in sorted(previous.items())
            if rows and name not in extracts and name not in CASE_SYSTEM_TABLES]


def _freshness_results(extracts: dict[str, Extract], suites: dict, defaults: dict,
                       extract_date: date) -> list[RuleResult]:
    results = []
    max_age = defaults["file_age"]["days"]
    for name, extract in extracts.items():
        if not extract.usable:
            continue
        if extract.modified_at is not None:
            age = (extract_date - extract.modified_at.astimezone(timezone.utc).date()).days
            results.append(RuleResult(
                extract.source_name, name, None, "file_age", defaults["file_age"]["severity"],
                age <= max_age, 1, int(age > max_age), [],
                f"the file was last changed {age} days before the extract date "
                f"(limit {max_age} days)"))
        freshness = suites.get(name, {}).get("freshness")
        if freshness and len(extract.frame):
            newest = pd.to_datetime(extract.frame[freshness["column"]], errors="coerce").max()
            limit = extract_date - timedelta(days=freshness["days"])
            stale = pd.isna(newest) or newest.date() < limit
            results.append(RuleResult(
                extract.source_name, name, freshness["column"], "freshness",
                defaults["freshness"]["severity"], not stale, 1, int(stale), [],
                f"the newest {freshness['column']} is "
                f"{'missing' if pd.isna(newest) else newest.date().isoformat()}; it should be "
                f"on or after {limit.isoformat()} ({freshness['days']} days before the extract date)"))
    return results


# --- Great Expectations --------------------------------------------------------------

GE_RULES = {"row_key_not_null", "row_key_unique", "date_plausible", "planned_date_plausible",
            "not_null", "in_code_list", "ssd_placeholder", "date_order", "number_range"}
EARLIEST_DATE = pd.Timestamp("1900-01-01")


class GeRunner:
    """One ephemeral GE context per validation: a pandas data source with one dataframe
    asset, suite and validation definition per table."""

    def __init__(self, docs_dir: Path | None):
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig
        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        self.gx = gx
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.data_source = self.context.data_sources.add_pandas("extracts")
        self.docs_dir = Path(docs_dir) if docs_dir else None
        if self.docs_dir:
            self.docs_dir.mkdir(parents=True, exist_ok=True)
            self.context.add_data_docs_site(site_name="qaloop", site_config={
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                  "base_directory": str(self.docs_dir.resolve())},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"}})

    def validate(self, table: str, source: str, frame: pd.DataFrame, rules: list[Rule],
                 extract_date: date) -> list[RuleResult]:
        gx = self.gx
        suite = gx.ExpectationSuite(name=table)
        for number, rule in enumerate(rules):
            expectation = _expectation(rule, extract_date)
            expectation.meta = {"qaloop_rule": number, "severity": rule.severity}
            expectation.notes = f"{rule.severity}" + (
                f" (below {rule.mostly:.1%} passing; else warning)" if rule.mostly < 1 else "") \
                + f": {rule.detail}"
            suite.add_expectation(expectation)
        suite = self.context.suites.add(suite)
        asset = self.data_source.add_dataframe_asset(table)
        batch = asset.add_batch_definition_whole_dataframe("extract")
        definition = self.context.validation_definitions.add(
            gx.ValidationDefinition(name=table, data=batch, suite=suite))
        keys = row_key(TABLES[table])
        result_format = {"result_format": "COMPLETE", "unexpected_index_column_names": keys + [ROW],
                         "partial_unexpected_count": 0, "include_unexpected_rows": False,
                         "return_unexpected_index_query": False}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outcome = definition.run(batch_parameters={"dataframe": frame}, result_format=result_format)
        results = []
        for item in outcome.results:
            rule = rules[item.expectation_config.meta["qaloop_rule"]]
            if item.exception_info and item.exception_info.get("raised_exception"):
                raise RuntimeError(f"Great Expectations could not check {table} {rule.rule} "
                                   f"{rule.column}: {item.exception_info.get('exception_message')}")
            counts = item.result or {}
            checked = int(counts.get("element_count", len(frame)) - counts.get("missing_count", 0))
            bad = int(counts.get("unexpected_count", 0) or 0)
            ids = _unique_ids([_id_of(row, keys) for row in counts.get("unexpected_index_list", [])[:MAX_EXAMPLES * 3]])
            results.append(_result(rule, source, checked, bad, ids))
        return results

    def build_docs(self) -> Path:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.context.build_data_docs(site_names=["qaloop"])
        return self.docs_dir / "index.html"


def _expectation(rule: Rule, extract_date: date):
    import great_expectations.expectations as gxe
    column = rule.column
    if rule.rule in ("row_key_not_null", "not_null"):
        return gxe.ExpectColumnValuesToNotBeNull(column=column)
    if rule.rule == "row_key_unique":
        columns = rule.spec["columns"]
        if len(columns) == 1:
            return gxe.ExpectColumnValuesToBeUnique(column=columns[0])
        return gxe.ExpectCompoundColumnsToBeUnique(column_list=columns)
    if rule.rule == "date_plausible":
        return gxe.ExpectColumnValuesToBeBetween(column=column, min_value=EARLIEST_DATE,
                                                 max_value=pd.Timestamp(extract_date))
    if rule.rule == "planned_date_plausible":
        latest = pd.Timestamp(extract_date) + pd.DateOffset(years=rule.spec["years"])
        return gxe.ExpectColumnValuesToBeBetween(column=column, min_value=EARLIEST_DATE,
                                                 max_value=latest)
    if rule.rule == "in_code_list":
        return gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(rule.spec["values"]))
    if rule.rule == "ssd_placeholder":
        return gxe.ExpectColumnValuesToNotBeInSet(column=column, value_set=list(rule.spec["values"]))
    if rule.rule == "number_range":
        return gxe.ExpectColumnValuesToBeBetween(column=column, min_value=rule.spec["min"],
                                                 max_value=rule.spec["max"])
    if rule.rule == "date_order":
        return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=rule.spec["later"], column_B=rule.spec["earlier"], or_equal=True,
            ignore_row_if="either_value_is_missing")
    raise ValueError(f"no expectation for rule {rule.rule}")


# --- the warehouse: previous row counts, the pass-rate trend -------------------------

def loaded_row_counts(engine: Engine) -> dict[str, int]:
    """Rows of each source table as the warehouse holds them: the table's last good load,
    whatever drop folder, file path or database it came from (a table that failed a
    critical table-level rule is not loaded, so a bad drop never becomes the baseline).
    Tables never loaded (absent, or empty) are left out."""
    counts = {}
    with engine.connect() as connection:
        present = set(sa.inspect(connection).get_table_names())
        for name in TABLES:
            if name in present:
                rows = connection.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar()
                if rows:
                    counts[name] = int(rows)
    return counts


def store_dq_results(engine: Engine, run_id: str, period: Period, report: ValidationReport) -> int:
    """Store the pass rate of every rule checked in this run (replacing the run's earlier
    rows), for the month-by-month data-quality trend: a daily or weekly run's under the
    month of its day."""
    now = datetime.now(timezone.utc)
    rows = [{"run_id": run_id, "period": _month_of(period), "table_name": r.table, "column_name": r.column or "",
             "rule": r.rule, "severity": r.severity, "success": int(r.success),
             "checked": int(r.checked), "unexpected": int(r.unexpected),
             "pass_rate": float(r.pass_rate), "checked_at": now} for r in report.results]
    with engine.begin() as connection:
        target = sa.Table("dq_results", sa.MetaData(), autoload_with=connection)
        connection.execute(target.delete().where(target.c.run_id == run_id))
        if rows:
            connection.execute(target.insert(), rows)
    return len(rows)


def _month_of(period: Period) -> str:
    return Period.containing(period.start).id


def dq_trend(engine: Engine, last_periods: int = 13, up_to: Period | None = None) -> pd.DataFrame:
    """Pass rate per period, table and rule, from each period's current (latest) run:
    the data of the data-quality sheet, for the `last_periods` months up to `up_to`
    (a re-run of a historic month shows that month's history, not later months; a day's
    run, its month's).
    Columns: period, table_name, column_name, rule, severity, pass_rate."""
    with engine.connect() as connection:
        results = sa.Table("dq_results", sa.MetaData(), autoload_with=connection)
        rows = connection.execute(sa.select(
            results.c.run_id, results.c.period, results.c.table_name, results.c.column_name,
            results.c.rule, results.c.severity, results.c.pass_rate, results.c.checked_at)).all()
    frame = pd.DataFrame(rows, columns=["run_id", "period", "table_name", "column_name", "rule",
                                        "severity", "pass_rate", "checked_at"])
    if frame.empty:
        return frame.drop(columns=["run_id", "checked_at"])
    if up_to is not None:
        frame = frame[frame["period"] <= _month_of(up_to)]
        if frame.empty:
            return frame.drop(columns=["run_id", "checked_at"])
    latest = frame.sort_values("checked_at").groupby("period")["run_id"].last()
    frame = frame[frame["run_id"] == frame["period"].map(latest)]
    periods = sorted(frame["period"].unique())[-last_periods:]
    frame = frame[frame["period"].isin(periods)]
    return frame.drop(columns=["run_id", "checked_at"]).sort_values(
        ["table_name", "rule", "column_name", "period"]).reset_index(drop=True)


# --- what a blocked table stops (tasks/validate/withheld.py) -----------------------------

def tables_read_by(sql: str) -> set[str]:
    """The source tables a SQL text names (whole-line comments ignored)."""
    code = "\n".join(line for line in sql.lower().splitlines() if not line.lstrip().startswith("--"))
    words = set(re.findall(r"[a-z_0-9]+", code))
    return {name for name in TABLES if name in words}
