"""What the scenario's ``self_healing`` block asks of the feeder automation (plain data).

The defaults of :class:`twin.scenario.SelfHealingSpec` come from here; their sources
are in :mod:`twin.flisr` ("Defaults and their sources"). Minutes, as in the scenario.
"""

from __future__ import annotations

from dataclasses import dataclass

#: automated fault location and isolation (seconds to a minute) **[check]**
ISOLATE_MIN = 1.0
#: restoration through automated ties: the seed reports' ~15 min self-healing grid
RESTORE_MIN = 15.0
#: before an operator leaves for a manual switch (patrol, call-out) **[check]**
MANUAL_DISPATCH_MIN = 30.0


@dataclass(frozen=True)
class SelfHealing:
    """The scenario's ``self_healing`` block (minutes; see :mod:`twin.flisr`).

    ``automated_share``: the share of sectionalizers and ties operated by the
    automation (None: as the city declares them).
    """

    enabled: bool = True
    automated_share: float | None = None
    isolate_min: float = ISOLATE_MIN
    restore_min: float = RESTORE_MIN
    manual_dispatch_min: float = MANUAL_DISPATCH_MIN
