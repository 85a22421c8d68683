"""The mutable state of one realization, as arrays over the twin's components.

The :class:`~twin.compile.Twin` is frozen; everything that changes during a run
lives here, owned by one :class:`~twin.engine.Engine`. Times are hours since the
scenario start.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(eq=False)
class AssetState:
    """Per-component state (arrays of length ``twin.n``).

    - ``damage``: damage state index 0..4 (0 = undamaged);
    - ``outage_until``: out of function (flooded, tripped) while ``now < outage_until``;
      ``inf`` while the hazard still holds it;
    - ``switched_off``: taken out of service by a decision (road closed, feeder
      de-energised) until a decision puts it back;
    - ``claimed``: a crew has taken the job;
    - ``on_backup``: running on a generator although a dependency is lost;
      ``backup_left`` hours of fuel left (as of ``backup_since``);
    - ``working``: up with its dependencies met (or on backup) at the last service
      computation; ``served``: the fraction of demand it delivered then;
    - ``switch_open``: edges whose switch is open now (normally open ties, and what
      the switching of :mod:`twin.flisr` opened); they carry nothing.
    """

    damage: np.ndarray
    outage_until: np.ndarray
    switched_off: np.ndarray
    claimed: np.ndarray
    on_backup: np.ndarray
    backup_left: np.ndarray
    backup_since: np.ndarray
    working: np.ndarray
    served: np.ndarray
    switch_open: np.ndarray

    @classmethod
    def fresh(cls, n: int, backup_h: np.ndarray, open_edges: np.ndarray | None = None
              ) -> AssetState:
        """Everything intact and in service; generators hold ``backup_h`` hours of fuel;
        the edges flagged in ``open_edges`` (default none) are switched open."""
        return cls(np.zeros(n, dtype=np.int8), np.full(n, -np.inf), np.zeros(n, dtype=bool),
                   np.zeros(n, dtype=bool), np.zeros(n, dtype=bool),
                   backup_h.astype(float).copy(), np.full(n, np.nan), np.ones(n, dtype=bool),
                   np.ones(n), np.zeros(n, dtype=bool) if open_edges is None
                   else open_edges.astype(bool).copy())

    def healthy(self, now: float) -> np.ndarray:
        """Components neither damaged nor in an outage now (switching aside)."""
        return (self.damage == 0) & (now >= self.outage_until)

    def up(self, now: float) -> np.ndarray:
        """Components that can carry service now (undamaged, not out, not switched off
        by a decision, not behind an open switch)."""
        return self.healthy(now) & ~self.switched_off & ~self.switch_open


@dataclass(eq=False)
class Tanks:
    """Storage tanks: ``level_h`` hours of supply left, as of ``as_of_h``.

    ``idx`` are the tanks' twin indices; ``fed`` whether each tank's island holds a
    treatment plant (it refills) at the last computation; ``token`` invalidates a
    scheduled run-dry check when the tank's supply changes before it fires.
    """

    idx: np.ndarray
    level_h: np.ndarray
    fed: np.ndarray
    token: np.ndarray
    as_of_h: float = 0.0

    @classmethod
    def full(cls, idx: np.ndarray, storage_h: np.ndarray) -> Tanks:
        return cls(idx, storage_h.astype(float).copy(), np.ones(len(idx), dtype=bool),
                   np.zeros(len(idx), dtype=np.int64))

    def advance(self, now: float, capacity_h: np.ndarray) -> None:
        """Fill fed tanks and drain the others up to ``now``."""
        dt = now - self.as_of_h
        if dt > 0 and len(self.idx):
            self.level_h = np.where(self.fed, np.minimum(capacity_h, self.level_h + dt),
                                    np.maximum(0.0, self.level_h - dt))
        self.as_of_h = now
