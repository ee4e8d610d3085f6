"""Flows are given the path of a configuration file, never a Settings object (the
parameters Prefect stores must carry no secret): tests write one."""

from __future__ import annotations

from pathlib import Path

from tasks.core.settings import Settings, config_text, load_settings


def write_config(data_dir: Path, **values) -> tuple[str, Settings]:
    """`<data_dir>/qaloop.toml` with `data_dir` and `values`; its path and the settings it gives."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "qaloop.toml"
    path.write_text(config_text({"data_dir": str(data_dir), **values}), encoding="utf-8")
    return str(path), load_settings(path)
