"""SQL files that read other SQL files (sql/README.md, "Shared rows").

A query may name another SQL file, without `.sql`, as a table: `from cp_plans_open`
(a shared rule in sql/common/) or `from saf13_cp_visits_10wd` (a KPI's rows, which its
exception list DD04 filters). `query` returns the runnable text: the named files, and
those they name, prepended as CTEs of those names, each once and before its readers.
A view could not take the period's bound parameters; a CTE binds them like the rest.
A SQL file outside sql/ (a registry kept elsewhere, `[kpis] registry`) reads the files of
its own folder first, then sql/'s.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from tasks.core.paths import SQL_DIR
from tasks.warehouse.database import strip_comment_lines

READ = re.compile(r"\b(?:from|join)\s+([a-z_][a-z0-9_]*)", re.IGNORECASE)
LEADING_WITH = re.compile(r"^\s*with\s", re.IGNORECASE)


def sql_files(folder: Path = SQL_DIR) -> dict[str, Path]:
    """{file stem: path} of every SQL file below `folder`; a stem names one file only.
    A folder outside sql/ adds its files to sql/'s (its own win on a shared name)."""
    files: dict[str, Path] = {}
    for path in sorted(Path(folder).rglob("*.sql")):
        if path.stem in files:
            raise ValueError(f"two SQL files are named {path.stem}: {files[path.stem]}, {path}")
        files[path.stem] = path
    if Path(folder).resolve() != SQL_DIR.resolve():
        return {**sql_files(SQL_DIR), **files}
    return files


def _files_for(path: Path) -> dict[str, Path]:
    """The SQL files `path` may read by name: sql/'s, plus its folder's when outside sql/."""
    folder = Path(path).resolve().parent
    return sql_files() if folder.is_relative_to(SQL_DIR.resolve()) else sql_files(folder)


def query(path: Path) -> str:
    """The text of a SQL file (comment lines dropped) with the SQL files it reads as CTEs."""
    text = _code(path)
    files = _files_for(path)
    ctes = [f"{name} as (\n{textwrap.indent(_code(files[name]), '    ')}\n)"
            for name in _reads(path, (), files)]
    if not ctes:
        return text
    shared = ",\n\n".join(ctes)
    if LEADING_WITH.match(text):
        return LEADING_WITH.sub(lambda _: f"with {shared},\n\n", text, count=1)
    return f"with {shared}\n\n{text}"


def _code(path: Path) -> str:
    return strip_comment_lines(path.read_text(encoding="utf-8")).strip()


def _reads(path: Path, readers: tuple[str, ...], files: dict[str, Path]) -> list[str]:
    """The stems of the SQL files `path` reads, directly or not, each after those it reads."""
    code = _code(path)
    order: list[str] = []
    for name in dict.fromkeys(m.group(1).lower() for m in READ.finditer(code)):
        if name not in files or name == path.stem:
            continue
        if name in readers:
            raise ValueError(f"{path.name} reads itself through {' -> '.join((*readers, name))}")
        if re.search(rf"\b{name}\s+as\s*\(", code, re.IGNORECASE):
            raise ValueError(f"{path.name} defines a CTE {name}, the name of sql file {files[name]}")
        for needed in (*_reads(files[name], (*readers, path.stem), files), name):
            if needed not in order:
                order.append(needed)
    return order
