"""Who has service: population blocks served by each network kind at any time.

The run records every state change of every component (``events.parquet``) and
the twin's static arrays (``replay.npz``), so the view re-runs the service kernel
(:func:`twin.kernels.service.compute_service`) on the states the events give at a
frame's time:

- a component is *up* unless damaged, flooded (or tripped) or under repair, or an
  edge behind an open switch (its normal state and the ``switched`` events);
  whether its supplies (power for a pump, cooling water for a plant) are met is
  found by the kernel, as in the engine. A ``restored`` event after a flood does
  not make a pump work whose power is still out;
- assets with backup generators run on them while their supply is lost; the
  engine logs ``cascade_failed`` when the fuel runs out, so for them the events
  decide;
- a water tank feeds until its ``ran_dry`` event and again from its ``refilled``
  event (the engine logs both when it recomputes service; how long a tank lasts is
  the engine's rule alone). Runs written before those events existed show their
  tanks always feeding, and the views warn when that strays from the recorded curve.

A block has a network's service when the node serving it is reached from a
source. :func:`check_against_curves` measures the difference to the recorded
system curve (zero to rounding on the built-in scenarios).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from common import replay_layout as layout
from common.names import NETWORKS
from viz import states as st
from viz.rundata import RunData


@dataclass(frozen=True)
class BlockService:
    """Served fraction per frame, block and network.

    ``served[f, b, k]`` is the fraction of block ``b``'s demand on network
    ``NETWORKS[k]`` served at ``times_h[f]`` (1 or 0, fractional under load
    shedding; 1 for a kind that does not serve the block); ``population[b]`` its
    people; ``xy[b]`` where it is (metres).
    """

    times_h: np.ndarray
    served: np.ndarray  # (T, b, len(NETWORKS)) float32
    population: np.ndarray
    xy: np.ndarray
    #: the kinds (indices into NETWORKS) whose service makes the system service, as the
    #: run's scenario said (``system_kinds``); None: every kind
    system_kinds: np.ndarray | None = None

    def people_without(self) -> np.ndarray:
        """(T, len(NETWORKS)) people without each kind's service (0 for absent kinds)."""
        return np.einsum("tbk,b->tk", 1.0 - self.served, self.population)

    def _system(self) -> np.ndarray:
        s = self.served if self.system_kinds is None else self.served[..., self.system_kinds]
        return s.prod(axis=2)

    def people_without_any(self) -> np.ndarray:
        """(T,) people missing at least one service that counts (the system view)."""
        return (1.0 - self._system()) @ self.population

    def system_fraction(self) -> np.ndarray:
        """(T,) population-weighted share with every service, as the engine's system curve."""
        return self._system() @ self.population / max(self.population.sum(), 1e-12)


_DOWN = (st.FAILED, st.OUTAGE, st.UNDER_REPAIR)


def has_blocks(run: RunData) -> bool:
    return "block_population" in run.replay and len(run.replay["block_population"]) > 0


def block_service(run: RunData, realization: int, times_h: np.ndarray, *,
                  transitions=None) -> BlockService | None:
    """Block service of one realization at ``times_h`` (None without population blocks).

    Everything the service kernel needs is in the events: component states
    (:func:`viz.states.state_transitions`), the switches' positions (``switched``) and
    when each tank stopped and started feeding (``ran_dry`` / ``refilled``, recorded by
    the engine when it recomputed service): each wanted time gets the kernel on those,
    as the engine had them then. No rule of the engine is repeated here.
    """
    if not has_blocks(run):
        return None
    from twin.kernels.service import compute_service

    rp = run.replay
    wanted = np.asarray(times_h, dtype=float)
    ev = st.realization_events(run.events, realization)
    if transitions is None:
        transitions = st.state_transitions(ev, run.ids)
    tt, cc, ss = transitions
    kind = ev["event"].astype(str).to_numpy()
    et = ev["time_h"].to_numpy(float)
    svc = [rp[layout.service_key(k)] for k in layout.SERVICE_ARRAYS]
    primary = rp[layout.service_key(layout.SERVICE_PRIMARY)].astype(bool)
    nodes = rp["block_nodes"].astype(np.int64)
    n = run.n
    ones = np.ones(n, dtype=bool)
    source_ok = ones.copy()
    # tanks: fed or dry as the engine last recomputed them (their events, in order)
    tank_ev = np.isin(kind, ["ran_dry", "refilled"])
    tank_t = et[tank_ev]
    tank_c = pd.Index(np.asarray(run.ids).astype(str)).get_indexer(
        ev["asset_id"].astype(str).to_numpy()[tank_ev])
    tank_ok = kind[tank_ev] == "refilled"
    tank_order = np.argsort(tank_t, kind="stable")
    tank_t, tank_c, tank_ok = tank_t[tank_order], tank_c[tank_order], tank_ok[tank_order]
    backup = rp.get(layout.service_key(layout.SERVICE_BACKUP))
    # without the backup hours (an older replay file) every asset trusts its events
    has_backup = np.asarray(backup) > 0 if backup is not None else ones
    state = np.zeros(n, dtype=np.int8)
    k = kt = 0
    # switches (twin.flisr): an edge behind an open switch carries nothing
    sw_edge = np.asarray(rp.get("switch_edge", np.zeros(0, np.int64)), dtype=np.int64)
    sw_times = np.unique(et[kind == "switched"]) if len(sw_edge) else np.zeros(0)
    sw_states = (st.switches_open_at(ev, run.ids, sw_edge, rp["switch_normally_open"],
                                     sw_times) if len(sw_edge) else None)
    edge_open = np.zeros(n, dtype=bool)
    if len(sw_edge):
        edge_open[sw_edge] = np.asarray(rp["switch_normally_open"], dtype=bool)

    def advance(t: float) -> None:
        nonlocal k, kt
        stop = int(np.searchsorted(tt, t, side="right"))
        if stop > k:
            c, s_ = cc[k:stop][::-1], ss[k:stop][::-1]
            first = np.unique(c, return_index=True)[1]  # the last transition per component
            state[c[first]] = s_[first]
            k = stop
        stop = int(np.searchsorted(tank_t, t, side="right"))
        for j in range(kt, stop):
            if tank_c[j] >= 0:
                source_ok[tank_c[j]] = tank_ok[j]
        kt = max(kt, stop)
        if sw_states is not None and len(sw_times):
            j = int(np.searchsorted(sw_times, t, side="right")) - 1
            if j >= 0:
                edge_open[sw_edge] = sw_states[j]

    def kernel():
        # up: not damaged, flooded or under repair; a lost supply is the kernel's to
        # find, except for assets with backup generators, whose cascade events say when
        # the fuel ran out (the engine runs them on backup meanwhile)
        up = ~np.isin(state, _DOWN) & ~((state == st.CASCADE_FAILED) & has_backup)
        up &= ~edge_open
        return compute_service(up, source_ok, has_backup, *svc, 1000, primary)

    out = np.empty((len(wanted), len(nodes), len(NETWORKS)), dtype=np.float32)
    cache: dict[bytes, np.ndarray] = {}
    for j in np.argsort(wanted, kind="stable"):
        advance(float(wanted[j]))
        key = state.tobytes() + source_ok.tobytes() + edge_open[sw_edge].tobytes()
        if key not in cache:
            # -1 (a kind that does not serve the block) reads the appended 1.0
            cache[key] = np.append(kernel()[0], 1.0)[nodes].astype(np.float32)
        out[j] = cache[key]
    sk = rp.get("system_kinds")
    return BlockService(wanted, out, np.asarray(rp["block_population"], float),
                        np.asarray(rp["block_xy"], float),
                        None if sk is None else np.asarray(sk, dtype=np.int64))


def block_side_m(xy: np.ndarray) -> float:
    """Side (m) of the square a block is drawn as: 0.9 of the median spacing of the
    distinct block places (blocks served by one node share its place)."""
    from scipy.spatial import cKDTree

    uniq = np.unique(np.asarray(xy, float), axis=0)
    if len(uniq) < 2:
        return 200.0
    d, _ = cKDTree(uniq).query(uniq, k=2)
    return float(np.clip(np.median(d[:, 1]) * 0.9, 30.0, 500.0))


#: largest difference (fraction of people) to the recorded system curve before the
#: views say that their homes shading is not what the run computed
TOLERANCE = 0.02


class ServiceRebuildWarning(UserWarning):
    """The homes shading (rebuilt by connectivity) differs from the run's own service."""


def warn_if_different(run: RunData, bs: BlockService, realization: int) -> float:
    """Warn (one line) when the rebuilt service strays from the recorded curve, as it
    does for runs with physics-based service (power flow, pressure-driven water)."""
    diff = check_against_curves(run, bs, realization)
    if diff > TOLERANCE:
        import warnings

        warnings.warn(ServiceRebuildWarning(
            f"{run.path}: the homes shading follows network connectivity and differs from "
            f"the run's recorded service by up to {diff * 100:.0f} % of people (physics-based "
            "service, or switching between the recorded curve's points: try more frames); "
            "the gauge and curves show the run's own numbers"), stacklevel=2)
    return diff


def check_against_curves(run: RunData, bs: BlockService, realization: int) -> float:
    """Largest difference between the rebuilt and the recorded system service fraction."""
    rec = np.array([run.service_at(t, realization) for t in bs.times_h])
    return float(np.max(np.abs(rec - bs.system_fraction())))
