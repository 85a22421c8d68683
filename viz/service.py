"""Who has service: population blocks served by power, water and roads at any time.

The run records every state change of every component (``events.parquet``) and
the twin's static arrays (``replay.npz``), so the view re-runs the service kernel
(:func:`twin.kernels.service.compute_service`) on the states the events give at a
frame's time: a component is available when it is working (or restored); a
``cascade_failed`` component lost a dependency, so the dependencies themselves
need no second pass (every component is exempt from them here). A block has a
network's service when the node serving it is reached from a source.

What the events do not say is rebuilt with the engine's rule: water tanks drain
while cut off from treatment and stop feeding when dry. Islands share their
sources' capacity as in the engine's kernel. :func:`check_against_curves`
measures the difference to the recorded system curve.
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
    shedding); ``population[b]`` its people; ``xy[b]`` where it is (metres).
    """

    times_h: np.ndarray
    served: np.ndarray  # (T, b, 3) float32
    population: np.ndarray
    xy: np.ndarray

    def people_without(self) -> np.ndarray:
        """(T, 3) people without power, water and road access."""
        return np.einsum("tbk,b->tk", 1.0 - self.served, self.population)

    def people_without_any(self) -> np.ndarray:
        """(T,) people missing at least one of the three (the system view)."""
        return (1.0 - self.served.prod(axis=2)) @ self.population

    def system_fraction(self) -> np.ndarray:
        """(T,) population-weighted share with all three, as the engine's system curve."""
        return self.served.prod(axis=2) @ self.population / max(self.population.sum(), 1e-12)


def has_blocks(run: RunData) -> bool:
    return "block_population" in run.replay and len(run.replay["block_population"]) > 0


def block_service(run: RunData, realization: int, times_h: np.ndarray, *,
                  transitions=None) -> BlockService | None:
    """Block service of one realization at ``times_h`` (None without population blocks).

    The kernel runs at each wanted time, at each of the run's output times before
    the last one wanted, and whenever a tank runs dry in between; tanks drain one
    storage hour per hour while their island holds no treatment plant and refill at
    the same rate when it does (the engine's rule). Whether an island is fed is
    looked at on those evaluations, so a tank starts to drain at most one output
    step (``output_step_h``) after it was cut off.
    """
    if not has_blocks(run):
        return None
    from twin.kernels.service import compute_service

    rp = run.replay
    wanted = np.asarray(times_h, dtype=float)
    # evaluate on the run's output times too, so tanks drain on time whatever frames
    # are asked for (one frame alone at 48 h must not find the tanks still full)
    grid = np.unique(run.curves["time_h"].to_numpy(float))
    times = np.unique(np.concatenate([wanted, grid[grid <= wanted.max(initial=0.0)]]))
    if transitions is None:
        ev = st.realization_events(run.events, realization)
        transitions = st.state_transitions(ev, run.ids)
    tt, cc, ss = transitions
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
    state = np.zeros(n, dtype=np.int8)
    out = np.empty((len(times), len(nodes), len(NETWORKS)), dtype=np.float32)
    order = np.argsort(times, kind="stable")
    now, k, j = 0.0, 0, 0  # k: next transition, j: next frame (in time order)
    while j < len(order):
        # the next evaluation: the next frame, or a tank running dry before it
        drain = ~fed & (level > 1e-9)
        t_next = float(times[order[j]])
        if drain.any():
            t_next = min(t_next, now + float(level[drain].min()))
        if len(tanks) and t_next > now:
            dt = t_next - now
            level = np.where(fed, np.minimum(cap, level + dt), np.maximum(0.0, level - dt))
        now = max(now, t_next)
        stop = int(np.searchsorted(tt, now, side="right"))
        if stop > k:
            c, s = cc[k:stop][::-1], ss[k:stop][::-1]
            first = np.unique(c, return_index=True)[1]  # the last transition per component
            state[c[first]] = s[first]
            k = stop
        avail = (state == st.WORKING) | (state == st.RESTORED)
        source_ok = ones.copy()
        source_ok[tanks] = level > 1e-9
        served, _, fed_all, _ = compute_service(avail, source_ok, ones, *svc, 1000, primary)
        fed = fed_all[tanks]
        while j < len(order) and times[order[j]] <= now:
            out[order[j]] = served[nodes]
            j += 1
    pick = np.searchsorted(times, wanted)
    return BlockService(wanted, out[pick], np.asarray(rp["block_population"], float),
                        np.asarray(rp["block_xy"], float))


def block_side_m(xy: np.ndarray) -> float:
    """Side (m) of the square a block is drawn as: 0.9 of the median spacing of the
    distinct block places (blocks served by one node share its place)."""
    from scipy.spatial import cKDTree

    uniq = np.unique(np.asarray(xy, float), axis=0)
    if len(uniq) < 2:
        return 200.0
    d, _ = cKDTree(uniq).query(uniq, k=2)
    return float(np.clip(np.median(d[:, 1]) * 0.9, 30.0, 500.0))


def check_against_curves(run: RunData, bs: BlockService, realization: int) -> float:
    """Largest difference between the rebuilt and the recorded system service fraction."""
    rec = np.array([run.service_at(t, realization) for t in bs.times_h])
    return float(np.max(np.abs(rec - bs.system_fraction())))
