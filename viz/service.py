"""Who has service: population blocks served by power, water and roads at any time.

The run records every state change of every component (``events.parquet``) and
the twin's static arrays (``replay.npz``), so the view re-runs the service kernel
(:func:`twin.kernels.service.compute_service`) on the states the events give at a
frame's time, with the engine's rules for what the events do not say:

- a component is *up* unless damaged, flooded (or tripped) or under repair, or an
  edge behind an open switch (its normal state and the ``switched`` events);
  whether its supplies (power for a pump, cooling water for a plant) are met is
  found by the kernel, as in the engine. A ``restored`` event after a flood does
  not make a pump work whose power is still out;
- assets with backup generators run on them while their supply is lost; the
  engine logs ``cascade_failed`` when the fuel runs out, so for them the events
  decide;
- water tanks drain one storage hour per hour while cut off from treatment and
  stop feeding when dry, refilling when fed again.

A block has a network's service when the node serving it is reached from a
source. :func:`check_against_curves` measures the difference to the recorded
system curve (zero to rounding on the built-in scenarios).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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

    The engine recomputes service when something happens (damage, an outage, a lost
    or regained supply, a repair, each hazard step, a tank running dry) and tanks
    change level between those moments; a frame shows the last recomputation. This
    follows the same clock: tanks advance and are checked for being fed at those
    moments (skipped while every tank is full and fed and nothing is lost), and each
    wanted time gets the kernel on its states with the tanks as last recomputed.
    """
    if not has_blocks(run):
        return None
    from twin.kernels.service import compute_service

    rp = run.replay
    wanted = np.asarray(times_h, dtype=float)
    t_end = float(wanted.max(initial=0.0))
    ev = st.realization_events(run.events, realization)
    if transitions is None:
        transitions = st.state_transitions(ev, run.ids)
    tt, cc, ss = transitions
    # the engine's recomputation moments (crew dispatches and repair starts are not)
    kind = ev["event"].astype(str).to_numpy()
    et = ev["time_h"].to_numpy(float)
    losses = np.unique(et[np.isin(kind, ["damaged", "outage", "cascade_failed"])])
    steps = [et[kind == "restored"], et[kind == "switched"], losses]
    for key in [k for k in rp if k.startswith("grid__") and k.endswith("__times_h")]:
        steps.append(np.asarray(rp[key], float))  # hazard steps
    moments = np.unique(np.concatenate(steps))
    moments = moments[moments <= t_end]
    svc = [rp[layout.service_key(k)] for k in layout.SERVICE_ARRAYS]
    primary = rp[layout.service_key(layout.SERVICE_PRIMARY)].astype(bool)
    is_source = rp[layout.service_key("is_source")].astype(bool)
    storage = rp.get(layout.service_key(layout.SERVICE_STORAGE))
    tanks = np.nonzero(is_source & ~primary)[0] if storage is not None else np.zeros(0, int)
    cap = np.asarray(storage, float)[tanks] if len(tanks) else np.zeros(0)
    level = cap.copy()
    fed = np.ones(len(tanks), dtype=bool)
    nodes = rp["block_nodes"].astype(np.int64)
    n = run.n
    ones = np.ones(n, dtype=bool)
    source_ok = ones.copy()
    backup = rp.get(layout.service_key(layout.SERVICE_BACKUP))
    # without the backup hours (an older replay file) every asset trusts its events
    has_backup = np.asarray(backup) > 0 if backup is not None else ones
    state = np.zeros(n, dtype=np.int8)
    k = 0
    # switches (twin.flisr): an edge behind an open switch carries nothing
    sw_edge = np.asarray(rp.get("switch_edge", np.zeros(0, np.int64)), dtype=np.int64)
    sw_times = np.unique(et[kind == "switched"]) if len(sw_edge) else np.zeros(0)
    sw_states = (st.switches_open_at(ev, run.ids, sw_edge, rp["switch_normally_open"],
                                     sw_times) if len(sw_edge) else None)
    edge_open = np.zeros(n, dtype=bool)
    if len(sw_edge):
        edge_open[sw_edge] = np.asarray(rp["switch_normally_open"], dtype=bool)

    def advance(t: float) -> None:
        nonlocal k
        stop = int(np.searchsorted(tt, t, side="right"))
        if stop > k:
            c, s_ = cc[k:stop][::-1], ss[k:stop][::-1]
            first = np.unique(c, return_index=True)[1]  # the last transition per component
            state[c[first]] = s_[first]
            k = stop
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
    order = np.argsort(wanted, kind="stable")
    last, m, j = 0.0, 0, 0  # last recomputation, next moment, next wanted time
    cache: dict[bytes, np.ndarray] = {}
    while j < len(order):
        drain = ~fed & (level > 1e-9)
        t_dry = last + float(level[drain].min()) if drain.any() else np.inf
        t_mom = float(moments[m]) if m < len(moments) else np.inf
        t_rec = min(t_dry, t_mom)
        t_want = float(wanted[order[j]])
        if t_want < t_rec:  # a frame before the next recomputation
            advance(t_want)
            key = state.tobytes() + source_ok[tanks].tobytes() + edge_open[sw_edge].tobytes()
            if key not in cache:
                # -1 (a kind that does not serve the block) reads the appended 1.0
                cache[key] = np.append(kernel()[0], 1.0)[nodes].astype(np.float32)
            out[order[j]] = cache[key]
            j += 1
            continue
        # a recomputation (moments at or before a frame come first, as in the engine)
        if t_mom <= t_dry:
            m += 1
        advance(t_rec)
        in_flux = len(tanks) and (not fed.all() or np.any(level < cap - 1e-12))
        lost = m > 0 and t_rec in losses
        if len(tanks) and (in_flux or lost or t_rec == t_dry):
            dt = t_rec - last
            level = np.where(fed, np.minimum(cap, level + dt), np.maximum(0.0, level - dt))
            source_ok[tanks] = level > 1e-9
            fed = kernel()[2][tanks]
        last = t_rec
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
