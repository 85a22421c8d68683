"""An explicit registry of hazard modules, extensible through the ``twin.hazards``
entry-point group (a plugin package declares ``mykind = "pkg.module:MyHazard"``)."""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points

from common.errors import ScenarioError

#: hazards shipped with the twin: scenario ``type`` -> "module:Class"
BUILTIN: dict[str, str] = {
    "damage_map": "hazards.damage_map:DamageMapHazard",
    "flood": "hazards.flood:FloodHazard",
    "typhoon": "hazards.typhoon:TyphoonHazard",
}


def available() -> dict[str, str]:
    found = dict(BUILTIN)
    for ep in entry_points(group="twin.hazards"):
        found.setdefault(ep.name, ep.value)
    return found


def hazard_class(kind: str, *, where: str = "hazards"):
    """The hazard class registered for ``kind``; a clear error for an unknown kind."""
    table = available()
    if kind not in table:
        raise ScenarioError(f"unknown hazard type {kind!r} (known: {', '.join(sorted(table))})",
                            where=where)
    module, _, name = table[kind].partition(":")
    return getattr(import_module(module), name)
