"""What the scenario's ``service`` block asks of the physics backends (plain data).

The limits are the defaults of :class:`twin.scenario.ServiceSpec`; a scenario may
override each. Sources:

- ``vm_min_pu`` / ``vm_max_pu`` = 0.90 / 1.10: supply voltage within +-10 % of nominal
  (EN 50160 and IEC 60038; China's GB/T 12325 allows +-7 % at 20 kV and below:
  set 0.93 / 1.07 for a stricter check);
- ``max_loading_percent`` = 100: lines at their thermal rating ``max_i_ka`` and
  transformers at their rating ``capacity_mva``;
- ``required_pressure_m`` = 20 m, ``minimum_pressure_m`` = 0 m: the Wagner, Shamir &
  Marks (1988) pressure-demand relation as used by WNTR (full demand at or above the
  required pressure, none at or below the minimum) **[check]**: 20 m is no standard's
  number. China's design rule asks 28 m of service head at the connection for six
  storeys of direct supply (GB 50013-2018 art. 3.0.10: 10 m for one storey, 12 m for
  two, +4 m per storey; the built-in city designs to it, ``networks/_builtin_water.py``);
  set the utility's own figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PowerModel = Literal["connectivity", "powerflow"]
WaterModel = Literal["connectivity", "pressure_driven"]


@dataclass(frozen=True)
class ServiceSettings:
    """Which service model each network uses, and the physics limits (SI units)."""

    power: PowerModel = "connectivity"
    water: WaterModel = "connectivity"
    vm_min_pu: float = 0.90
    vm_max_pu: float = 1.10
    max_loading_percent: float = 100.0
    #: share of an island's candidate loads shed per step (at least one load)
    shed_step: float = 0.1
    required_pressure_m: float = 20.0
    minimum_pressure_m: float = 0.0

    @property
    def physical(self) -> bool:
        """Whether any network is computed by physics (not only connectivity)."""
        return self.power != "connectivity" or self.water != "connectivity"
