"""DfE benchmarks for the Directorate Scorecard (kpis.md, "Directorate Scorecard").

"the latest published value for England, the LA's region and the mean of its 10
statistical neighbours (DfE reference data), with the year of that published value."

Each headline KPI's `benchmark:` block in sql/registry.yml names the DfE file (a glob
pattern, so a new year's file is picked up), the rows (`filter`), the value column and
how the published measure differs from the monthly KPI. The files are read into tidy
rows (measure, time_period, geographic_level, region, LA, value); suppression codes
(c, k, low, u, x, z, ...) are missing values, never zero. Per measure the latest
reporting year with a published value is used, so rows of a new year are picked up
without code changes.

Rank and quartile band among all LAs follow DfE's LAIT: rank 1 and band A are the best
by polarity (highest value when higher is better, lowest when lower is better); a
measure with no polarity is ranked lowest first. Ties share the better rank.

Like with like: only a figure on DfE's basis is ranked, never a single month's figure
against an annual value. The figure ranked is (a) the LA's own published DfE figure
(its row of the same file, by LA code) for the benchmark year, else (b) a figure qaloop
computes on the DfE basis, as the block's `dfe_basis` allows: `at_31_march` (the figure
of the month ending 31 March of the benchmark year), `sum_of_months` (the 12 monthly
numerators and denominators of the year to 31 March added up), `rolling_12_months` (as
`at_31_march`, else this month's rolling 12-month figure). `Benchmark.rank_basis` says
which in words; without either the comparators are shown for context with no rank.

Years are labelled as DfE writes them (`2024-25`, the year ending 31 March 2025), or as
the census date for a block with `census: 30 September` (the workforce census).

An LA adds or replaces blocks in its configuration (`[benchmarks.<KPI id>]`, the same
keys, over the registry's block) for a newer or extra DfE file dropped into its
reference folder: `configured_kpis` checks the mapping against the files.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine

from tasks.kpis.compute import round_half_up
from tasks.kpis.registry import Kpi
from tasks.warehouse.database import insert_frame, read_sql, table

BENCHMARK_SUBDIR = "dfe-benchmarks"
POPULATION_PATTERN = "ons_mid-year_population_estimates_*.csv"
NEIGHBOUR_PATTERN = "sn_model_*_wide.csv"
NEIGHBOUR_COUNT = 10
NATIONAL, REGIONAL, LOCAL = "National", "Regional", "Local authority"
# Documented DfE suppression codes; any other non-numeric cell is missing as well.
SUPPRESSION_CODES = ("c", "k", "low", "u", "x", "z", ":", "..", "~")
TIDY_COLUMNS = ["measure", "time_period", "geographic_level", "region_code", "region_name",
                "old_la_code", "la_name", "value", "source"]
FILE_COLUMN = "__file"  # the file a row was read from (read_dfe_files)
NEIGHBOUR_COLUMNS = ["old_la_code", "neighbour_rank", "neighbour_code", "closeness", "model"]
NOT_IN_REFERENCE = "not in the reference data"
NO_BENCHMARK = NOT_IN_REFERENCE  # what a Directorate row without a mapped DfE file says
SPEC_KEYS = {"file", "value", "measure", "differs", "filter", "rate_per_10k", "publication",
             "dfe_basis", "census"}
DFE_BASES = ("at_31_march", "sum_of_months", "rolling_12_months")
SETTING = "[benchmarks.{kpi_id}]"  # the LA configuration's table for one KPI


def latest_reporting_year(day: date) -> int:
    """DfE's children's social care statistics are for years ending 31 March
    (time_period 2024 = April 2023 to March 2024): the latest such year ended on or
    before `day`. A period is benchmarked against no later year, so that re-running a
    historic month shows what could have been known of it."""
    return day.year if (day.month, day.day) >= (3, 31) else day.year - 1


def year_label(year: int, census: str = "") -> str:
    """A DfE year as DfE writes it: `2024-25` for the year ending 31 March 2025; a census
    (`census: 30 September`) as its date, `30 Sep 2025`."""
    if census:
        day, _, month = census.partition(" ")
        return f"{day} {month[:3]} {year}"
    return f"{year - 1}-{year % 100:02d}"


def march_period(year: int) -> str:
    """The month ending 31 March of DfE year `year` (2025: 2025-03)."""
    return f"{year}-03"


def headline_figure_id(kpi: Kpi) -> str:
    """The figure of the KPI's Directorate row, which its benchmark compares: the one the
    registry shows in `directorate` (kpis.md: "SAF12 (rate), SAF16 (rate), DD10 (mean
    caseload)"), else its headline."""
    return kpi.directorate_figure or kpi.id


# --- Registry blocks --------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchmarkSpec:
    """A `benchmark:` block (registry, or the LA's `[benchmarks.<id>]`). `file` None: no
    file of the reference data serves the KPI (`differs` says what would)."""

    file: str | None
    value: str | None
    measure: str
    differs: str
    filter: tuple[tuple[str, str], ...] = ()
    rate_per_10k: bool = False  # value = column / ONS 0-17 population * 10,000
    publication: str = ""       # the DfE publication and table, e.g. "Children in need, table C1"
    dfe_basis: str = ""         # how qaloop's own figure is put on DfE's basis (DFE_BASES); "" none
    census: str = ""            # "30 September": time_period is a census year, not a year to 31 March

    @property
    def published(self) -> bool:
        return self.file is not None

    @property
    def source(self) -> str:
        if not self.published:
            return NOT_IN_REFERENCE
        rows = "; ".join(f"{column} = {value}" for column, value in self.filter)
        column = f"{self.value} per 10,000 aged 0-17 (ONS)" if self.rate_per_10k else self.value
        return f"{self.file}: {column}" + (f" [{rows}]" if rows else "")

    def source_in(self, file_name: str) -> str:
        """The publication and the file a value was read from (a pattern's actual file)."""
        source = self.source.replace(self.file, file_name, 1) if self.file else self.source
        return f"{self.publication}: {source}" if self.publication else source


def benchmark_spec(kpi: Kpi) -> BenchmarkSpec | None:
    block = kpi.benchmark
    if not block:
        return None
    unknown = set(block) - SPEC_KEYS
    if unknown or (block.get("file") and not block.get("value")):
        raise ValueError(f"registry entry {kpi.id}: benchmark block needs file and value "
                         f"(unknown keys: {sorted(unknown)}; known: {sorted(SPEC_KEYS)})")
    basis = str(block.get("dfe_basis") or "")
    if basis and basis not in DFE_BASES:
        raise ValueError(f"registry entry {kpi.id}: dfe_basis {basis!r} is not one of {list(DFE_BASES)}")
    return BenchmarkSpec(file=block.get("file"), value=block.get("value"),
                         measure=str(block.get("measure", "")), differs=str(block.get("differs", "")),
                         filter=tuple((str(k), str(v)) for k, v in (block.get("filter") or {}).items()),
                         rate_per_10k=bool(block.get("rate_per_10k", False)),
                         publication=str(block.get("publication") or ""), dfe_basis=basis,
                         census=str(block.get("census") or ""))


def configured_kpis(kpis: list[Kpi], mapping: dict | None, reference_dir: Path) -> list[Kpi]:
    """The registry's KPIs with the LA's `[benchmarks.<KPI id>]` tables (Settings.benchmarks)
    laid over their `benchmark:` blocks, key by key, each checked against the reference
    folder: a ValueError names the setting when the KPI id is unknown or not on the
    Directorate, a key is unknown, the file is not in the folder, a column is missing or
    the filter matches no rows."""
    if not mapping:
        return list(kpis)
    by_id = {kpi.id: kpi for kpi in kpis}
    changed = {}
    for kpi_id, block in mapping.items():
        setting = SETTING.format(kpi_id=kpi_id)
        kpi = by_id.get(str(kpi_id))
        if kpi is None:
            raise ValueError(f"{setting}: unknown KPI id {kpi_id!r}; the Directorate Scorecard rows are "
                             f"{', '.join(k.id for k in kpis if k.headline)}")
        if not kpi.headline:
            raise ValueError(f"{setting}: {kpi_id} is not a Directorate Scorecard row, which alone "
                             "shows benchmarks")
        if not isinstance(block, dict):
            raise ValueError(f"{setting}: expected a table of keys ({', '.join(sorted(SPEC_KEYS))})")
        unknown = set(block) - SPEC_KEYS
        if unknown:
            raise ValueError(f"{setting}: unknown key(s) {sorted(unknown)}; known: {sorted(SPEC_KEYS)}")
        base = dict(kpi.benchmark or {}) if (kpi.benchmark or {}).get("file") else {}
        merged = {**base, **block}
        if merged.get("file") and "measure" not in block and not base:
            merged["measure"] = f"{merged.get('value')} ({merged['file']}, mapped in the configuration)"
        if not base and "differs" not in block:
            merged["differs"] = "Mapped in the LA's configuration: check that the DfE measure matches the KPI."
        candidate = replace(kpi, benchmark=merged)
        try:
            spec = benchmark_spec(candidate)
        except ValueError as error:
            raise ValueError(f"{setting}: {error}") from None
        if spec is not None and spec.published:
            check_mapping(setting, spec, reference_dir)
        changed[kpi.id] = candidate
    return [changed.get(kpi.id, kpi) for kpi in kpis]


def check_mapping(setting: str, spec: BenchmarkSpec, reference_dir: Path) -> None:
    """The file is in the folder, has the columns named and rows the filter matches."""
    folder = benchmark_dir(reference_dir)
    if not sorted(folder.glob(spec.file)):
        raise ValueError(f"{setting}: file = {spec.file!r}: no such file in {folder}")
    frame = read_dfe_files(reference_dir, spec.file)
    needed = ["time_period", "geographic_level", spec.value, *(c for c, _ in spec.filter)]
    missing = [column for column in needed if column not in frame.columns]
    if missing:
        raise ValueError(f"{setting}: {spec.file} has no column(s) {missing}")
    for column, wanted in spec.filter:
        frame = frame[frame[column] == wanted]
        if frame.empty:
            raise ValueError(f"{setting}: filter {column} = {wanted!r} matches no rows of {spec.file}")
    if published_number(frame[spec.value]).dropna().empty:
        raise ValueError(f"{setting}: column {spec.value} of {spec.file} has no number in the rows kept")


# --- Reading the DfE files ----------------------------------------------------------------------


def benchmark_dir(reference_dir: Path) -> Path:
    return Path(reference_dir) / BENCHMARK_SUBDIR


def read_dfe_files(reference_dir: Path, pattern: str) -> pd.DataFrame:
    """Every file matching `pattern`, as text. Where files overlap (a new edition of a
    file next to the old one), the later file name wins for the same year and place."""
    paths = sorted(benchmark_dir(reference_dir).glob(pattern))
    if not paths:
        raise FileNotFoundError(f"no DfE file matching {pattern} in {benchmark_dir(reference_dir)}")
    frames = [pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False).assign(
              **{FILE_COLUMN: path.name}) for path in paths]
    frame = pd.concat(frames, ignore_index=True)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.apply(lambda column: column.str.strip())


def published_number(column: pd.Series) -> pd.Series:
    """Numbers; suppression codes and any other non-numeric cell are missing (never 0)."""
    text = column.astype("string").str.strip()
    numbers = pd.to_numeric(text.where(~text.str.lower().isin(SUPPRESSION_CODES)), errors="coerce")
    return numbers.astype("float64")


def _place_key(frame: pd.DataFrame) -> pd.Series:
    """England, a region or an LA: the code that identifies the row's place."""
    level = frame["geographic_level"]
    return (level.where(level != LOCAL, "LA") + ":"
            + frame["region_code"].where(level == REGIONAL, "")
            + frame["old_la_code"].where(level == LOCAL, ""))


def load_measure(reference_dir: Path, measure: str, spec: BenchmarkSpec) -> pd.DataFrame:
    """The tidy rows of one registry benchmark, every year and place in the file(s)."""
    frame = read_dfe_files(reference_dir, spec.file)
    missing = {spec.value, *(c for c, _ in spec.filter)} - set(frame.columns)
    if missing:
        raise ValueError(f"{measure}: {spec.file} has no column(s) {sorted(missing)}")
    for column, wanted in spec.filter:
        frame = frame[frame[column] == wanted]
    frame = frame[frame["geographic_level"].isin([NATIONAL, REGIONAL, LOCAL])].copy()
    frame["time_period"] = frame["time_period"].astype(int)
    frame["value"] = published_number(frame[spec.value])
    frame["place"] = _place_key(frame)
    frame = frame.drop_duplicates(["time_period", "place"], keep="last")
    if spec.rate_per_10k:
        frame["value"] = _per_10k(frame, population_by_place(reference_dir))
    tidy = frame.assign(measure=measure, source=frame[FILE_COLUMN].map(spec.source_in))
    tidy = tidy.reindex(columns=TIDY_COLUMNS)
    for column in ("region_code", "region_name", "old_la_code", "la_name"):
        tidy[column] = tidy[column].where(tidy[column].fillna("") != "", None)
    return tidy.sort_values(["time_period", "geographic_level", "old_la_code"]).reset_index(drop=True)


def population_by_place(reference_dir: Path) -> dict[tuple[int, str], float]:
    frame = read_dfe_files(reference_dir, POPULATION_PATTERN)
    frame = frame[frame["geographic_level"].isin([NATIONAL, REGIONAL, LOCAL])]
    values = published_number(frame["population_estimate"])
    return dict(zip(zip(frame["time_period"].astype(int), _place_key(frame)), values))


def _per_10k(frame: pd.DataFrame, population: dict[tuple[int, str], float]) -> pd.Series:
    """Count / population aged 0-17 * 10,000, 1 decimal place half up. A reporting year
    ending 31 March Y uses the mid-year (30 June) estimate of Y-1, as DfE does (the CLA
    file's population_estimate for 2025 is the ONS 2024 estimate)."""
    rates = []
    for year, place, count in zip(frame["time_period"], frame["place"], frame["value"]):
        people = population.get((year - 1, place))
        if pd.isna(count) or people is None or pd.isna(people) or not people:
            rates.append(None)
        else:
            rates.append(round_half_up(Decimal(str(count)) * 10000 / Decimal(str(people))))
    return pd.Series(rates, index=frame.index, dtype="float64")


def load_benchmark_values(reference_dir: Path, kpis: list[Kpi]) -> pd.DataFrame:
    """Tidy rows for every headline KPI with a published benchmark; `measure` is the
    Directorate figure id (SAF04, SAF12:rate_per_10k)."""
    frames = [load_measure(reference_dir, headline_figure_id(kpi), spec)
              for kpi in kpis if (spec := benchmark_spec(kpi)) and spec.published]
    if not frames:
        return pd.DataFrame(columns=TIDY_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def load_neighbours(reference_dir: Path) -> pd.DataFrame:
    """The latest statistical-neighbour model (sn_model_<year>_wide.csv): 10 neighbours
    per LA by old_la_code, closest first."""
    path = sorted(benchmark_dir(reference_dir).glob(NEIGHBOUR_PATTERN))[-1]
    wide = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    rows = []
    for record in wide.to_dict("records"):
        for rank in range(1, NEIGHBOUR_COUNT + 1):
            code = record.get(f"SN_{rank}", "").strip()
            if code:
                rows.append({"old_la_code": record["old_la_code"].strip(), "neighbour_rank": rank,
                             "neighbour_code": code, "model": path.name,
                             "closeness": (record.get(f"SN_{rank}P") or "").strip() or None})
    return pd.DataFrame(rows, columns=NEIGHBOUR_COLUMNS)


# --- Warehouse reference tables -----------------------------------------------------------------


def store_reference(engine: Engine, values: pd.DataFrame, neighbours: pd.DataFrame) -> None:
    """Replace the benchmark reference tables with these rows, in one transaction."""
    with engine.begin() as connection:
        for name, frame in (("benchmark_values", values), ("statistical_neighbours", neighbours)):
            target = table(name, connection)
            connection.execute(target.delete())
            insert_frame(connection, target, frame[[c.name for c in target.columns]])


def read_reference(engine: Engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    values = read_sql(engine, "select * from benchmark_values")
    values["time_period"] = values["time_period"].astype(int)
    values["value"] = pd.to_numeric(values["value"], errors="coerce")
    neighbours = read_sql(engine, "select * from statistical_neighbours "
                                  "order by old_la_code, neighbour_rank")
    return values, neighbours


def refresh_reference(engine: Engine, reference_dir: Path, kpis: list[Kpi]) -> int:
    """Reload the DfE files into the warehouse; returns the number of value rows."""
    values = load_benchmark_values(reference_dir, kpis)
    store_reference(engine, values, load_neighbours(reference_dir))
    return len(values)


# --- One LA's benchmarks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Benchmark:
    """The published comparators of one headline figure for one LA, all from `year`."""

    kpi_id: str
    figure_id: str
    measure: str
    source: str               # publication and file the year's values were read from
    differs: str
    year: int
    year_label: str           # as DfE writes it: 2024-25 (or the census date)
    england: float | None
    region_code: str | None
    region_name: str | None
    region: float | None
    sn_mean: float | None
    sn_median: float | None
    sn_values: tuple[tuple[str, str | None, float | None], ...]  # (code, name, value) x 10
    la_value: float | None    # the LA's own published value (its row of the file), if any
    rank: int | None          # of `ranked_value` among all LAs with a value; 1 = best (module doc)
    rank_of: int
    quartile: str | None      # A (best quarter) to D
    rank_basis: str           # in words: which LA figure is ranked, or why none is
    sn_rank: int | None       # the LA among itself and its neighbours with a value
    sn_rank_of: int
    ranked_value: float | None = None  # the LA figure ranked: published, or computed on DfE's basis
    ranked_from: str | None = None     # "published" | "computed" | None (not ranked)
    rank_note: str = ""                # the basis in a few words, for the board paper
    publication: str = ""              # DfE publication and table (the block's `publication`)
    file_name: str = ""                # the file the year's values were read from

    @property
    def sn_count(self) -> int:
        return sum(value is not None for _, _, value in self.sn_values)

    @property
    def table(self) -> str:
        """The DfE publication and table, and the file read: what a row names as its source."""
        return f"{self.publication} ({self.file_name})" if self.publication else self.file_name


def rank_order(polarity: str) -> str:
    """Which end of the ranking is best (DfE's LAIT)."""
    return {"High": "rank 1 / band A = highest (higher is better)",
            "Low": "rank 1 / band A = lowest (lower is better)"}.get(
        polarity, "rank 1 / band A = lowest (no polarity: context only)")


def benchmark_for(kpi: Kpi, la_code: str, values: pd.DataFrame, neighbours: pd.DataFrame,
                  up_to_year: int | None = None, own: pd.DataFrame | None = None,
                  period: str | None = None) -> Benchmark | None:
    """England, region, statistical neighbours (mean and median of the 10), the LA's own
    published value and a rank, from the latest year of the KPI's measure with a published
    value (no later than `up_to_year` when given). None: no file serves the KPI.

    The rank is of a figure on DfE's basis only (module doc): the LA's published value,
    else qaloop's own figure put on DfE's basis from `own` (LA-level kpi_values rows:
    kpi_id, period, value, numerator, denominator) as the block's `dfe_basis` allows;
    `period` is the month being published. Never this month's figure against a year's."""
    spec = benchmark_spec(kpi)
    if spec is None or not spec.published:
        return None
    figure = headline_figure_id(kpi)
    rows = values[(values["measure"] == figure) & values["value"].notna()]
    if up_to_year is not None:
        rows = rows[rows["time_period"] <= up_to_year]
    if rows.empty:
        return None
    year = int(rows["time_period"].max())
    label = year_label(year, spec.census)
    rows = values[(values["measure"] == figure) & (values["time_period"] == year)]
    local = rows[rows["geographic_level"] == LOCAL]
    own_row = _la_row(local, la_code)
    region_code, region_name = _region_of(values[values["measure"] == figure], la_code, own_row)
    regional = rows[(rows["geographic_level"] == REGIONAL) & (rows["region_code"] == region_code)]
    sn_values = tuple(_neighbour_value(local, code) for code in neighbour_codes(neighbours, la_code))
    present = [value for _, _, value in sn_values if value is not None]
    la_value = _value(own_row)
    if la_value is not None:
        name = own_row.iloc[0]["la_name"] or "the LA"
        ranked = (la_value, "published", f"{name}'s own DfE published figure for {label}",
                  "LA's own DfE figure")
    else:
        computed = own_dfe_figure(spec, kpi.figure_kind(figure), figure, year, own, period)
        ranked = (computed[0], "computed", computed[1], computed[2]) if computed else (
            None, None, f"Not ranked: no LA figure on DfE's basis for {label} (a month's figure is "
                        "not ranked against a year's)", "not ranked")
    ranked_value, ranked_from, basis, note = ranked
    polarity = kpi.polarity_of(figure)
    rank, rank_of = _rank(ranked_value, local["value"].dropna().tolist(), polarity)
    sn_rank, sn_rank_of = _rank(ranked_value, present + ([ranked_value] if ranked_value is not None else []),
                                polarity)
    sources = rows["source"].dropna()
    source = str(sources.iloc[-1]) if not sources.empty else spec.source_in(spec.file)
    file_name = source.removeprefix(f"{spec.publication}: " if spec.publication else "").split(": ")[0]
    return Benchmark(
        kpi_id=kpi.id, figure_id=figure, measure=spec.measure, source=source,
        publication=spec.publication, file_name=file_name,
        differs=spec.differs, year=year, year_label=label,
        england=_value(rows[rows["geographic_level"] == NATIONAL]),
        region_code=region_code, region_name=region_name, region=_value(regional),
        sn_mean=_mean(present), sn_median=_median(present), sn_values=sn_values,
        la_value=la_value, rank=rank, rank_of=rank_of, quartile=_quartile(rank, rank_of),
        rank_basis=basis, sn_rank=sn_rank, sn_rank_of=sn_rank_of,
        ranked_value=ranked_value, ranked_from=ranked_from, rank_note=note)


def own_dfe_figure(spec: BenchmarkSpec, kind: str, figure: str, year: int, own: pd.DataFrame | None,
                   period: str | None) -> tuple[float, str, str] | None:
    """qaloop's own figure on DfE's basis for `year` (the year to 31 March `year`), as the
    block's `dfe_basis` allows, with its basis in words and in a few: None when the
    figures needed are not there or are small numbers."""
    if own is None or own.empty or not spec.dfe_basis:
        return None
    rows = own[own["kpi_id"] == figure]
    if "level" in rows.columns:
        rows = rows[rows["level"] == "la"]
    by_period = {r["period"]: r for r in rows.drop_duplicates("period", keep="last").to_dict("records")}
    march = march_period(year)
    if spec.dfe_basis in ("at_31_march", "rolling_12_months"):
        figure_row = by_period.get(march)
        if _usable(figure_row, kind):
            what = "the year to" if spec.dfe_basis == "rolling_12_months" else "the month ending"
            return (float(figure_row["value"]), f"qaloop's own figure for {what} 31 March {year} "
                    f"(DfE basis), against LAs' {year_label(year)}", f"qaloop, to 31 Mar {year}")
        latest = by_period.get(period) if period else None
        if spec.dfe_basis == "rolling_12_months" and _usable(latest, kind):
            return (float(latest["value"]), f"qaloop's own rolling 12 months to the end of {period}, "
                    f"against LAs' {year_label(year)}", f"qaloop, 12 months to {period}")
        return None
    months = [f"{year - 1}-{m:02d}" for m in range(4, 13)] + [f"{year}-{m:02d}" for m in range(1, 4)]
    found = [by_period.get(m) for m in months]
    if any(r is None or pd.isna(r.get("numerator")) or pd.isna(r.get("denominator")) for r in found):
        return None
    numerator = sum(Decimal(str(r["numerator"])) for r in found)
    denominator = sum(Decimal(str(r["denominator"])) for r in found)
    if denominator < 5:
        return None
    return (round_half_up(Decimal(100) * numerator / denominator),
            f"qaloop's own figure for the year to 31 March {year} (its 12 months added up, DfE basis), "
            f"against LAs' {year_label(year)}", f"qaloop, to 31 Mar {year}")


def _usable(row: dict | None, kind: str) -> bool:
    """A figure that may be shown and ranked: present and not a small number."""
    if row is None or row.get("value") is None or pd.isna(row.get("value")):
        return False
    numerator, denominator = row.get("numerator"), row.get("denominator")
    if kind == "percent":
        return denominator is not None and not pd.isna(denominator) and denominator >= 5
    if kind in ("rate", "count"):
        return numerator is None or pd.isna(numerator) or not 0 < numerator < 5
    return True


def benchmarks_for(kpis: list[Kpi], la_code: str, values: pd.DataFrame, neighbours: pd.DataFrame,
                   up_to_year: int | None = None, own: pd.DataFrame | None = None,
                   period: str | None = None) -> dict[str, Benchmark | None]:
    """Every headline KPI's benchmark, keyed by KPI id (None: not in the reference data)."""
    return {kpi.id: benchmark_for(kpi, la_code, values, neighbours, up_to_year, own, period)
            for kpi in kpis if kpi.headline}


def neighbour_codes(neighbours: pd.DataFrame, la_code: str) -> list[str]:
    rows = neighbours[neighbours["old_la_code"].astype(str) == str(la_code)]
    if rows.empty:
        raise ValueError(f"LA code {la_code} has no statistical neighbours in the DfE model")
    return rows.sort_values("neighbour_rank")["neighbour_code"].astype(str).tolist()


def _codes(cell) -> list[str]:
    """A published row may cover two LAs that report together ("314 / 318")."""
    return [] if cell is None or pd.isna(cell) else [c.strip() for c in str(cell).split("/")]


def _la_row(local: pd.DataFrame, la_code: str) -> pd.DataFrame:
    return local[local["old_la_code"].map(lambda cell: str(la_code) in _codes(cell))]


def _region_of(measure_rows: pd.DataFrame, la_code: str, own: pd.DataFrame) -> tuple:
    """The LA's region as the DfE data records it (latest year first)."""
    candidates = own if not own.empty else _la_row(
        measure_rows[measure_rows["geographic_level"] == LOCAL], la_code)
    if candidates.empty:
        return None, None
    latest = candidates.sort_values("time_period").iloc[-1]
    return latest["region_code"], latest["region_name"]


def _neighbour_value(local: pd.DataFrame, code: str) -> tuple[str, str | None, float | None]:
    row = _la_row(local, code)
    if row.empty:
        return code, None, None
    return code, row.iloc[0]["la_name"], _value(row)


def _value(rows: pd.DataFrame) -> float | None:
    if rows.empty or pd.isna(rows.iloc[0]["value"]):
        return None
    return float(rows.iloc[0]["value"])


def _mean(values: list[float]) -> float | None:
    if not values:
        return None
    return round_half_up(sum(Decimal(str(v)) for v in values) / Decimal(len(values)))


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    return round_half_up(statistics.median(Decimal(str(v)) for v in values))


def _rank(value: float | None, population: list[float], polarity: str) -> tuple[int | None, int]:
    """1 + the number of values strictly better than `value` (ties share a rank)."""
    if value is None:
        return None, len(population)
    better = [v for v in population if (v > value if polarity == "High" else v < value)]
    return len(better) + 1, len(population)


def _quartile(rank: int | None, count: int) -> str | None:
    if rank is None or not count:
        return None
    return "ABCD"[min(3, (rank - 1) * 4 // count)]
