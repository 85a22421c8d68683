"""What a realization records while it runs, and the arrays it hands to the results.

The engine calls :meth:`Recorder.event` for every state change of an asset,
:meth:`Recorder.service` after every service computation and
:meth:`Recorder.cost` when damage is booked; :meth:`Recorder.result` turns the
lists into the :class:`RealizationResult` arrays that :mod:`twin.results`
turns into tables. Times are hours since the scenario start.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Event types of ``events.parquet``, in the order of their integer codes.
EVENTS = ("damaged", "outage", "cascade_failed", "crew_dispatched", "repair_started",
          "restored", "switched", "ran_dry", "refilled")
#: Integer code of each event type.
EV = {name: i for i, name in enumerate(EVENTS)}


@dataclass
class RealizationResult:
    """What one realization produced (arrays; turned into tables by twin.results)."""

    times_h: np.ndarray  # (k,) times of service changes, first is 0
    served: np.ndarray  # (k, s) fraction served per series of the twin (Twin.series)
    cost_times_h: np.ndarray
    cost_usd: np.ndarray  # increments at cost_times_h
    ev_time_h: np.ndarray
    ev_comp: np.ndarray
    ev_type: np.ndarray
    ev_crew: np.ndarray  # index into crew_names, -1 for none
    crew_names: tuple[str, ...]
    extra: dict = field(default_factory=dict)
    #: per event: 1 a switch opened, 0 closed, -1 not a switching event; None when the
    #: realization switched nothing
    ev_state: np.ndarray | None = None


class Recorder:
    """Append-only logs of one realization: events, service history, repair costs."""

    def __init__(self) -> None:
        self._ev: list[tuple[float, np.ndarray, int, int]] = []
        self._ev_state: list[int] = []  # per entry of _ev: switch opened 1 / closed 0 / -1
        self._hist_t: list[float] = []
        self._hist_q: list[np.ndarray] = []
        self._cost_t: list[float] = []
        self._cost_v: list[float] = []

    def event(self, time_h: float, comps: np.ndarray, event: str, crew: int = -1) -> None:
        """Record ``event`` for components ``comps`` (nothing when empty)."""
        if len(comps):
            self._ev.append((time_h, np.asarray(comps, dtype=np.int64), EV[event], crew))
            self._ev_state.append(-1)

    def switched(self, time_h: float, edge: int, is_open: bool) -> None:
        """Record that the switch on ``edge`` opened (``is_open``) or closed."""
        self._ev.append((time_h, np.array([edge], dtype=np.int64), EV["switched"], -1))
        self._ev_state.append(int(is_open))

    def service(self, time_h: float, served: np.ndarray) -> None:
        """Record the served fractions (power, water, roads, system) at ``time_h``."""
        self._hist_t.append(time_h)
        # sums of many weights carry rounding noise; 1 - 1e-16 is fully served
        self._hist_q.append(np.clip(np.round(served, 12), 0.0, 1.0))

    def cost(self, time_h: float, usd: float) -> None:
        """Book a repair-cost increment at ``time_h``."""
        self._cost_t.append(time_h)
        self._cost_v.append(usd)

    @property
    def served_now(self) -> np.ndarray:
        """The last recorded served fractions."""
        return self._hist_q[-1]

    def result(self, crew_names: tuple[str, ...]) -> RealizationResult:
        """The record so far as arrays."""
        sizes = [len(c) for _, c, _, _ in self._ev]
        ev_t = np.repeat(np.array([t for t, _, _, _ in self._ev], dtype=float), sizes)
        ev_c = np.concatenate([c for _, c, _, _ in self._ev]) if sizes else np.zeros(0, np.int64)
        ev_y = np.repeat(np.array([y for _, _, y, _ in self._ev], dtype=np.int8), sizes)
        ev_w = np.repeat(np.array([w for _, _, _, w in self._ev], dtype=np.int16), sizes)
        t = np.array(self._hist_t)
        q = np.array(self._hist_q)
        # keep the last record of each time (several changes can happen at one instant)
        keep = np.append(t[1:] != t[:-1], True)
        ev_s = (np.repeat(np.array(self._ev_state, dtype=np.int8), sizes)
                if any(s >= 0 for s in self._ev_state) else None)
        return RealizationResult(t[keep], q[keep], np.array(self._cost_t),
                                 np.array(self._cost_v), ev_t, ev_c, ev_y, ev_w, crew_names,
                                 ev_state=ev_s)
