"""AC power flow (pandapower Newton-Raphson) on the energised islands of the power network.

The pandapower net is built once per run from the twin's arrays
(:class:`~twin.compile.PhysicsArrays`) and only its ``in_service`` flags and load
set change between solves, so nothing physical is kept on the network model.

Model
-----
- every power node is a bus; a substation is two buses (HV: its node, LV: where its
  feeders start) joined by a two-winding transformer of the station's rating (with
  its iron losses and no-load current) with an off-nominal ratio ``tap_percent`` on
  the HV side, no phase shift (magnitudes do not depend on it); transmission lines attach to the
  HV bus, feeder segments to the LV bus;
- lines of zero length (service connections, ties to an external grid) join their
  buses into one (pandapower needs a positive length);
- nominal voltages: a substation's ``voltage_kv`` (HV) and ``vn_lv_kv`` (LV); buses
  on transmission lines take the highest line voltage; the buses a feeder reaches
  from a substation take that substation's LV voltage (10 kV when none does);
- every source (plant, grid supply) is a slack (``ext_grid``) at ``vm_pu``; loads
  draw ``demand_mw`` + j ``q_mvar``; distributed generation is not modelled.

Load shedding
-------------
When the solution has a bus voltage outside ``[vm_min_pu, vm_max_pu]`` or a line or
transformer above ``max_loading_percent``, whole loads are disconnected, a step at a
time (``shed_step`` of the candidates, at least one), and the flow is solved again:

1. candidates are the loads at buses below ``vm_min_pu`` and the loads fed through an
   overloaded line or transformer (cut off from every source when those are removed);
2. non-critical loads go before critical ones (hospitals last);
3. among them, the lowest voltage first (the far ends of the weakest feeders).

It stops when the island is within limits, or when nothing is left to shed. A solve
that does not converge (pandapower's ``LoadflowNotConverged``) gives ``None``: the
caller keeps the topological answer for that island and counts it.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from networks.schema import AssetClass, NetworkKind
from twin.compile import CLASS_INDEX, NET_INDEX, Twin
from twin.physics.settings import ServiceSettings

#: a line shorter than this joins its two buses (m)
ZERO_LENGTH_M = 1.0
#: the most shedding steps per island solve (each one a power flow)
MAX_SHED_STEPS = 40


class PowerFlow:
    """A pandapower model of the twin's power network; solves one island at a time.

    Parameters
    ----------
    twin : Twin
        The compiled twin (its ``physics`` arrays must be present).
    settings : ServiceSettings
        Voltage and loading limits, shedding step.

    Attributes
    ----------
    bus_of : int[n]
        pandapower bus of every power node (its HV bus for a substation), -1 elsewhere.
    last_vm_pu : dict[int, float]
        Voltage (p.u.) of every node of the last island solved, by component index.
    """

    def __init__(self, twin: Twin, settings: ServiceSettings) -> None:
        import pandapower as pp

        if twin.physics is None:
            raise ValueError("the twin carries no physics arrays (compile it with compile_twin)")
        self.twin = twin
        self.settings = settings
        ph = twin.physics
        n = twin.n
        power = twin.network == NET_INDEX[NetworkKind.POWER]
        sub = twin.asset_class == CLASS_INDEX[AssetClass.SUBSTATION]
        feeder = twin.asset_class == CLASS_INDEX[AssetClass.FEEDER_SEGMENT]
        self.nodes = np.nonzero(power & ~twin.is_edge)[0]
        self.edges = np.nonzero(power & twin.is_edge)[0]
        self.subs = np.nonzero(sub)[0]
        # raw buses: one per node, a second (LV) per substation
        raw = np.full(n, -1, dtype=np.int64)
        raw[self.nodes] = np.arange(len(self.nodes))
        raw_lv = np.full(n, -1, dtype=np.int64)
        raw_lv[self.subs] = len(self.nodes) + np.arange(len(self.subs))
        n_raw = len(self.nodes) + len(self.subs)
        eu, ev = twin.edge_u[self.edges], twin.edge_v[self.edges]
        fe = feeder[self.edges]
        # a feeder attaches to a substation's LV bus, any other line to the node's bus
        ru = np.where(fe & sub[eu], raw_lv[eu], raw[eu])
        rv = np.where(fe & sub[ev], raw_lv[ev], raw[ev])
        short = twin.length_m[self.edges] < ZERO_LENGTH_M
        g = coo_matrix((np.ones(int(short.sum())), (ru[short], rv[short])), shape=(n_raw, n_raw))
        _, merged = connected_components(g, directed=False)
        n_bus = int(merged.max()) + 1 if n_raw else 0
        bu, bv = merged[ru], merged[rv]
        self.bus_of = np.full(n, -1, dtype=np.int64)
        self.bus_of[self.nodes] = merged[raw[self.nodes]]
        self.lv_bus_of = np.full(n, -1, dtype=np.int64)
        self.lv_bus_of[self.subs] = merged[raw_lv[self.subs]]

        vn = self._nominal_voltages(n_bus, bu, bv, short, fe, ph)
        net = pp.create_empty_network(sn_mva=1.0)
        pp.create_buses(net, n_bus, vn_kv=vn)
        lines = ~short
        self.line_edges = self.edges[lines]
        le = self.line_edges
        pp.create_lines_from_parameters(
            net, bu[lines], bv[lines], twin.length_m[le] / 1000.0, ph.r_ohm_per_km[le],
            ph.x_ohm_per_km[le], ph.c_nf_per_km[le], ph.max_i_ka[le],
            parallel=np.maximum(ph.parallel[le], 1))
        s = self.subs
        tap = ph.tap_percent[s]
        if len(s):
            pp.create_transformers_from_parameters(
                net, self.bus_of[s], self.lv_bus_of[s], ph.sn_mva[s], ph.vn_kv[s],
                ph.vn_lv_kv[s], ph.vkr_percent[s], ph.vk_percent[s], ph.pfe_kw[s],
                ph.i0_percent[s], tap_side="hv", tap_neutral=0, tap_min=-1, tap_max=1,
                tap_step_percent=np.abs(tap), tap_pos=np.sign(tap),
                tap_changer_type="Ratio")
        self.loads = np.nonzero(twin.asset_class == CLASS_INDEX[AssetClass.POWER_LOAD])[0]
        pp.create_loads(net, self.bus_of[self.loads], twin.demand[self.loads],
                        q_mvar=ph.q_mvar[self.loads])
        self.sources = np.nonzero(power & twin.is_source)[0]
        for i in self.sources:
            pp.create_ext_grid(net, int(self.bus_of[i]), vm_pu=float(ph.vm_pu[i]))
        self.net = net
        self.n_bus = n_bus
        # component -> row of its element table
        self.line_row = np.full(n, -1, dtype=np.int64)
        self.line_row[le] = np.arange(len(le))
        self.load_row = np.full(n, -1, dtype=np.int64)
        self.load_row[self.loads] = np.arange(len(self.loads))
        self.trafo_row = np.full(n, -1, dtype=np.int64)
        self.trafo_row[s] = np.arange(len(s))
        self.source_row = np.full(n, -1, dtype=np.int64)
        self.source_row[self.sources] = np.arange(len(self.sources))
        self.last_vm_pu: dict[int, float] = {}

    def _nominal_voltages(self, n_bus: int, bu: np.ndarray, bv: np.ndarray,
                          short: np.ndarray, fe: np.ndarray, ph) -> np.ndarray:
        vn = np.full(n_bus, np.nan)
        tl = ~fe
        for b, kv in ((bu[tl], ph.vn_kv[self.edges[tl]]), (bv[tl], ph.vn_kv[self.edges[tl]])):
            np.fmax.at(vn, b, kv)
        vn[self.bus_of[self.subs]] = ph.vn_kv[self.subs]
        lv = self.lv_bus_of[self.subs]
        # the buses a feeder reaches from a substation's LV bus take its voltage
        f = fe & ~short
        g = coo_matrix((np.ones(int(f.sum())), (bu[f], bv[f])), shape=(n_bus, n_bus))
        _, comp = connected_components(g, directed=False)
        comp_kv = np.full(comp.max() + 1 if n_bus else 0, np.nan)
        np.fmax.at(comp_kv, comp[lv], ph.vn_lv_kv[self.subs])
        from_feeder = comp_kv[comp]
        vn = np.where(np.isnan(vn), from_feeder, vn)
        vn[lv] = ph.vn_lv_kv[self.subs]
        return np.where(np.isnan(vn), 10.0, vn)

    # ------------------------------------------------------------------ solving
    def solve(self, nodes: np.ndarray, edges: np.ndarray, *, shed: bool = True
              ) -> np.ndarray | None:
        """Solve one energised island; return the loads' served flag (1 or 0).

        Parameters
        ----------
        nodes, edges : int arrays
            Components of the island (power nodes reached from a source, available
            edges between them).
        shed : bool
            Shed loads until the island is within limits (else solve once).

        Returns
        -------
        served : float64[len(loads in nodes)] or None
            1 for a load kept, 0 for a shed load, in the order of the island's loads
            (``nodes`` filtered to power loads); None when the flow does not converge.
        """
        import pandapower as pp

        net = self.net
        st = self.settings
        bus_on = np.zeros(self.n_bus, dtype=bool)
        bus_on[self.bus_of[nodes]] = True
        isl_subs = nodes[self.trafo_row[nodes] >= 0]
        bus_on[self.lv_bus_of[isl_subs]] = True
        line_on = np.zeros(len(self.line_edges), dtype=bool)
        rows = self.line_row[edges]
        line_on[rows[rows >= 0]] = True
        trafo_on = np.zeros(len(self.subs), dtype=bool)
        trafo_on[self.trafo_row[isl_subs]] = True
        isl_loads = nodes[self.load_row[nodes] >= 0]
        src_on = np.zeros(len(self.sources), dtype=bool)
        src_on[self.source_row[nodes[self.source_row[nodes] >= 0]]] = True
        net.bus["in_service"] = bus_on
        net.line["in_service"] = line_on
        net.trafo["in_service"] = trafo_on
        net.ext_grid["in_service"] = src_on
        kept = np.ones(len(isl_loads), dtype=bool)
        crit = self.twin.critical[isl_loads]
        lrows = self.load_row[isl_loads]
        for _ in range(MAX_SHED_STEPS + 1):
            load_on = np.zeros(len(self.loads), dtype=bool)
            load_on[lrows[kept]] = True
            net.load["in_service"] = load_on
            try:
                pp.runpp(net)
            except pp.LoadflowNotConverged:
                return None
            vm = net.res_bus.vm_pu.to_numpy()
            self.last_vm_pu = dict(zip(nodes.tolist(), vm[self.bus_of[nodes]].tolist(),
                                       strict=True))
            if not shed:
                break
            cand = self._candidates(isl_loads, kept, vm, line_on, trafo_on, src_on, bus_on)
            if cand is None:
                break
            if not len(cand):
                break
            # non-critical first, then the lowest voltage
            lv = vm[self.bus_of[isl_loads[cand]]]
            order = cand[np.lexsort((np.nan_to_num(lv, nan=0.0), crit[cand]))]
            k = max(1, math.ceil(st.shed_step * len(cand)))
            kept[order[:k]] = False
        return kept.astype(float)

    def _candidates(self, isl_loads: np.ndarray, kept: np.ndarray, vm: np.ndarray,
                    line_on: np.ndarray, trafo_on: np.ndarray, src_on: np.ndarray,
                    bus_on: np.ndarray) -> np.ndarray | None:
        """Positions (in ``isl_loads``) of kept loads to shed next; None: within limits."""
        st = self.settings
        net = self.net
        vmb = vm[bus_on]
        low = np.any(vmb < st.vm_min_pu - 1e-9)
        high = np.any(vmb > st.vm_max_pu + 1e-9)
        ll = np.nan_to_num(net.res_line.loading_percent.to_numpy(), nan=0.0)
        tl = np.nan_to_num(net.res_trafo.loading_percent.to_numpy(), nan=0.0) \
            if len(net.trafo) else np.zeros(0)
        over_l = line_on & (ll > st.max_loading_percent + 1e-9)
        over_t = trafo_on & (tl > st.max_loading_percent + 1e-9)
        if not (low or high or over_l.any() or over_t.any()):
            return None
        lb = self.bus_of[isl_loads]
        cand = kept & (vm[lb] < st.vm_min_pu - 1e-9)
        if over_l.any() or over_t.any():
            behind = self._cut_off(line_on & ~over_l, trafo_on & ~over_t, src_on, bus_on)
            cand |= kept & behind[lb]
        if high and not cand.any():
            # over-voltage alone: shedding does not help; stop (the island stays served)
            return np.zeros(0, dtype=np.int64)
        return np.nonzero(cand)[0]

    def _cut_off(self, line_on: np.ndarray, trafo_on: np.ndarray, src_on: np.ndarray,
                 bus_on: np.ndarray) -> np.ndarray:
        """Buses that no source reaches when the overloaded elements are removed."""
        net = self.net
        fb = net.line.from_bus.to_numpy()[line_on]
        tb = net.line.to_bus.to_numpy()[line_on]
        hv = net.trafo.hv_bus.to_numpy()[trafo_on]
        lv = net.trafo.lv_bus.to_numpy()[trafo_on]
        a = np.concatenate([fb, hv])
        b = np.concatenate([tb, lv])
        g = coo_matrix((np.ones(len(a)), (a, b)), shape=(self.n_bus, self.n_bus))
        _, comp = connected_components(g, directed=False)
        fed = np.zeros(comp.max() + 1, dtype=bool)
        fed[comp[net.ext_grid.bus.to_numpy()[src_on]]] = True
        return bus_on & ~fed[comp]
