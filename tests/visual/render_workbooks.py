"""Render published workbooks as their readers print them, and check the page counts.

    .venv/bin/python tests/visual/render_workbooks.py demo-output/2026-11 [--png DIR]

Each workbook is converted to PDF by LibreOffice headless (`soffice`, Debian package
`libreoffice-calc`), once whole and once per sheet (the other sheets hidden), and the
script prints the pages of each. It checks what issue 14 asks of print-outs: every sheet
is one page wide (each printed page of a sheet carries its last column's header, since
the header rows repeat on every page), and the Directorate Scorecard's Scorecard sheet
fits on at most 2 pages. With --png, page images (pdftoppm) are written for a look.
Exit status 1 when a check fails. Not part of `make test`: it needs LibreOffice.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from openpyxl import load_workbook
from pypdf import PdfReader

DIRECTORATE_MAX_PAGES = 2


def convert_to_pdf(workbooks: list[Path], out_dir: Path) -> list[Path]:
    """One LibreOffice start for all of them (each start takes seconds)."""
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(out_dir),
                    *map(str, workbooks)], check=True, capture_output=True, timeout=1800)
    return [out_dir / f"{workbook.stem}.pdf" for workbook in workbooks]


def sheet_only(workbook: Path, sheet_name: str, out_dir: Path) -> Path:
    """A copy of the workbook with every other sheet hidden (LibreOffice prints none of them).
    openpyxl drops charts on reading, which changes no page width or row."""
    book = load_workbook(workbook)
    for sheet in book.worksheets:
        sheet.sheet_state = "visible" if sheet.title == sheet_name else "hidden"
    book.active = book.sheetnames.index(sheet_name)
    copy = out_dir / f"{workbook.stem}__{_safe(sheet_name)}.xlsx"
    book.save(copy)
    return copy


def last_header(workbook: Path, sheet_name: str) -> str | None:
    sheet = load_workbook(workbook)[sheet_name]
    if not sheet.print_title_rows:
        return None
    header_row = int(sheet.print_title_rows.split(":")[-1].lstrip("$"))
    hidden = _hidden_columns(sheet)
    texts = [c.value for c in sheet[header_row] if isinstance(c.value, str) and c.column not in hidden]
    return texts[-1] if texts else None


def _hidden_columns(sheet) -> set[int]:
    """Folded (hidden) columns do not print; a dimension may span several columns."""
    return {column for dimension in sheet.column_dimensions.values() if dimension.hidden
            for column in range(dimension.min or 0, (dimension.max or 0) + 1)}


def check_workbook(workbook: Path, work: Path, png_dir: Path | None) -> list[str]:
    problems = []
    hidden = {s.title for s in load_workbook(workbook).worksheets if s.sheet_state != "visible"}
    sheets = [name for name in load_workbook(workbook, read_only=True).sheetnames if name not in hidden]
    copies = [sheet_only(workbook, name, work) for name in sheets]
    whole, *per_sheet = convert_to_pdf([workbook, *copies], work)
    print(f"{workbook.name}: {len(PdfReader(whole).pages)} pages in all")
    if png_dir:
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(whole), str(png_dir / workbook.stem)], check=True)
    for sheet_name, pdf in zip(sheets, per_sheet):
        pages = PdfReader(pdf).pages
        header = last_header(workbook, sheet_name)
        wide = [i + 1 for i, page in enumerate(pages)
                if header and _squashed(header) not in _squashed(page.extract_text() or "")]
        print(f"  {sheet_name:<28} {len(pages):>3} pages"
              + (f"; pages without the last column ({header!r}): {wide}" if wide else ""))
        if wide:
            problems.append(f"{workbook.name} / {sheet_name}: more than one page wide")
        if workbook.name.startswith("directorate") and sheet_name == "Scorecard" \
                and len(pages) > DIRECTORATE_MAX_PAGES:
            problems.append(f"{workbook.name} / Scorecard: {len(pages)} pages (at most {DIRECTORATE_MAX_PAGES})")
    return problems


def _squashed(text: str) -> str:
    """Text without whitespace: wrapped headers come out of the PDF split over lines."""
    return "".join(text.split())


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="a published folder, e.g. demo-output/2026-11")
    parser.add_argument("--png", type=Path, default=None, help="write page images here")
    args = parser.parse_args(argv)
    if shutil.which("soffice") is None:
        print("LibreOffice is not installed: apt-get install -y libreoffice-calc", file=sys.stderr)
        return 2
    if args.png:
        args.png.mkdir(parents=True, exist_ok=True)
    problems = []
    with tempfile.TemporaryDirectory() as work:
        for workbook in sorted(args.folder.glob("*.xlsx")):
            problems += check_workbook(workbook, Path(work), args.png)
    for problem in problems:
        print(f"FAIL: {problem}")
    print("all workbooks print as set up" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
