"""Extract: read the source tables from a drop folder (CSV or XLSX, one file per table)
or from a database through a SQLAlchemy URL, map them onto the contracts, and archive
exactly what was read, read-only, with its SHA-256 checksum.

Two modes. `strict=True` (the default) raises ExtractError on the first bad input.
`strict=False` never raises for bad input: every contract table that is required or
present comes back as an Extract, and what is wrong with it is listed in
`Extract.issues` (a missing or empty file, a truncated file, a missing column, dates or
numbers that cannot be read, ...), so that validation (tasks/validate/validation.py) can report it
through the same alert path as every other rule and block only that table.
"""

from __future__ import annotations

import hashlib
import io
import csv
import difflib
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import sqlalchemy as sa

from tasks.core.settings import SECRET_SOURCE_PREFIX, SourceMapping
from tasks.core.sources import CASE_SYSTEM_TABLES, TABLES, SourceTable

FILE_SUFFIXES = (".csv", ".xlsx")
YES = {"y", "yes", "1", "true"}
NO = {"n", "no", "0", "false"}


class ExtractError(ValueError):
    """Bad input: the message names the source, table, column and example rows."""


@dataclass
class ExtractIssue:
    """Something wrong with one table as read. `rule` names the check; `row_ids` holds
    up to the first 10 ids of the rows concerned (ids only: never the values)."""

    rule: str
    message: str
    column: str | None = None
    row_count: int = 0
    row_ids: list[str] = field(default_factory=list)
    blocks_table: bool = False  # True when the table as a whole cannot be used


@dataclass
class Extract:
    """One table as read: the conformed rows and where they came from."""

    table: str
    frame: pd.DataFrame
    source_name: str
    sha256: str
    raw_bytes: bytes | None = None
    suffix: str = ".csv"
    issues: list[ExtractIssue] = field(default_factory=list)
    modified_at: datetime | None = None  # the file's modification time, when a file

    @property
    def usable(self) -> bool:
        return not any(issue.blocks_table for issue in self.issues)


def is_database_url(source: str) -> bool:
    """A database URL, or `secret:<block>` naming the Secret block that holds one."""
    return "://" in str(source) or str(source).startswith(SECRET_SOURCE_PREFIX)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- reading --------------------------------------------------------------------

def extract_sources(source: str, mappings: dict[str, SourceMapping] | None = None,
                    required: list[str] | None = None, strict: bool = True) -> dict[str, Extract]:
    """Read every contract table the source has; fail clearly when a required one is absent.

    With strict=False bad input does not raise: see the module docstring."""
    mappings = mappings or {}
    required = CASE_SYSTEM_TABLES if required is None else required
    if is_database_url(source):
        return _extract_database(source, mappings, required, strict)
    return _extract_folder(Path(source), mappings, required, strict)


def unreadable_extract(source: SourceTable, source_name: str, issue: ExtractIssue,
                       data: bytes | None = None, suffix: str = ".csv",
                       modified_at: datetime | None = None) -> Extract:
    """A table that could not be read at all: no rows, and the issue that blocks it."""
    issue.blocks_table = True
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in source.column_names})
    return Extract(source.name, frame, source_name, sha256_of(data) if data is not None else "",
                   data, suffix, [issue], modified_at)


def _extract_folder(folder: Path, mappings, required, strict: bool) -> dict[str, Extract]:
    if not folder.is_dir():
        raise ExtractError(f"source folder not found: {folder}")
    files = {p.stem.lower(): p for p in sorted(folder.iterdir())
             if p.suffix.lower() in FILE_SUFFIXES and not p.name.startswith(("~$", "."))}
    missing = [t for t in required if t not in files]
    if missing and strict:
        raise ExtractError(
            f"source {folder}: missing file for table(s) {', '.join(missing)} "
            f"(expected one of {', '.join(t + '.csv' for t in missing[:3])} or .xlsx)")
    others = {p.stem.lower(): p.name for p in folder.iterdir() if p.suffix.lower() not in FILE_SUFFIXES}
    extracts = {}
    for name, source_table in TABLES.items():
        if name in files:
            extracts[name] = _read_file(files[name], source_table, mappings.get(name), strict)
        elif name in missing:
            found = f"; found {others[name]}, which is not CSV or XLSX" if name in others else ""
            extracts[name] = unreadable_extract(source_table, "(no file)", ExtractIssue(
                "file_present", f"source {folder}: missing file for table {name} "
                                f"(expected {name}.csv or {name}.xlsx{found})"))
    return extracts


def _read_file(path: Path, source: SourceTable, mapping: SourceMapping | None,
               strict: bool = True) -> Extract:
    data = path.read_bytes()
    suffix = path.suffix.lower()
    modified_at = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    label = f"source {path.parent}, table {source.name} ({path.name})"

    def unreadable(rule: str, message: str) -> Extract:
        if strict:
            raise ExtractError(f"{label}: {message}")
        return unreadable_extract(source, path.name, ExtractIssue(rule, f"{label}: {message}"),
                                  data, suffix, modified_at)

    if not data.strip():
        return unreadable("file_not_empty", "the file is empty")
    try:
        if suffix == ".xlsx":
            if not zipfile.is_zipfile(io.BytesIO(data)):
                return unreadable("file_readable", "not a readable Excel workbook: the .xlsx file is "
                                  "corrupt or not an Excel file (it is not a valid zip package)")
            raw = read_xlsx(data, source, mapping)
        else:
            encoding = _encoding_of(data)
            if encoding is None:
                return unreadable("file_encoding", _encoding_problem(data))
            truncated = _truncated_last_row(data, encoding)
            if truncated:
                return unreadable("file_complete", truncated)
            raw = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False,
                              na_values=[""], encoding=encoding, sep=_separator_of(data, encoding))
    except (ValueError, pd.errors.ParserError, OSError, KeyError, zipfile.BadZipFile) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if "EOF" in reason:
            return unreadable("file_complete", f"the file ends inside a quoted value (truncated?): {reason}")
        return unreadable("file_readable", f"cannot be read: {reason}")
    issues = None if strict else []
    frame = conform(source, apply_mapping(raw, mapping), label, issues=issues,
                    date_formats=mapping.date_formats if mapping else None)
    return Extract(source.name, frame, path.name, sha256_of(data), data, suffix,
                   list(issues or []), modified_at)


def _truncated_last_row(data: bytes, encoding: str) -> str | None:
    """A file cut mid-row: it does not end with a line break and its last row has fewer
    fields than its header."""
    text = data.decode(encoding, errors="replace")
    if text.endswith(("\n", "\r")):
        return None
    lines = text.splitlines()
    if len(lines) < 2:
        return None
    try:
        header = next(csv.reader([lines[0].lstrip("\ufeff")]))
        last = next(csv.reader([lines[-1]]))
    except (csv.Error, StopIteration):
        return None
    if len(last) < len(header):
        return (f"the file is truncated: its last line (line {len(lines)}) stops after "
                f"{len(last)} of {len(header)} columns and has no line break")
    return None


def read_xlsx(data: bytes, source: SourceTable, mapping: SourceMapping | None) -> pd.DataFrame:
    """The first sheet, with merged cells filled with their value and the header found
    below any title rows: the first of the top 20 rows naming most contract columns."""
    workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    sheet = workbook.worksheets[0]
    merged = [(r.min_row, r.min_col, r.max_row, r.max_col) for r in sheet.merged_cells.ranges]
    for top, left, bottom, right in merged:
        value = sheet.cell(top, left).value
        sheet.unmerge_cells(start_row=top, start_column=left, end_row=bottom, end_column=right)
        for row in range(top, bottom + 1):
            for column in range(left, right + 1):
                sheet.cell(row, column).value = value
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    workbook.close()
    if not rows:
        raise ValueError("the first sheet is empty")
    header_at = _header_row(rows[:20], source, mapping)
    header = [str(v).strip() if v is not None else f"unnamed_{i}" for i, v in enumerate(rows[header_at])]
    body = [r for r in rows[header_at + 1:] if any(v is not None and str(v).strip() for v in r)]
    return pd.DataFrame(body, columns=header, dtype=object)


def _header_row(rows: list[list], source: SourceTable, mapping: SourceMapping | None) -> int:
    known = {c.lower() for c in source.column_names}
    renamed = {k.strip().lower(): v for k, v in (mapping.columns if mapping else {}).items()}

    def matches(row) -> int:
        names = {str(v).strip().lower() for v in row if v is not None}
        return sum(1 for n in names if n in known or renamed.get(n, "").lower() in known)
    scores = [matches(row) for row in rows]
    best = max(scores)
    return scores.index(best) if best else 0


def _separator_of(data: bytes, encoding: str) -> str:
    """A comma, unless the header has none but semicolons or tabs (European Excel, 'text')."""
    header = data[:4096].decode(encoding, errors="replace").splitlines()[0]
    if "," in header:
        return ","
    return max([";", "\t", "|"], key=header.count) if any(s in header for s in ";\t|") else ","


def _encoding_of(data: bytes) -> str | None:
    """UTF-16 with its BOM (Excel's 'Unicode text'); UTF-8 (with or without BOM) when it
    decodes; else Windows-1252 (Excel's 'CSV'). None for what is not text in one of these:
    NUL bytes (binary data, or UTF-16 without its byte-order mark) or bytes Windows-1252
    does not define (see _encoding_problem)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if b"\x00" in data:
        return None
    try:
        data.decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    try:
        data.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return None


def _encoding_problem(data: bytes) -> str:
    """What is wrong with a file that is not text in a known encoding."""
    head = data[:4096]
    zeros_at_odd, zeros_at_even = head[1::2].count(0), head[0::2].count(0)
    if max(zeros_at_odd, zeros_at_even) > len(head) // 4 and min(zeros_at_odd, zeros_at_even) < len(head) // 40:
        endian = "little" if zeros_at_odd > zeros_at_even else "big"
        return (f"the file is UTF-16 ({endian}-endian) text without a byte-order mark; save it as "
                f"CSV UTF-8 (or Unicode text with its byte-order mark)")
    if b"\x00" in data:
        return (f"the file is binary, not text (a NUL byte at position {data.index(0)}): not a CSV in "
                f"UTF-8, Windows-1252 or UTF-16")
    try:
        data.decode("cp1252")
    except UnicodeDecodeError as error:
        return (f"the file is not text in UTF-8, Windows-1252 or UTF-16: byte 0x{data[error.start]:02x} "
                f"at position {error.start} is undefined in each")
    return "the file's encoding is not UTF-8, Windows-1252 or UTF-16"


def _extract_database(url: str, mappings, required, strict: bool = True) -> dict[str, Extract]:
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        present = {name.lower(): name for name in inspector.get_table_names()
                   + inspector.get_view_names()}
        missing = [t for t in required if t not in present]
        if missing and strict:
            raise ExtractError(f"database source: table(s) {', '.join(missing)} not found")
        extracts = {}
        for name, source_table in TABLES.items():
            if name in missing:
                extracts[name] = unreadable_extract(source_table, f"{name} (database)", ExtractIssue(
                    "table_present", f"database source: table {name} not found "
                                     f"(nor a view of that name)"))
            if name not in present:
                continue
            reflected = sa.Table(present[name], sa.MetaData(), autoload_with=engine)
            with engine.connect() as connection:
                result = connection.execute(sa.select(reflected))
                raw = pd.DataFrame(result.fetchall(), columns=list(result.keys()), dtype=object)
            label = f"database source, table {name}"
            issues = None if strict else []
            mapping = mappings.get(name)
            frame = conform(source_table, apply_mapping(raw, mapping), label, issues=issues,
                            date_formats=mapping.date_formats if mapping else None)
            dump = raw.to_csv(index=False).encode("utf-8")
            extracts[name] = Extract(name, frame, f"{name} (database)", sha256_of(dump), dump,
                                     issues=list(issues or []))
        return extracts
    finally:
        engine.dispose()


# --- mapping and conforming ---------------------------------------------------------

def apply_mapping(raw: pd.DataFrame, mapping: SourceMapping | None) -> pd.DataFrame:
    """Rename an LA's export columns onto the contract and recode values."""
    raw = raw.rename(columns=lambda c: str(c).strip())
    if mapping is None:
        return raw
    raw = raw.rename(columns=mapping.columns)
    for column, recode in mapping.values.items():
        if column in raw.columns:
            raw[column] = raw[column].map(lambda v: recode.get(str(v).strip(), v) if pd.notna(v) else v)
    return raw


def conform(source: SourceTable, raw: pd.DataFrame, label: str | None = None,
            issues: list[ExtractIssue] | None = None,
            date_formats: dict[str, str] | None = None) -> pd.DataFrame:
    """Check the columns and convert each to its contract type.

    Without `issues` bad input raises ExtractError. With a list, what is wrong is
    appended to it instead: a missing column becomes an empty one (and blocks the
    table), an unreadable date or number becomes empty (and is reported by validation)."""
    label = label or f"table {source.name}"
    raw = raw.rename(columns=lambda c: str(c).strip().lower())
    missing = [c for c in source.required_columns if c not in raw.columns]
    if missing:
        message = f"{label}: missing column(s) {', '.join(missing)}; " \
                  f"found {', '.join(map(str, raw.columns[:12]))}{_renamed_hint(missing, raw.columns, source)}"
        if issues is None:
            raise ExtractError(message)
        issues.append(ExtractIssue("required_columns", message, ", ".join(missing),
                                   blocks_table=True))
    frame = pd.DataFrame(index=raw.index)
    context = _Context(label, raw, source, issues, dict(date_formats or {}))
    for column in source.columns:
        values = raw[column.name] if column.name in raw.columns else pd.Series(None, index=raw.index, dtype=object)
        frame[column.name] = CONVERTERS[column.type](values, context, column.name)
    return frame.reset_index(drop=True)


def _renamed_hint(missing: list[str], found, source: SourceTable) -> str:
    """'; header 'pers_date_of_birth' may be pers_dob renamed' for a header outside the
    contract that resembles a missing column (or is the only candidate for the only one)."""
    unknown = [str(c) for c in found if str(c) not in source.column_names]
    hints = []
    for column in missing:
        close = difflib.get_close_matches(column, unknown, n=1, cutoff=0.5)
        if not close and len(missing) == 1 and len(unknown) == 1:
            close = unknown
        if close:
            hints.append(f"header {close[0]!r} may be {column} renamed")
    if not hints:
        return ""
    return "; " + "; ".join(hints) + " (map it under [mapping.<table>.columns] in the configuration)"


@dataclass
class _Context:
    label: str
    raw: pd.DataFrame
    source: SourceTable
    issues: list[ExtractIssue] | None
    date_formats: dict[str, str] = field(default_factory=dict)  # column: day_first | month_first

    def ids_of(self, bad: pd.Series) -> list[str]:
        id_column = self.source.id_column
        if id_column not in self.raw:
            return [f"row {i + 2}" for i in bad[bad].index[:10]]
        return [str(v) if v is not None and str(v).strip() else f"row {i + 2}"
                for i, v in self.raw.loc[bad, id_column].head(10).items()]

    def bad_values(self, rule: str, column: str, what: str, values: pd.Series,
                   bad: pd.Series) -> None:
        ids = self.ids_of(bad)
        if self.issues is None:
            raise ExtractError(
                f"{self.label}, column {column}: {what} {', '.join(map(repr, values[bad].head(5)))}"
                f" in row(s) with {self.source.id_column} {', '.join(ids[:5])}")
        self.issues.append(ExtractIssue(
            rule, f"{self.label}, column {column}: {int(bad.sum())} {what}", column,
            int(bad.sum()), ids))


def _text(values: pd.Series, *_):
    """Stripped text; blank is missing (_as_mapped). One pass over the cells: plain strings
    (every cell of a CSV) are stripped inline; anything else (Excel, database) goes
    through _clean."""
    return _as_mapped([v.strip() or None if type(v) is str else _clean(v)
                       for v in values.to_numpy(dtype=object)], values)


def _clean(v):
    if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NaT:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)  # an id read from Excel as 12.0
    text = str(v).strip()
    return text or None


def _as_mapped(cells: list, values: pd.Series) -> pd.Series:
    """The cells as `Series.map` returns them, which the figures were computed from: as
    object, with a missing value NaN when the column has some text, None when it has none."""
    return pd.Series(cells, index=values.index, name=values.name).astype(object)


def _flag(values: pd.Series, *_):
    """Y/N as kpis.md decides; any other value is kept as it is ("not Y")."""
    text = _text(values)
    codes, distinct = pd.factorize(text.to_numpy(dtype=object))  # a flag has a handful of values
    normalised = np.array([_normalised_flag(v) for v in distinct] + [None], dtype=object)
    return _as_mapped(normalised[codes].tolist(), text)  # code -1 (missing) takes the None


def _normalised_flag(text: str) -> str:
    lowered = text.lower()
    return "Y" if lowered in YES else "N" if lowered in NO else text


def _number(values: pd.Series, context: _Context, column: str):
    """A decimal; text that is not a finite number (`abc`, `inf`, `nan`) is reported and
    left empty. Out-of-range numbers are the suites' `ranges` rules."""
    text = _text(values)
    numbers = pd.to_numeric(text, errors="coerce")
    bad = text.notna() & (numbers.isna() | numbers.isin([float("inf"), float("-inf")]))
    if bad.any():
        context.bad_values("numbers_parseable", column, "value(s) not a finite number", text, bad)
        numbers = numbers.mask(bad)
    return numbers


# Numeric dates are read in one order per column, never guessed value by value: the mapping's
# `date_formats`, else the order that the values which can be read only one way show,
# else UK day-first. Month-first is detected only when at least this share of the column's
# dates, and at least two of them, can only be month-first (and none only day-first): one
# 11/25/2026 typed into a UK or ISO column is reported, it does not turn the column round.
DATE_ORDERS = ("day_first", "month_first")
MONTH_FIRST_EVIDENCE = 0.1
ISO_DATE = r"^\d{4}-\d{1,2}-\d{1,2}(?:[ T].*)?$"
NUMERIC_DATE = r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"


def _date(values: pd.Series, context: _Context, column: str):
    """ISO dates (with or without a time); numeric dates (05/03/2024) in the column's one
    order (DATE_ORDERS); dates with a month name (3 March 2024); Excel dates as they are.
    Anything else, or a value not valid in its form (2026-13-01, 31/02/2024), is reported.

    A column repeats its dates many times over: each distinct written value is read once."""
    cells = values.to_numpy(dtype=object)
    written = _strings_among(values, cells)
    parsed, bad = np.full(len(cells), None, dtype=object), np.zeros(len(cells), dtype=bool)
    native = [_native_date(v) for v in cells[~written]]
    parsed[~written], bad[~written] = native, [v is _UNPARSEABLE for v in native]
    codes, distinct = pd.factorize(cells[written])
    rows = np.bincount(codes, minlength=len(distinct))
    dates, unreadable, order, how = _written_dates(
        pd.Series(distinct, dtype=object), rows, context.date_formats.get(column), column)
    parsed[written], bad[written] = dates[codes], unreadable[codes]
    if bad.any():
        bad = pd.Series(bad, index=values.index)
        context.bad_values("dates_parseable", column,
                           f"unparseable date(s): not valid in the column's formats (ISO 2024-03-05; "
                           f"numeric dates {order.replace('_', '-')}: {how}; or with the month's name)",
                           values, bad)
        parsed[bad.to_numpy()] = None
    return pd.Series(parsed, index=values.index, dtype=object)


def _strings_among(values: pd.Series, cells: np.ndarray) -> np.ndarray:
    """Which cells are strings: every filled cell of a CSV's (string-typed) column."""
    if isinstance(values.dtype, pd.StringDtype):
        return values.notna().to_numpy(dtype=bool)
    return np.fromiter((isinstance(v, str) for v in cells), dtype=bool, count=len(cells))


def _written_dates(written: pd.Series, rows: np.ndarray, configured: str | None,
                   column: str) -> tuple[np.ndarray, np.ndarray, str, str]:
    """(dates, unreadable, order, why) of a column's distinct written values, `rows`
    holding each: blank is no date; a date that cannot be read is None and unreadable."""
    text = written.str.strip()
    is_text = (text != "").to_numpy(dtype=bool)
    parsed = pd.Series([None] * len(text), dtype=object)
    strings = text[is_text].astype(str)
    iso = strings.str.match(ISO_DATE)
    parsed[iso[iso].index] = _dates_of(pd.to_datetime(strings[iso], format="ISO8601", errors="coerce"))
    parts = strings[~iso].str.extract(NUMERIC_DATE).dropna()
    order, how = _date_order(parts, rows[parts.index], int(rows[is_text].sum()), configured, column)
    if len(parts):
        first, second, year = (parts[i].astype(int) for i in range(3))
        day, month = (first, second) if order == "day_first" else (second, first)
        parsed[parts.index] = _dates_of(pd.to_datetime(
            pd.DataFrame({"year": year, "month": month, "day": day}), errors="coerce"))
    words = strings[~iso & ~strings.index.isin(parts.index) & strings.str.contains(r"[A-Za-z]{3}")]
    parsed[words.index] = words.map(_date_in_words)
    unreadable = is_text & parsed.isna().to_numpy()
    parsed[unreadable] = None
    return parsed.to_numpy(dtype=object), unreadable, order, how


def _date_order(parts: pd.DataFrame, rows: np.ndarray, dates: int, configured: str | None,
                column: str) -> tuple[str, str]:
    """(order, why) of a column's numeric dates (`parts`: first, second, year of each
    distinct value, `rows` holding it) among its `dates` written dates (ISO ones included)."""
    if configured:
        if configured not in DATE_ORDERS:
            raise ExtractError(f"date format {configured!r} for {column}: use one of {', '.join(DATE_ORDERS)}")
        return configured, "set in the mapping"
    if not len(parts):
        return "day_first", "the UK default"
    first, second = parts[0].astype(int).to_numpy(), parts[1].astype(int).to_numpy()
    day_only = int(rows[(first > 12) & (second <= 12)].sum())
    month_only = int(rows[(second > 12) & (first <= 12)].sum())
    if day_only and month_only:
        order = "month_first" if month_only > day_only else "day_first"
        return order, (f"the column mixes {day_only} value(s) that can only be day-first and "
                       f"{month_only} that can only be month-first; set [mapping.<table>.date_formats]")
    if month_only >= max(2, MONTH_FIRST_EVIDENCE * dates):
        return "month_first", f"detected from {month_only} value(s) that can only be month-first"
    if day_only:
        return "day_first", f"detected from {day_only} value(s) that can only be day-first"
    return "day_first", "the UK default"


def _dates_of(stamps: pd.Series) -> list:
    return [d.date() if pd.notna(d) else None for d in stamps]


def _native_date(v):
    """An Excel or database date or datetime (None when empty; anything else, such as a
    number, is not a date)."""
    if v is None or v is pd.NaT or (isinstance(v, float) and pd.isna(v)) or v == "":
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    return _UNPARSEABLE


def _date_in_words(text: str):
    try:
        return pd.to_datetime(text, dayfirst=True, format="mixed").date()
    except (ValueError, TypeError, OverflowError):
        return None


_UNPARSEABLE = object()
CONVERTERS = {"id": _text, "text": _text, "flag": _flag, "number": _number, "date": _date}


# --- archiving ----------------------------------------------------------------------

def archive_extracts(extracts: dict[str, Extract], archive_dir: Path, run_id: str) -> list[dict]:
    """Copy what was read under archive/<run_id>/, readable by its owner only (tasks/extract/archive.py),
    and return the manifest."""
    from tasks.extract.archive import private_folder, seal_file
    private_folder(Path(archive_dir))
    target = private_folder(Path(archive_dir) / run_id)
    manifest = []
    for name, extract in sorted(extracts.items()):
        if extract.raw_bytes is None and not extract.sha256:
            continue  # nothing was read: a missing file or table
        path = target / f"{name}{extract.suffix}"
        if extract.raw_bytes is not None:
            path.write_bytes(extract.raw_bytes)
            seal_file(path)
        manifest.append({"table_name": name, "source_name": extract.source_name,
                         "sha256": extract.sha256, "row_count": len(extract.frame),
                         "archived_path": str(path)})
    checksums = "".join(f"{m['sha256']}  {Path(m['archived_path']).name}\n" for m in manifest)
    (target / "SHA256SUMS").write_text(checksums, encoding="utf-8")
    seal_file(target / "SHA256SUMS")
    return manifest
