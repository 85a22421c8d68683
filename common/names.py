"""Names shared by every floor: lifeline networks, result series, damage states.

One definition each; files, scenarios, tables and plots spell them this way.
"""

from __future__ import annotations

from typing import Literal

#: The lifeline network kinds, in the order arrays and tables use (a city has any of
#: them; what each is: networks.kinds).
NETWORKS: tuple[str, ...] = ("power", "water", "roads", "gas", "telecom")
#: The combined service of a population block (all its networks served).
SYSTEM = "system"
#: Service series a run may have: one per network kind (those of its city), then the system.
SERIES: tuple[str, ...] = (*NETWORKS, SYSTEM)


def series_of(present) -> tuple[str, ...]:
    """The series among ``present`` (names, e.g. a table's ``network`` column) in
    :data:`SERIES` order: a city's kinds, then the system."""
    have = set(present)
    return tuple(s for s in SERIES if s in have)


#: Literal type of a network name, for validated models.
NetworkName = Literal["power", "water", "roads", "gas", "telecom"]

#: Damage states, index = severity (0 = undamaged); HAZUS spelling.
DAMAGE_STATES: tuple[str, ...] = ("none", "slight", "moderate", "extensive", "complete")
#: Index of each damage state name.
DS_INDEX: dict[str, int] = {name: i for i, name in enumerate(DAMAGE_STATES)}
#: Literal type of a damage state a user may set (not "none").
DamageStateName = Literal["slight", "moderate", "extensive", "complete"]
