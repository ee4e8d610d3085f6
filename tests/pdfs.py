"""Reading a published PDF back as its reader sees it: pages, page size and text (pypdf)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader

A4_POINTS = (595, 842)


@dataclass(frozen=True)
class PdfContent:
    pages: int
    text: str
    page_sizes: list[tuple[int, int]]

    @property
    def a4_portrait(self) -> bool:
        return all(size == A4_POINTS for size in self.page_sizes)

    @property
    def a4_landscape(self) -> bool:
        return all(size == A4_POINTS[::-1] for size in self.page_sizes)


def read_pdf(path: Path) -> PdfContent:
    reader = PdfReader(path)
    sizes = [(round(float(page.mediabox.width)), round(float(page.mediabox.height))) for page in reader.pages]
    text = "\n".join(page.extract_text() for page in reader.pages)
    return PdfContent(pages=len(reader.pages), text=" ".join(text.split()), page_sizes=sizes)
