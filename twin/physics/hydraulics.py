"""Pressure-driven hydraulics (WNTR, EPANET 2.2 pressure-driven analysis) on the water islands.

Each island that the topology says is supplied (reached from a treatment plant, a
tank or a pump that runs) becomes a WNTR :class:`~wntr.network.WaterNetworkModel`
built from the twin's arrays and the run's state, solved as one steady snapshot with
WNTR's ``EpanetSimulator`` and ``demand_model='PDD'`` (Wagner, Shamir & Marks 1988:
full demand at ``required_pressure_m``, none at ``minimum_pressure_m``, exponent 0.5).

Model
-----
- junctions at ``elevation_m`` with base demand ``demand_m3h``; treatment plants are
  reservoirs at total head ``head_m``; tanks are cylinders at ``elevation_m`` with
  ``min/max_level_m``, the diameter that holds ``volume_m3`` between them, and the
  run's current level (they drain or fill by the hydraulics: see
  :class:`~twin.physics.backend.PhysicsService`);
- a pump station is a pump from a suction node (at the station) to the station's
  node, with the head curve through ``(0, shutoff_head_m)`` and ``(capacity_m3h,
  head_m)``, or EPANET's one-point curve at ``(capacity_m3h, head_m)``. The pipe to
  ``pump_suction`` joins the suction node. A station without power (dependency lost,
  no fuel) or damaged is not in the island: its pump is off;
- pipes: Hazen-Williams with ``roughness`` (C). By damage state (Hazus pipeline
  repair classes: leaks for the lower states, breaks for the higher): ``slight`` and
  ``moderate`` pipes stay open and leak at their mid point through an orifice of
  ``LEAK_AREA_SHARE`` of the bore (an EPANET emitter, ``Q = Cd A sqrt(2 g p)``, the
  leak law of WNTR's leak model); ``extensive`` and ``complete`` are breaks, isolated
  by their valves (closed) until repaired.

A junction's served fraction is delivered / required demand. A solve that does not
converge (``convergence_error``) gives ``None``; the caller keeps the topological
answer and counts it.
"""

from __future__ import annotations

import contextlib
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from networks.schema import AssetClass, NetworkKind
from twin.compile import CLASS_INDEX, NET_INDEX, Twin
from twin.physics.settings import ServiceSettings

#: leak orifice area as a share of the pipe's bore, by damage state (1 slight, 2 moderate)
#: **[check]**: order of magnitude of the leak areas used with WNTR's leak model in
#: post-earthquake studies (a few percent of the cross-section)
LEAK_AREA_SHARE = {1: 0.01, 2: 0.05}
#: discharge coefficient of a leak orifice (WNTR's default for ``add_leak``)
LEAK_CD = 0.75
#: damage states that leave a pipe open and leaking (higher ones break it)
LEAKING_STATES = (1, 2)
G_MPS2 = 9.81


@dataclass(frozen=True)
class WaterSolution:
    """One island's hydraulic snapshot.

    ``served``: delivered / required demand of the island's junctions (in the order
    of the junctions among the island's nodes); ``tank_inflow_m3s``: net inflow of
    the island's tanks (in their order among the nodes); ``pressure_m`` of every node
    of the island by component index.
    """

    served: np.ndarray
    tank_inflow_m3s: np.ndarray
    pressure_m: dict[int, float]


class Hydraulics:
    """Builds and solves WNTR models of the twin's water islands.

    Parameters
    ----------
    twin : Twin
        The compiled twin (with ``physics`` arrays).
    settings : ServiceSettings
        Minimum and required pressures.
    """

    def __init__(self, twin: Twin, settings: ServiceSettings) -> None:
        import wntr  # noqa: F401 - fail early when WNTR is missing

        if twin.physics is None:
            raise ValueError("the twin carries no physics arrays (compile it with compile_twin)")
        self.twin = twin
        self.settings = settings
        c = twin.asset_class
        self.is_junction = c == CLASS_INDEX[AssetClass.JUNCTION]
        self.is_plant = c == CLASS_INDEX[AssetClass.TREATMENT_PLANT]
        self.is_pump = c == CLASS_INDEX[AssetClass.PUMP_STATION]
        self.is_tank = c == CLASS_INDEX[AssetClass.TANK]
        self.water = twin.network == NET_INDEX[NetworkKind.WATER]

    def model(self, nodes: np.ndarray, edges: np.ndarray, damage: np.ndarray,
              tank_level_m: np.ndarray):
        """The WNTR model of one island (``tank_level_m``: level of every component that
        is a tank, NaN elsewhere)."""
        import wntr

        t = self.twin
        ph = t.physics
        st = self.settings
        wn = wntr.network.WaterNetworkModel()
        o = wn.options
        o.hydraulic.demand_model = "PDD"
        o.hydraulic.minimum_pressure = st.minimum_pressure_m
        o.hydraulic.required_pressure = st.required_pressure_m
        o.hydraulic.pressure_exponent = 0.5
        o.hydraulic.headloss = "H-W"
        o.hydraulic.pattern = None
        o.time.duration = 0
        for i in nodes.tolist():
            name = f"n{i}"
            z = float(ph.elevation_m[i])
            if self.is_plant[i]:
                wn.add_reservoir(name, base_head=float(ph.head_m[i]))
            elif self.is_tank[i]:
                lo, hi = float(ph.min_level_m[i]), float(ph.max_level_m[i])
                lvl = float(np.clip(tank_level_m[i], lo, hi))
                wn.add_tank(name, elevation=z, init_level=lvl, min_level=lo, max_level=hi,
                            diameter=float(ph.tank_diameter_m[i]))
            else:
                q = float(t.demand[i]) / 3600.0 if self.is_junction[i] else 0.0
                wn.add_junction(name, base_demand=q, elevation=z)
                if self.is_pump[i]:
                    wn.add_junction(f"s{i}", elevation=z)
                    self._add_pump(wn, i)
        suction = ph.pump_suction
        for e in edges.tolist():
            a, b = int(t.edge_u[e]), int(t.edge_v[e])
            na = f"s{a}" if self.is_pump[a] and suction[a] == b else f"n{a}"
            nb = f"s{b}" if self.is_pump[b] and suction[b] == a else f"n{b}"
            length = max(float(t.length_m[e]), 0.1)
            d, c = float(ph.diameter_m[e]), float(ph.roughness[e])
            ds = int(damage[e])
            if ds in LEAK_AREA_SHARE:
                mid = f"l{e}"
                za = float(np.nan_to_num(ph.elevation_m[a]))
                zb = float(np.nan_to_num(ph.elevation_m[b]))
                wn.add_junction(mid, elevation=(za + zb) / 2)
                area = LEAK_AREA_SHARE[ds] * math.pi / 4 * d * d
                wn.get_node(mid).emitter_coefficient = LEAK_CD * area * math.sqrt(2 * G_MPS2)
                wn.add_pipe(f"e{e}", na, mid, length=length / 2, diameter=d, roughness=c)
                wn.add_pipe(f"f{e}", mid, nb, length=length / 2, diameter=d, roughness=c)
            else:
                status = "OPEN" if ds == 0 else "CLOSED"
                wn.add_pipe(f"e{e}", na, nb, length=length, diameter=d, roughness=c,
                            initial_status=status)
        return wn

    def _add_pump(self, wn, i: int) -> None:
        ph = self.twin.physics
        q = float(ph.pump_flow_m3h[i]) / 3600.0
        h, h0 = float(ph.head_m[i]), float(ph.shutoff_head_m[i])
        pts = [(q, h)] if not np.isfinite(h0) else [(0.0, h0), (q, h)]
        wn.add_curve(f"c{i}", "HEAD", pts)
        wn.add_pump(f"p{i}", f"s{i}", f"n{i}", pump_type="HEAD", pump_parameter=f"c{i}")

    def solve(self, nodes: np.ndarray, edges: np.ndarray, damage: np.ndarray,
              tank_level_m: np.ndarray) -> WaterSolution | None:
        """Solve one island (see :meth:`model`); None when it does not converge."""
        import wntr

        wn = self.model(nodes, edges, damage, tank_level_m)
        # EPANET writes its scratch files ("en??????") to the working directory and
        # leaves them behind when a solve fails: run it inside the temporary folder
        with tempfile.TemporaryDirectory(prefix="twin-wntr-") as d, contextlib.chdir(d):
            try:
                res = wntr.sim.EpanetSimulator(wn).run_sim(
                    file_prefix=str(Path(d) / "island"), convergence_error=True)
            except Exception:  # noqa: BLE001 - EPANET reports non-convergence in many types
                return None
        dem = res.node["demand"].iloc[0]
        pres = res.node["pressure"].iloc[0]
        t = self.twin
        j = nodes[self.is_junction[nodes]]
        req = t.demand[j] / 3600.0
        got = dem[[f"n{i}" for i in j.tolist()]].to_numpy(dtype=float)
        served = np.where(req > 0, np.clip(got / np.where(req > 0, req, 1.0), 0.0, 1.0), 1.0)
        tk = nodes[self.is_tank[nodes]]
        inflow = dem[[f"n{i}" for i in tk.tolist()]].to_numpy(dtype=float)
        p = dict(zip(nodes.tolist(), pres[[f"n{i}" for i in nodes.tolist()]].astype(float),
                     strict=True))
        if not (np.all(np.isfinite(served)) and np.all(np.isfinite(inflow))):
            return None
        return WaterSolution(served, inflow, p)
