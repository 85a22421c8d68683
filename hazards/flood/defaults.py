"""Default parameters of the flood hazard, read from ``data/defaults.yaml``.

The YAML file keeps every default with its unit and source; this module exposes
``DEFAULTS`` (name -> value) for the solver, the scenario model and the CLI.
"""

from __future__ import annotations

from pathlib import Path

import yaml

_PATH = Path(__file__).with_name("data") / "defaults.yaml"


def _load() -> dict[str, float]:
    raw = yaml.safe_load(_PATH.read_text(encoding="utf-8"))
    return {name: float(entry["value"]) for name, entry in raw.items()}


DEFAULTS: dict[str, float] = _load()
