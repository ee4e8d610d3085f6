"""Figure ids of kpi_values.csv, built and parsed in one place (kpis.md, "Identifiers").

A headline figure has its bare KPI id (`SAF07`); the others are `ID:name` or
`ID:dimension=value`, joined by ":" (`QA03:theme=Neglect:grade=Good`). A breakdown value
taken from the data is written with `%`, `:`, `=` and `/` percent-encoded (`%25`, `%3A`,
`%3D`, `%2F`), so that any text (`=1+1`, `a:b`, `Neglect/abuse`) makes one unambiguous
id; values without those characters are written as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

# "%" first when encoding, last when decoding, so that an encoded value round-trips
ENCODED = (("%", "%25"), (":", "%3A"), ("=", "%3D"), ("/", "%2F"))


def encode_value(value) -> str:
    text = str(value)
    for character, code in ENCODED:
        text = text.replace(character, code)
    return text


def decode_value(text: str) -> str:
    for character, code in reversed(ENCODED):
        text = text.replace(code, character).replace(code.lower(), character)
    return text


def breakdown_name(name: str, value) -> str:
    """`theme=%3D1+1` for the breakdown `theme` and the value `=1+1`."""
    return f"{name}={encode_value(value)}"


def base_id(figure_id) -> str:
    """`SAF12` of `SAF12:rate_per_10k`."""
    return str(figure_id).partition(":")[0]


@dataclass(frozen=True)
class FigureId:
    """`QA03:rolling_3m:grade=Good` -> kpi_id QA03, names (rolling_3m,), dimensions
    ((grade, Good),), values decoded."""

    kpi_id: str
    names: tuple[str, ...]
    dimensions: tuple[tuple[str, str], ...]

    @property
    def dimension(self) -> dict[str, str]:
        return dict(self.dimensions)


def parse_figure_id(figure_id) -> FigureId:
    kpi_id, *parts = str(figure_id).split(":")
    names = tuple(p for p in parts if "=" not in p)
    dimensions = tuple((key, decode_value(value))
                       for key, _, value in (p.partition("=") for p in parts if "=" in p))
    return FigureId(kpi_id, names, dimensions)
