"""The service backends the engine calls where it computes service.

:class:`TopologicalService` is today's answer (:func:`twin.kernels.service.compute_service`:
reach, dependencies, island capacity). :class:`PhysicsService` runs the same kernel and
then refines each energised island by physics:

- ``power: powerflow``: an AC power flow per island (:mod:`twin.physics.powerflow`);
  a load shed to keep the island within limits is not served;
- ``water: pressure_driven``: a pressure-driven hydraulic snapshot per island
  (:mod:`twin.physics.hydraulics`); a junction gets delivered / required demand.
  Leaking pipes (``slight``, ``moderate``) stay in the network; tanks are sources
  while their *hydraulic* level is above the minimum and drain or fill between calls
  at the rate of the last solution (not by the fixed ``storage_h``).

Served fractions never rise above the topological ones (a source's capacity still
bounds its island). An island is solved only when its state changes (its
components, the damage of its pipes, its tank levels to the centimetre): solutions
are kept by that key and reused. A solve that does not converge falls back to the
topological answer for that island and is counted in :attr:`PhysicsService.stats`
(the run's metadata), never raised.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from networks.schema import AssetClass, NetworkKind
from twin.compile import CLASS_INDEX, NET_INDEX, Twin
from twin.kernels.service import compute_service
from twin.physics.settings import ServiceSettings

#: iterations of the dependency fixed point (as the engine has always used)
MAX_ITER = 1000
#: island solutions kept for reuse per network
CACHE_SIZE = 512
#: counters of :attr:`PhysicsService.stats`
STAT_KEYS = ("power_solves", "power_reused", "power_fallbacks", "power_shed_loads",
             "water_solves", "water_reused", "water_fallbacks", "physics_cascades")
#: rounds of "a shed supplier cuts its dependents, solve again" per service computation
MAX_CASCADE_ROUNDS = 10


class ServiceBackend(Protocol):
    """What the engine calls to compute service (arrays over the twin's components).

    ``compute`` returns ``(served, deps_ok, fed, iterations)`` exactly as
    :func:`twin.kernels.service.compute_service`; ``stats`` are counters for the
    run's metadata.
    """

    stats: dict[str, int]

    def compute(self, up: np.ndarray, source_ok: np.ndarray, exempt: np.ndarray,
                damage: np.ndarray, now_h: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]: ...


class TopologicalService:
    """Service by connectivity (the default for every network).

    Parameters
    ----------
    twin : Twin
        The compiled twin.
    """

    def __init__(self, twin: Twin) -> None:
        self.twin = twin
        self.primary = twin.primary_sources()
        self.stats: dict[str, int] = {}

    def compute(self, up: np.ndarray, source_ok: np.ndarray, exempt: np.ndarray,
                damage: np.ndarray, now_h: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Served fraction, dependencies met, island fed, iterations (see the kernel).

        ``damage`` and ``now_h`` are not used by connectivity.
        """
        t = self.twin
        return compute_service(up, source_ok, exempt, t.is_source, t.is_edge, t.edge_u,
                               t.edge_v, t.adj_indptr, t.adj_node, t.adj_edge, t.dep_indptr,
                               t.dep_supplier, t.capacity, t.demand, MAX_ITER, self.primary)


class PhysicsService(TopologicalService):
    """Service by power flow and/or pressure-driven hydraulics (module docstring).

    Parameters
    ----------
    twin : Twin
        The compiled twin (with ``physics`` arrays).
    settings : ServiceSettings
        Which networks use physics, and the limits.

    Attributes
    ----------
    stats : dict[str, int]
        ``power_solves`` / ``water_solves`` (islands solved), ``*_reused`` (solutions
        reused for an unchanged island), ``*_fallbacks`` (islands whose solve did not
        converge: topological answer kept), ``power_shed_loads`` (loads shed, summed
        over the solves).
    tank_level_m : float64[n]
        Hydraulic level of every tank (NaN elsewhere), as of the last call.
    """

    def __init__(self, twin: Twin, settings: ServiceSettings) -> None:
        super().__init__(twin)
        self.settings = settings
        self.stats = dict.fromkeys(STAT_KEYS, 0)
        self.power = None
        self.water = None
        if settings.power == "powerflow":
            from twin.physics.powerflow import PowerFlow

            self.power = PowerFlow(twin, settings)
        if settings.water == "pressure_driven":
            from twin.physics.hydraulics import Hydraulics

            self.water = Hydraulics(twin, settings)
        ph = twin.physics
        self.tanks = np.nonzero(twin.asset_class == CLASS_INDEX[AssetClass.TANK])[0]
        self.tank_level_m = ph.init_level_m.copy()
        self._tank_area = np.pi / 4 * ph.tank_diameter_m[self.tanks] ** 2
        self._tank_inflow = np.zeros(len(self.tanks))
        self._tank_pos = np.full(twin.n, -1, dtype=np.int64)
        self._tank_pos[self.tanks] = np.arange(len(self.tanks))
        self._as_of_h = 0.0
        pipe = twin.asset_class == CLASS_INDEX[AssetClass.PIPE]
        self._pipe = pipe
        self._cache: dict[str, OrderedDict] = {"power": OrderedDict(), "water": OrderedDict()}
        #: the dependent of each entry of ``dep_supplier``
        self._dep_owner = np.repeat(np.arange(twin.n), np.diff(twin.dep_indptr))

    def compute(self, up: np.ndarray, source_ok: np.ndarray, exempt: np.ndarray,
                damage: np.ndarray, now_h: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Topological service, then each island of a physics network solved."""
        if self.water is not None:
            from twin.physics.hydraulics import LEAKING_STATES

            self._advance_tanks(now_h)
            # a leaking pipe still carries water; a broken one does not
            up = up | (self._pipe & np.isin(damage, LEAKING_STATES))
            source_ok = source_ok.copy()
            ph = self.twin.physics
            source_ok[self.tanks] = (self.tank_level_m[self.tanks]
                                     > ph.min_level_m[self.tanks] + 1e-3)
        served, deps_ok, fed, it = super().compute(up, source_ok, exempt, damage, now_h)
        served = self._physics(served, damage)
        # a load the physics shed (or a junction left dry) cuts what depends on it (a
        # pump on a shed feeder): those lose their dependency and carry nothing, and the
        # networks are solved again, until nothing more is cut
        for _ in range(MAX_CASCADE_ROUNDS):
            cut = self._cut_by_physics(served, deps_ok, exempt, up)
            if not cut.any():
                break
            up = up & ~cut
            served, deps_ok, fed, it = super().compute(up, source_ok, exempt, damage, now_h)
            served = self._physics(served, damage)
            deps_ok = deps_ok & ~cut
            self.stats["physics_cascades"] += int(cut.sum())
        return served, deps_ok, fed, it

    def _physics(self, served: np.ndarray, damage: np.ndarray) -> np.ndarray:
        served = served.copy()
        if self.power is not None:
            self._power(served)
        if self.water is not None:
            self._water(served, damage)
        return served

    def _cut_by_physics(self, served: np.ndarray, deps_ok: np.ndarray, exempt: np.ndarray,
                        up: np.ndarray) -> np.ndarray:
        """Components whose dependencies the topology met but a supplier the physics left
        without service (not those on backup power)."""
        t = self.twin
        cut = np.zeros(t.n, dtype=bool)
        if not len(t.dep_supplier):
            return cut
        dead = served[t.dep_supplier] <= 0
        if dead.any():
            cut[self._dep_owner[dead]] = True
        return cut & deps_ok & ~exempt & up

    # ------------------------------------------------------------------ islands
    def islands(self, served: np.ndarray, kind: NetworkKind
                ) -> list[tuple[np.ndarray, np.ndarray]]:
        """The energised islands of one network: (nodes, edges) with service > 0."""
        t = self.twin
        on = (t.network == NET_INDEX[kind]) & (served > 0)
        nodes = np.nonzero(on & ~t.is_edge)[0]
        edges = np.nonzero(on & t.is_edge)[0]
        if not len(nodes):
            return []
        g = coo_matrix((np.ones(len(edges)), (t.edge_u[edges], t.edge_v[edges])),
                       shape=(t.n, t.n))
        _, comp = connected_components(g, directed=False)
        order = np.argsort(comp[nodes], kind="stable")
        nodes = nodes[order]
        cuts = np.nonzero(np.diff(comp[nodes]))[0] + 1
        ecomp = comp[t.edge_u[edges]]
        out = []
        for part in np.split(nodes, cuts):
            out.append((part, edges[ecomp == comp[part[0]]]))
        return out

    def _cached(self, kind: str, key: bytes):
        c = self._cache[kind]
        if key in c:
            c.move_to_end(key)
            self.stats[f"{kind}_reused"] += 1
            return True, c[key]
        return False, None

    def _store(self, kind: str, key: bytes, value) -> None:
        c = self._cache[kind]
        c[key] = value
        if len(c) > CACHE_SIZE:
            c.popitem(last=False)

    def _power(self, served: np.ndarray) -> None:
        pf = self.power
        for nodes, edges in self.islands(served, NetworkKind.POWER):
            key = nodes.tobytes() + b"|" + edges.tobytes()
            hit, kept = self._cached("power", key)
            if not hit:
                kept = pf.solve(nodes, edges)
                self.stats["power_solves"] += 1
                if kept is None:
                    self.stats["power_fallbacks"] += 1
                else:
                    self.stats["power_shed_loads"] += int((kept == 0).sum())
                self._store("power", key, kept)
            if kept is None:
                continue  # not converged: the topological answer stands
            loads = nodes[pf.load_row[nodes] >= 0]
            served[loads] = np.minimum(served[loads], kept)

    def _water(self, served: np.ndarray, damage: np.ndarray) -> None:
        hy = self.water
        self._tank_inflow[:] = 0.0
        for nodes, edges in self.islands(served, NetworkKind.WATER):
            if not (self.twin.demand[nodes] > 0).any() or not len(edges):
                continue  # nobody to serve (a plant or tank cut off alone)
            tk = nodes[self._tank_pos[nodes] >= 0]
            levels = np.round(self.tank_level_m[tk], 2)
            key = b"|".join((nodes.tobytes(), edges.tobytes(),
                             damage[edges].astype(np.int8).tobytes(), levels.tobytes()))
            hit, sol = self._cached("water", key)
            if not hit:
                sol = hy.solve(nodes, edges, damage, self.tank_level_m)
                self.stats["water_solves"] += 1
                if sol is None:
                    self.stats["water_fallbacks"] += 1
                self._store("water", key, sol)
            if sol is None:
                continue
            j = nodes[hy.is_junction[nodes]]
            served[j] = np.minimum(served[j], sol.served)
            self._tank_inflow[self._tank_pos[tk]] = sol.tank_inflow_m3s

    def next_change_h(self) -> float:
        """When a tank next reaches its minimum or maximum level at the current rates
        (hours since the start; ``inf`` when none moves): the engine may recompute
        service then, so a tank that runs dry between other events is seen in time."""
        if not len(self.tanks):
            return float("inf")
        ph = self.twin.physics
        k = self.tanks
        q = self._tank_inflow
        room = np.where(q > 0, ph.max_level_m[k] - self.tank_level_m[k],
                        self.tank_level_m[k] - ph.min_level_m[k])
        with np.errstate(divide="ignore", invalid="ignore"):
            dt_h = np.where(np.abs(q) > 1e-12, room * self._tank_area / np.abs(q) / 3600.0,
                            np.inf)
        dt_h = dt_h[dt_h > 1e-9]
        return self._as_of_h + float(dt_h.min()) if len(dt_h) else float("inf")

    def _advance_tanks(self, now_h: float) -> None:
        """Tanks fill or drain at the last solution's rates up to ``now_h``."""
        dt_s = (now_h - self._as_of_h) * 3600.0
        self._as_of_h = now_h
        if dt_s <= 0 or not len(self.tanks):
            return
        ph = self.twin.physics
        k = self.tanks
        lvl = self.tank_level_m[k] + self._tank_inflow * dt_s / self._tank_area
        self.tank_level_m[k] = np.clip(lvl, ph.min_level_m[k], ph.max_level_m[k])


def make_backend(twin: Twin, settings: ServiceSettings | None = None) -> ServiceBackend:
    """The backend for a scenario's ``service`` block (connectivity when None)."""
    if settings is None or not settings.physical:
        return TopologicalService(twin)
    return PhysicsService(twin, settings)
