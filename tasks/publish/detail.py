"""The detail a published file shows, read from the file itself: which column headers give
child-level rows or named staff away, and the level a PDF carries from the HTML it was
rendered from (stamped into its metadata by tasks.publish.html.write_pdf).

Delivery (tasks/operations/delivery.py) reads these before anything is sent: an output's
level is never taken on trust from its name."""

from __future__ import annotations

import re
from pathlib import Path

# the column headers that give an output's detail away (publishers write them)
# "example record ids": the Data quality sheet's failing rows, child records among them
CHILD_HEADERS = {"person id", "person_id", "child", "child id", "example record ids"}
STAFF_HEADERS = {"worker", "worker id", "worker_id", "auditor", "auditor id", "auditor_id"}
# the PDF metadata keyword that carries the level of the HTML a PDF was rendered from
DETAIL_KEYWORD = "qaloop-detail"
_STAMP = re.compile(rb"/Keywords \(([^)]*)\)")


def level_of_headers(headers: set[str]) -> str:
    if headers & CHILD_HEADERS:
        return "child"
    if headers & STAFF_HEADERS:
        return "staff"
    return "aggregate"


def html_level(html: str) -> str:
    """The level an HTML page shows: a table cell (or heading) that is exactly a child or
    staff header, spaces aside."""
    text = html.lower()
    return level_of_headers({h for h in CHILD_HEADERS | STAFF_HEADERS if re.search(rf">\s*{re.escape(h)}\s*<", text)})


def detail_keyword(level: str) -> str:
    return f"{DETAIL_KEYWORD}: {level}"


def pdf_level(path: Path) -> str | None:
    """The level stamped into a PDF written by write_pdf (uncompressed: its Info dictionary is
    plain bytes), or None for a PDF qaloop did not render."""
    found = _STAMP.findall(Path(path).read_bytes())
    for keywords in found:
        match = re.search(rf"{DETAIL_KEYWORD}: (\w+)", keywords.decode("latin-1"))
        if match:
            return match.group(1)
    return None
