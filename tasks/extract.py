"""Extract: read the source tables from a drop folder (CSV or XLSX, one file per table)
or from a database through a SQLAlchemy URL, map them onto the contracts, and archive
exactly what was read, read-only, with its SHA-256 checksum.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from qaloop.settings import SourceMapping
from tasks.sources import CASE_SYSTEM_TABLES, TABLES, SourceTable

FILE_SUFFIXES = (".csv", ".xlsx")
YES = {"y", "yes", "1", "true"}
NO = {"n", "no", "0", "false"}


class ExtractError(ValueError):
    """Bad input: the message names the source, table, column and example rows."""


@dataclass
class Extract:
    """One table as read: the conformed rows and where they came from."""

    table: str
    frame: pd.DataFrame
    source_name: str
    sha256: str
    raw_bytes: bytes | None = None
    suffix: str = ".csv"


def is_database_url(source: str) -> bool:
    return "://" in str(source)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- reading --------------------------------------------------------------------

def extract_sources(source: str, mappings: dict[str, SourceMapping] | None = None,
                    required: list[str] | None = None) -> dict[str, Extract]:
    """Read every contract table the source has; fail clearly when a required one is absent."""
    mappings = mappings or {}
    required = CASE_SYSTEM_TABLES if required is None else required
    if is_database_url(source):
        return _extract_database(source, mappings, required)
    return _extract_folder(Path(source), mappings, required)


def _extract_folder(folder: Path, mappings, required) -> dict[str, Extract]:
    if not folder.is_dir():
        raise ExtractError(f"source folder not found: {folder}")
    files = {p.stem.lower(): p for p in sorted(folder.iterdir())
             if p.suffix.lower() in FILE_SUFFIXES and not p.name.startswith(("~$", "."))}
    missing = [t for t in required if t not in files]
    if missing:
        raise ExtractError(
            f"source {folder}: missing file for table(s) {', '.join(missing)} "
            f"(expected one of {', '.join(t + '.csv' for t in missing[:3])} or .xlsx)")
    extracts = {}
    for name, source_table in TABLES.items():
        if name in files:
            extracts[name] = _read_file(files[name], source_table, mappings.get(name))
    return extracts


def _read_file(path: Path, source: SourceTable, mapping: SourceMapping | None) -> Extract:
    data = path.read_bytes()
    label = f"source {path.parent}, table {source.name} ({path.name})"
    if not data.strip():
        raise ExtractError(f"{label}: the file is empty")
    try:
        if path.suffix.lower() == ".xlsx":
            raw = pd.read_excel(io.BytesIO(data), dtype=object, engine="openpyxl")
        else:
            raw = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False,
                              na_values=[""], encoding=_encoding_of(data))
    except (ValueError, pd.errors.ParserError) as error:
        raise ExtractError(f"{label}: cannot be read: {error}") from error
    frame = conform(source, apply_mapping(raw, mapping), label)
    return Extract(source.name, frame, path.name, sha256_of(data), data, path.suffix.lower())


def _encoding_of(data: bytes) -> str:
    """UTF-8 (with or without BOM) when it decodes, else Windows-1252 (Excel's 'CSV')."""
    try:
        data.decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "cp1252"


def _extract_database(url: str, mappings, required) -> dict[str, Extract]:
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        present = {name.lower(): name for name in inspector.get_table_names()
                   + inspector.get_view_names()}
        missing = [t for t in required if t not in present]
        if missing:
            raise ExtractError(f"database source: table(s) {', '.join(missing)} not found")
        extracts = {}
        for name, source_table in TABLES.items():
            if name not in present:
                continue
            reflected = sa.Table(present[name], sa.MetaData(), autoload_with=engine)
            with engine.connect() as connection:
                result = connection.execute(sa.select(reflected))
                raw = pd.DataFrame(result.fetchall(), columns=list(result.keys()), dtype=object)
            label = f"database source, table {name}"
            frame = conform(source_table, apply_mapping(raw, mappings.get(name)), label)
            dump = frame.to_csv(index=False).encode("utf-8")
            extracts[name] = Extract(name, frame, f"{name} (database)", sha256_of(dump), dump)
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


def conform(source: SourceTable, raw: pd.DataFrame, label: str | None = None) -> pd.DataFrame:
    """Check the columns and convert each to its contract type."""
    label = label or f"table {source.name}"
    raw = raw.rename(columns=lambda c: str(c).strip().lower())
    missing = [c for c in source.required_columns if c not in raw.columns]
    if missing:
        raise ExtractError(f"{label}: missing column(s) {', '.join(missing)}; "
                           f"found {', '.join(map(str, raw.columns[:12]))}")
    frame = pd.DataFrame(index=raw.index)
    for column in source.columns:
        values = raw[column.name] if column.name in raw.columns else pd.Series(None, index=raw.index, dtype=object)
        frame[column.name] = CONVERTERS[column.type](values, label, column.name, raw, source)
    return frame.reset_index(drop=True)


def _text(values: pd.Series, *_):
    def clean(v):
        if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NaT:
            return None
        if isinstance(v, float) and v.is_integer():
            v = int(v)  # an id read from Excel as 12.0
        text = str(v).strip()
        return text or None
    return values.map(clean).astype(object)


def _flag(values: pd.Series, *_):
    """Y/N as kpis.md decides; any other value is kept as it is ("not Y")."""
    def normalise(v):
        if v is None or pd.isna(v):
            return None
        lowered = v.lower()
        return "Y" if lowered in YES else "N" if lowered in NO else v
    return _text(values).map(normalise).astype(object)


def _number(values: pd.Series, label, column, *_):
    text = _text(values)
    numbers = pd.to_numeric(text, errors="coerce")
    bad = text.notna() & numbers.isna()
    if bad.any():
        raise ExtractError(f"{label}, column {column}: not a number: "
                           f"{', '.join(map(repr, text[bad].head(5)))}")
    return numbers


def _date(values: pd.Series, label, column, raw, source):
    """ISO dates (with or without a time), or UK day-first dates; Excel dates as they are."""
    def parse(v):
        if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NaT:
            return None
        if hasattr(v, "date") and not isinstance(v, str):
            return v.date() if callable(v.date) else v
        text = str(v).strip()
        if not text:
            return None
        for fmt, dayfirst in (("ISO8601", False), (None, True)):
            try:
                parsed = pd.to_datetime(text, format=fmt, dayfirst=dayfirst) if fmt else \
                    pd.to_datetime(text, dayfirst=True, format="mixed")
                return parsed.date()
            except (ValueError, TypeError, OverflowError):
                continue
        return _UNPARSEABLE
    parsed = values.map(parse)
    bad = parsed.map(lambda v: v is _UNPARSEABLE)
    if bad.any():
        ids = raw.loc[bad, source.id_column].head(5).tolist() if source.id_column in raw else []
        raise ExtractError(
            f"{label}, column {column}: unparseable date(s) {', '.join(map(repr, values[bad].head(5)))}"
            f" in row(s) with {source.id_column} {', '.join(map(str, ids))}")
    return parsed.astype(object)


_UNPARSEABLE = object()
CONVERTERS = {"id": _text, "text": _text, "flag": _flag, "number": _number, "date": _date}


# --- archiving ----------------------------------------------------------------------

def archive_extracts(extracts: dict[str, Extract], archive_dir: Path, run_id: str) -> list[dict]:
    """Copy what was read under archive/<run_id>/, read-only, and return the manifest."""
    target = Path(archive_dir) / run_id
    target.mkdir(parents=True, exist_ok=True)
    manifest = []
    for name, extract in sorted(extracts.items()):
        path = target / f"{name}{extract.suffix}"
        if extract.raw_bytes is not None:
            path.write_bytes(extract.raw_bytes)
            os.chmod(path, stat.S_IRUSR | stat.S_IRGRP)
        manifest.append({"table_name": name, "source_name": extract.source_name,
                         "sha256": extract.sha256, "row_count": len(extract.frame),
                         "archived_path": str(path)})
    checksums = "".join(f"{m['sha256']}  {Path(m['archived_path']).name}\n" for m in manifest)
    (target / "SHA256SUMS").write_text(checksums, encoding="utf-8")
    os.chmod(target / "SHA256SUMS", stat.S_IRUSR | stat.S_IRGRP)
    return manifest


def remove_archive(archive_dir: Path, run_id: str) -> None:
    """Used by tests only: archives are read-only by design."""
    target = Path(archive_dir) / run_id
    for path in target.glob("*"):
        os.chmod(path, stat.S_IWUSR | stat.S_IRUSR)
    shutil.rmtree(target, ignore_errors=True)
