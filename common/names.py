"""Names shared by every floor: lifeline networks, result series, damage states.

One definition each; files, scenarios, tables and plots spell them this way.
"""

from __future__ import annotations

from typing import Literal

#: The lifeline networks, in the order arrays and tables use.
NETWORKS: tuple[str, ...] = ("power", "water", "roads")
#: The combined service of a population block (all its networks served).
SYSTEM = "system"
#: Service series of a run: one per network, then the system.
SERIES: tuple[str, ...] = (*NETWORKS, SYSTEM)
#: Literal type of a network name, for validated models.
NetworkName = Literal["power", "water", "roads"]

#: Damage states, index = severity (0 = undamaged); HAZUS spelling.
DAMAGE_STATES: tuple[str, ...] = ("none", "slight", "moderate", "extensive", "complete")
#: Index of each damage state name.
DS_INDEX: dict[str, int] = {name: i for i, name in enumerate(DAMAGE_STATES)}
#: Literal type of a damage state a user may set (not "none").
DamageStateName = Literal["slight", "moderate", "extensive", "complete"]
