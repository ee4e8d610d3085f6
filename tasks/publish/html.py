"""The HTML and PDF kit shared by every report and the Directorate PDF: the Jinja2
environment over report_templates/, small inline SVG charts, and PDF rendering with
WeasyPrint."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from tasks.core.paths import TEMPLATES_DIR
from tasks.publish.csv_files import write_bytes_atomically
from tasks.publish.detail import detail_keyword, html_level
from tasks.publish.style import RAG_FILLS
from tasks.publish.suppression import SYMBOLS


def template_environment() -> Environment:
    environment = Environment(loader=FileSystemLoader(TEMPLATES_DIR),
                              autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    environment.globals["rag_colours"] = {status: f"#{colour}" for status, colour in RAG_FILLS.items()}
    environment.globals["suppressed_symbols"] = SYMBOLS
    return environment


def line_chart_svg(labels: list[str], values: list[float | None], title: str, target: float | None = None,
                   percent: bool = True, width: int = 300, height: int = 140) -> Markup:
    """A small line chart: gaps where a value is missing or suppressed; dashed target line."""
    left, right, top, bottom = 34, 8, 20, 20
    plot_w, plot_h = width - left - right, height - top - bottom
    known = [v for v in values if v is not None] + ([target] if target is not None else [])
    y_max = 100.0 if percent else max(known + [1.0]) * 1.15
    step = plot_w / max(len(values) - 1, 1)

    def x(i):
        return left + i * step

    def y(v):
        return top + plot_h - (v / y_max) * plot_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
             f'<text x="{left}" y="11" font-size="10" font-weight="bold">{escape(title)}</text>']
    for tick in (0, y_max / 2, y_max):
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                     f'stroke="#ddd" stroke-width="0.6"/>')
        label = f"{tick:.0f}%" if percent else f"{tick:.0f}"
        parts.append(f'<text x="{left - 3}" y="{y(tick) + 3:.1f}" font-size="8" text-anchor="end">{label}</text>')
    if target is not None:
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(target):.1f}" y2="{y(target):.1f}" '
                     f'stroke="#666" stroke-dasharray="3,2" stroke-width="0.8"/>')
        parts.append(f'<text x="{left + 2}" y="{y(target) + 9:.1f}" font-size="7.5" fill="#444">'
                     f'target {target:g}{"%" if percent else ""}</text>')
    for segment in _segments(values):
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in segment)
        parts.append(f'<polyline points="{points}" fill="none" stroke="#1f4e79" stroke-width="1.5"/>')
    for i, v in enumerate(values):
        if v is not None:
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="1.8" fill="#1f4e79"/>')
    last = len(labels) - 1
    for i in sorted({0, len(labels) // 2, last}):
        anchor = "start" if i == 0 else "end" if i == last else "middle"
        parts.append(f'<text x="{x(i):.1f}" y="{height - 5}" font-size="8" text-anchor="{anchor}">'
                     f'{escape(labels[i])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _segments(values: list[float | None]) -> list[list[tuple[int, float]]]:
    segments, current = [], []
    for i, v in enumerate(values):
        if v is None:
            if current:
                segments.append(current)
            current = []
        else:
            current.append((i, v))
    return segments + ([current] if current else [])


def bar_chart_svg(bars: list[tuple[str, float | None, str]], title: str, width: int = 300,
                  height: int | None = None) -> Markup:
    """Horizontal bars (label, value, text shown at the bar's end); no bar when the
    value is None (missing or suppressed), only its text."""
    row_h, left, top = 18, 130, 20
    height = height or top + row_h * len(bars) + 4
    largest = max([v for _, v, _ in bars if v is not None] + [1])
    plot_w = width - left - 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
             f'<text x="0" y="12" font-size="10" font-weight="bold">{escape(title)}</text>']
    for index, (label, value, text) in enumerate(bars):
        y = top + index * row_h
        parts.append(f'<text x="{left - 4}" y="{y + 11}" font-size="9" text-anchor="end">{escape(label)}</text>')
        length = 0.0 if value is None else plot_w * value / largest
        if length:
            parts.append(f'<rect x="{left}" y="{y + 2}" width="{length:.1f}" height="{row_h - 5}" fill="#5b9bd5"/>')
        parts.append(f'<text x="{left + length + 3:.1f}" y="{y + 11}" font-size="9">{escape(text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def write_pdf(html: str, pdf_path: Path, max_pages: int | None = None) -> tuple[Path, int]:
    """Render with WeasyPrint and write atomically, uncompressed (so any PDF reader, or
    a plain byte search, can count its pages and read the level of detail of the HTML it
    is rendered from, stamped in its keywords); returns (path, page count). With
    `max_pages`, a longer document is not written."""
    document = render_pdf(html)
    pages = len(document.pages)
    if max_pages is not None and pages > max_pages:
        return Path(pdf_path), pages
    return write_rendered_pdf(document, html, pdf_path), pages


def render_pdf(html: str):
    """The WeasyPrint document of `html` (its pages), not yet written."""
    from weasyprint import HTML  # imported here: it loads the system's Pango library

    return HTML(string=html, base_url=str(TEMPLATES_DIR)).render()


def write_rendered_pdf(document, html: str, pdf_path: Path) -> Path:
    """A document rendered from `html` (render_pdf), written as write_pdf writes it."""
    # the detail of what it is rendered from, read by delivery (tasks/publish/detail.py)
    document.metadata.keywords = [*(document.metadata.keywords or []), detail_keyword(html_level(html))]
    pdf_bytes = document.write_pdf(uncompressed_pdf=True)
    return write_bytes_atomically(Path(pdf_path), pdf_bytes)
