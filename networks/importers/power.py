"""pandapower networks to the twin's power graph.

Conversion rules (keyword arguments; all recorded in ``meta``)
--------------------------------------------------------------
Only in-service elements are read.

Switches
    A *closed* bus-bus switch (``et="b"``) merges its two buses; an *open* one
    does nothing. A line switch (``et="l"``), open or closed, is kept on its line
    (the schema's ``switch`` field): an open one is a ``tie`` (normally open: the
    line carries nothing until it is closed, so the twin sees the network as
    operated, radial with open sectioning points), a closed one at a substation's
    bus (the feeder bay) or of ``type`` ``CB`` a ``breaker``, any other closed one a
    ``sectionalizer``; none
    is ``automated`` (pandapower does not say; a scenario's ``self_healing.
    automated_share`` chooses). Several switches on one line make one switch: open
    when any is, a breaker when any is. An open transformer switch (``et="t"``)
    removes the transformer. Meshed operation is kept as given.
Transformers -> ``substation``
    Each transformer merges its HV and LV buses (and whatever closed bus-bus
    switches tie to them) into one node ``PT:<trafo index>`` at the LV bus's
    location, ``voltage_kv`` = HV rating, ``capacity_mva`` = ``sn_mva`` (summed
    when several transformers share the merged bus). Three-winding transformers
    are read the same way (HV, MV and LV buses merged). For the power flow the
    station keeps the first transformer's ``vn_lv_kv``, ``vk_percent``,
    ``vkr_percent`` and ``i0_percent`` (parallel units of one type have the values of
    one), ``pfe_kw`` summed over the units, and the off-nominal ratio
    ``tap_percent`` = ``tap_step_percent x (tap_pos - tap_neutral)``, negated for a
    tap on the LV side (first order); the phase shift is not kept (voltage
    magnitudes do not depend on it).
Buses -> ``distribution_node``
    Every other group of merged buses is a node ``PB:<lowest bus index>``.
External grids -> ``grid_supply``
    A node ``PG:<index>`` at its bus (``vm_pu`` = the grid's set point), joined to
    that bus's node by a zero-length, underground ``transmission_line``
    ``PG:<index>~tie`` (the upstream grid is outside the model, so the tie carries
    no length-based fragility).
    ``capacity_mw`` = ``grid_capacity_mw`` when given, else ``grid_margin``
    (default 1.2) x the peak load of the supply's component in the operated
    network, split equally between the supplies of that component: an intact
    network serves every load and transformer ratings (kept as
    ``capacity_mva``) are not used as a bound. Transformer ratings are usually
    below the sum of peak loads (diversity: mv_oberrhein has 2 x 25 MVA for
    61.9 MW of peak load, operated at ``scaling`` 0.6).
Loads -> ``power_load``
    A leaf node ``PLD:<index>`` at its bus, joined to the bus node by a
    zero-length underground ``feeder_segment`` ``PLD:<index>~svc`` (the MV/LV
    station's service connection). ``demand_mw`` = ``p_mw`` (the peak load;
    pandapower's ``scaling`` is an operating point and is not applied unless
    ``apply_scaling``). ``customers`` (people) = ``demand_mw x
    customers_per_mw`` (default 1,000 per MW: a national peak of about 1 kW per
    person). ``critical`` is False. ``q_mvar`` = ``q_mvar`` (scaled like ``p_mw``).
Static generators
    Ignored: distributed PV/wind trips on loss of the grid (anti-islanding), so
    it is not a source of the twin; counted in ``meta``.
Lines -> ``feeder_segment`` (``transmission_line`` above ``feeder_max_kv``)
    ``length_m`` = ``length_km x 1000``; ``overhead`` from the line's ``type``
    (``ol`` overhead, ``cs`` cable; unknown: True unless the std_type names a
    cable, ``NA2XS``/``N2XS``/``NAYY``/``NYY``). Impedances and rating as given:
    ``r_ohm_per_km``, ``x_ohm_per_km``, ``c_nf_per_km``, ``max_i_ka`` (per circuit) and
    ``parallel`` (circuits). The polyline from the line's
    geodata (first vertex at the from-bus), else straight. A line whose two
    buses were merged is dropped; a second line between the same two nodes is
    split at its mid point by a distribution node.
Coordinates
    Bus geodata (``bus.geo`` GeoJSON, or the older ``bus_geodata`` table) in
    ``geodata_crs`` (default EPSG:4326, lon/lat) are projected to ``crs``, by
    default the UTM zone of the buses' centroid. Every bus that is kept needs
    coordinates.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import networkx as nx
import numpy as np

from common.errors import NetworkError
from networks.importers._common import ImportedPart, add_edge_split_parallel, projected_crs
from networks.schema import NetworkKind

_CABLE_TYPES = ("NA2XS", "N2XS", "NAYY", "NYY")


class _UF:
    def __init__(self) -> None:
        self.p: dict[int, int] = {}

    def find(self, a: int) -> int:
        self.p.setdefault(a, a)
        while self.p[a] != a:
            self.p[a] = self.p[self.p[a]]
            a = self.p[a]
        return a

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.p[max(ra, rb)] = min(ra, rb)


def _load_net(net_or_path, where: str):
    import pandapower as pp

    from common.digest import regular_file_problem

    if isinstance(net_or_path, str | Path):
        path = Path(net_or_path)
        problem = regular_file_problem(path)
        if problem:
            raise NetworkError(f"pandapower {problem}", where=str(path))
        try:
            return pp.from_json(str(path))
        except Exception as e:  # noqa: BLE001 - pandapower raises many types for a bad file
            msg = " ".join(str(e).split())[:300]
            raise NetworkError(f"cannot read pandapower JSON ({type(e).__name__}: {msg})",
                               where=str(path)) from None
    if not hasattr(net_or_path, "bus"):
        raise NetworkError(f"not a pandapower net: {type(net_or_path).__name__}", where=where)
    return net_or_path


def _active(df):
    return df[df["in_service"].astype(bool)] if "in_service" in df.columns else df


def _bus_lonlat(net, where: str) -> dict[int, tuple[float, float]]:
    out: dict[int, tuple[float, float]] = {}
    if "geo" in net.bus.columns:
        for b, geo in net.bus["geo"].items():
            if isinstance(geo, str) and geo.strip():
                try:
                    c = json.loads(geo)["coordinates"]
                    out[int(b)] = (float(c[0]), float(c[1]))
                except (ValueError, KeyError, TypeError, IndexError):
                    raise NetworkError(f"bus {b}: unreadable geodata {geo[:60]!r}",
                                       where=where) from None
    bg = getattr(net, "bus_geodata", None)
    if bg is not None and len(bg):
        for b, r in bg.iterrows():
            if int(b) not in out and np.isfinite(r.get("x", np.nan)):
                out[int(b)] = (float(r["x"]), float(r["y"]))
    return out


def _line_lonlat(net, idx: int) -> list[tuple[float, float]] | None:
    if "geo" in net.line.columns:
        geo = net.line.at[idx, "geo"]
        if isinstance(geo, str) and geo.strip():
            try:
                return [(float(x), float(y)) for x, y, *_ in json.loads(geo)["coordinates"]]
            except (ValueError, KeyError, TypeError):
                return None
    lg = getattr(net, "line_geodata", None)
    if lg is not None and idx in getattr(lg, "index", ()):
        c = lg.at[idx, "coords"]
        return [(float(x), float(y)) for x, y in c] if c is not None else None
    return None


def _num(r, key: str) -> float | None:
    v = r.get(key) if hasattr(r, "get") else None
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _line_physics(r) -> dict:
    """Impedances, rating and circuits of a line row (the ones it gives)."""
    out = {k: v for k in ("r_ohm_per_km", "x_ohm_per_km", "c_nf_per_km", "max_i_ka")
           if (v := _num(r, k)) is not None and v >= 0}
    if out.get("max_i_ka") == 0:
        del out["max_i_ka"]
    par = _num(r, "parallel")
    if par is not None and par >= 1:
        out["parallel"] = int(par)
    return out


def _trafo_physics(r, lv_key: str, vk_key: str, vkr_key: str, pfe_key: str,
                   i0_key: str) -> dict:
    """LV voltage, short-circuit voltages, no-load losses and tap of a transformer row."""
    out = {k: v for k, src in (("vn_lv_kv", lv_key), ("vk_percent", vk_key),
                               ("vkr_percent", vkr_key), ("pfe_kw", pfe_key),
                               ("i0_percent", i0_key)) if (v := _num(r, src)) is not None}
    step, pos = _num(r, "tap_step_percent"), _num(r, "tap_pos")
    if step is not None and pos is not None:
        tap = step * (pos - (_num(r, "tap_neutral") or 0.0))
        out["tap_percent"] = -tap if str(r.get("tap_side", "hv")).lower() == "lv" else tap
    return out


def from_pandapower(net_or_json_path, *, crs: str | None = None,
                    geodata_crs: str = "EPSG:4326", grid_margin: float = 1.2,
                    grid_capacity_mw: float | None = None, customers_per_mw: float = 1000.0,
                    apply_scaling: bool = False, feeder_max_kv: float = 35.0) -> ImportedPart:
    """Read a pandapower net (object or JSON file) into the twin's power graph.

    Parameters
    ----------
    net_or_json_path : pandapowerNet or path
        A pandapower network, e.g. ``pandapower.networks.mv_oberrhein()``, or
        its JSON file.
    crs : str, optional
        Projected CRS (metres) of the result; default: the UTM zone of the buses.
    geodata_crs : str
        CRS of the bus and line geodata (pandapower stores lon/lat).
    grid_margin, grid_capacity_mw, customers_per_mw, apply_scaling, feeder_max_kv
        Parameters of the conversion rules of the module docstring.

    Returns
    -------
    ImportedPart
        ``kind`` power; ``meta`` records the rules, parameters and counts.

    Raises
    ------
    NetworkError
        Unreadable file, a bus without geodata, no external grid, a bad CRS.
    """
    where = str(net_or_json_path) if isinstance(net_or_json_path, str | Path) else "pandapower net"
    net = _load_net(net_or_json_path, where)
    for name, v in (("grid_margin", grid_margin), ("customers_per_mw", customers_per_mw)):
        if not (isinstance(v, int | float) and math.isfinite(v) and v >= 0):
            raise NetworkError(f"{name} must be a number >= 0, got {v!r}", where=where)
    buses = _active(net.bus)
    lines = _active(net.line)
    trafos = _active(net.trafo) if "trafo" in net and len(net.trafo) else None
    trafo3w = _active(net.trafo3w) if "trafo3w" in net and len(net.trafo3w) else None
    loads = _active(net.load)
    ext = _active(net.ext_grid)
    if len(ext) == 0:
        raise NetworkError("the net has no in-service ext_grid: nothing supplies it", where=where)
    sw = net.switch if "switch" in net else None
    open_lines: set[int] = set()
    line_switch: dict[int, str] = {}  # line -> breaker / sectionalizer (closed switches)
    closed_line_sw: list[tuple[int, int, str]] = []  # (line, bus, type)
    open_trafos: set[int] = set()
    uf = _UF()
    for b in buses.index:
        uf.find(int(b))
    if sw is not None and len(sw):
        for _, s in sw.iterrows():
            closed = bool(s["closed"])
            if s["et"] == "b" and closed:
                if int(s["bus"]) in uf.p and int(s["element"]) in uf.p:
                    uf.union(int(s["bus"]), int(s["element"]))
            elif s["et"] == "l":
                li = int(s["element"])
                if not closed:
                    open_lines.add(li)
                else:
                    closed_line_sw.append((li, int(s["bus"]),
                                           str(s.get("type", "") or "").upper()))
            elif s["et"] == "t" and not closed:
                open_trafos.add(int(s["element"]))
    station: dict[int, list[tuple[str, float, float]]] = {}  # root -> [(id, kv, mva)]
    trafo_rows = []
    trafo_physics: dict[str, dict] = {}
    if trafos is not None:
        for t, r in trafos.iterrows():
            if int(t) in open_trafos:
                continue
            trafo_rows.append((f"PT:{t}", (int(r["hv_bus"]), int(r["lv_bus"])),
                               float(r["vn_hv_kv"]), float(r["sn_mva"]), int(r["lv_bus"])))
            trafo_physics[f"PT:{t}"] = _trafo_physics(r, "vn_lv_kv", "vk_percent",
                                                      "vkr_percent", "pfe_kw", "i0_percent")
    if trafo3w is not None:
        for t, r in trafo3w.iterrows():
            trafo_rows.append((f"PT3:{t}", (int(r["hv_bus"]), int(r["mv_bus"]),
                                            int(r["lv_bus"])), float(r["vn_hv_kv"]),
                               float(r["sn_hv_mva"]), int(r["lv_bus"])))
            trafo_physics[f"PT3:{t}"] = _trafo_physics(r, "vn_mv_kv", "vk_hv_percent",
                                                       "vkr_hv_percent", "pfe_kw",
                                                       "i0_percent")
    for _tid, bs, _kv, _mva, _lv in trafo_rows:
        for b in bs[1:]:
            uf.union(bs[0], b)
    for tid, bs, kv, mva, lv in trafo_rows:
        station.setdefault(uf.find(bs[0]), []).append((tid, kv, mva, lv))
    # a closed line switch at a station's bus is its feeder's breaker (the feeder bay),
    # whatever its type; elsewhere a circuit breaker stays one, the rest sectionalize
    for li, bus, typ in closed_line_sw:
        at_station = bus in uf.p and uf.find(bus) in station
        kind = "breaker" if typ == "CB" or at_station else "sectionalizer"
        if line_switch.get(li) != "breaker":
            line_switch[li] = kind

    lonlat = _bus_lonlat(net, where)
    from pyproj import CRS, Transformer

    try:
        src = CRS.from_user_input(geodata_crs)
    except Exception:  # noqa: BLE001
        raise NetworkError(f"unknown geodata CRS {geodata_crs!r}", where=where) from None
    used = set(int(b) for b in buses.index)
    no_geo = sorted(b for b in used if b not in lonlat)
    if no_geo:
        what = (f"bus {no_geo[0]} has" if len(no_geo) == 1
                else f"buses {no_geo[0]} and {len(no_geo) - 1} more have")
        raise NetworkError(f"{what} no geodata (bus.geo); the twin needs every asset's "
                           "location", where=where)
    if crs is None:
        if src.is_projected:
            crs_s = projected_crs(geodata_crs, where)
        else:
            import geopandas as gpd

            pts = np.array(list(lonlat.values()))
            crs_s = gpd.GeoSeries(gpd.points_from_xy(pts[:, 0], pts[:, 1]),
                                  crs=src).estimate_utm_crs().to_string()
    else:
        crs_s = projected_crs(crs, where)
    tr = Transformer.from_crs(src, CRS.from_user_input(crs_s), always_xy=True)

    def proj(pts) -> np.ndarray:
        a = np.asarray(pts, dtype=float).reshape(-1, 2)
        x, y = tr.transform(a[:, 0], a[:, 1])
        return np.column_stack([x, y])

    bus_xy = {b: tuple(proj([lonlat[b]])[0]) for b in used}

    g = nx.Graph()
    node_of: dict[int, str] = {}  # root bus -> node id
    for root in sorted({uf.find(b) for b in used}):
        if root in station:
            st = station[root]
            node = st[0][0]
            x, y = bus_xy[st[0][3]]
            g.add_node(node, asset_class="substation", x_m=float(x), y_m=float(y),
                       voltage_kv=max(s[1] for s in st), capacity_mva=sum(s[2] for s in st),
                       **trafo_physics[node])
            if len(st) > 1 and "pfe_kw" in g.nodes[node]:  # iron losses of all the units
                g.nodes[node]["pfe_kw"] = sum(trafo_physics[s[0]].get("pfe_kw", 0.0) for s in st)
        else:
            node = f"PB:{root}"
            x, y = bus_xy[root]
            g.add_node(node, asset_class="distribution_node", x_m=float(x), y_m=float(y))
        node_of[root] = node

    def bus_node(b: int) -> str:
        return node_of[uf.find(int(b))]

    dropped: dict[str, list] = {"merged_ends": [],
                                "out_of_service_lines": sorted(
                                    int(i) for i in net.line.index if i not in lines.index)}
    split: list[str] = []
    mid_attrs = {"asset_class": "distribution_node"}
    for li, r in lines.iterrows():
        li = int(li)
        if any(uf.find(int(r[k])) not in node_of for k in ("from_bus", "to_bus")):
            dropped["out_of_service_lines"].append(li)  # an end bus is out of service
            continue
        u, v = bus_node(r["from_bus"]), bus_node(r["to_bus"])
        if u == v:
            dropped["merged_ends"].append(li)
            continue
        typ = str(r.get("type", "") or "").lower()
        std = str(r.get("std_type", "") or "")
        overhead = (typ == "ol") if typ in ("ol", "cs") else not any(
            c in std.upper() for c in _CABLE_TYPES)
        pts = _line_lonlat(net, li)
        if pts and len(pts) >= 2:
            coords = proj(pts)
        else:
            coords = np.array([(g.nodes[u]["x_m"], g.nodes[u]["y_m"]),
                               (g.nodes[v]["x_m"], g.nodes[v]["y_m"])])
        kv = float(net.bus.at[int(r["from_bus"]), "vn_kv"])
        attrs = {"length_m": float(r["length_km"]) * 1000.0, "overhead": bool(overhead),
                 "coords": coords, **_line_physics(r)}
        if kv > feeder_max_kv:
            attrs.update(asset_class="transmission_line", voltage_kv=kv)
        else:
            attrs["asset_class"] = "feeder_segment"
        if li in open_lines:
            attrs.update(switch="tie", normally_open=True, automated=False)
        elif li in line_switch:
            attrs.update(switch=line_switch[li], normally_open=False, automated=False)
        add_edge_split_parallel(g, u, v, f"PL:{li}", attrs, mid_attrs, split)

    scale = loads["scaling"].astype(float) if apply_scaling and "scaling" in loads else 1.0
    p_mw = (loads["p_mw"].astype(float) * scale).clip(lower=0.0)
    q_mvar = loads["q_mvar"].astype(float).fillna(0.0) * scale if "q_mvar" in loads else None
    for ld, p in p_mw.items():
        b = int(loads.at[ld, "bus"])
        if uf.find(b) not in node_of:
            raise NetworkError(f"load {ld}: bus {b} is out of service", where=where)
        x, y = bus_xy[b]
        lid = f"PLD:{ld}"
        g.add_node(lid, asset_class="power_load", x_m=float(x), y_m=float(y),
                   demand_mw=float(p), customers=float(p) * customers_per_mw, critical=False)
        if q_mvar is not None:
            g.nodes[lid]["q_mvar"] = float(q_mvar[ld])
        g.add_edge(bus_node(b), lid, id=f"{lid}~svc", asset_class="feeder_segment",
                   length_m=0.0, overhead=False)

    # grid supplies: capacity from the peak load of their component (operated network)
    supplies = []
    for e, r in ext.iterrows():
        b = int(r["bus"])
        if uf.find(b) not in node_of:
            raise NetworkError(f"ext_grid {e}: bus {b} is out of service", where=where)
        gid = f"PG:{e}"
        x, y = bus_xy[b]
        vm = float(r["vm_pu"]) if "vm_pu" in r and np.isfinite(r["vm_pu"]) else 1.0
        g.add_node(gid, asset_class="grid_supply", x_m=float(x), y_m=float(y), capacity_mw=0.0,
                   vm_pu=vm)
        g.add_edge(gid, bus_node(b), id=f"{gid}~tie", asset_class="transmission_line",
                   length_m=0.0, voltage_kv=float(net.bus.at[b, "vn_kv"]), overhead=False)
        supplies.append(gid)
    unsupplied = []
    operated = nx.Graph()  # without the lines behind open switches
    operated.add_nodes_from(g.nodes)
    operated.add_edges_from((u, v) for u, v, a in g.edges(data=True)
                            if not a.get("normally_open"))
    for comp in nx.connected_components(operated):
        sup = [s for s in supplies if s in comp]
        load = sum(g.nodes[n].get("demand_mw", 0.0) for n in comp
                   if g.nodes[n]["asset_class"] == "power_load")
        if not sup:
            unsupplied += sorted(n for n in comp if g.nodes[n]["asset_class"] == "power_load")
            continue
        for s in sup:
            g.nodes[s]["capacity_mw"] = (float(grid_capacity_mw) if grid_capacity_mw is not None
                                         else grid_margin * load / len(sup))
    meta = {
        "source": where, "format": "pandapower", "crs": crs_s, "geodata_crs": str(geodata_crs),
        "rules": {"grid_margin": grid_margin, "grid_capacity_mw": grid_capacity_mw,
                  "customers_per_mw": customers_per_mw, "apply_scaling": apply_scaling,
                  "feeder_max_kv": feeder_max_kv},
        "total_load_mw": float(p_mw.sum()),
        "counts": {"buses": len(buses), "lines": len(lines), "loads": len(loads),
                   "trafos": len(trafo_rows), "ext_grids": len(ext),
                   "sgen_ignored": int(len(_active(net.sgen))) if "sgen" in net else 0},
        "dropped_lines": dropped, "split_parallel_lines": split,
        "switches": {"open_lines": sorted(open_lines),
                     "closed_lines": sorted(li for li in line_switch if li not in open_lines)},
        "loads_without_supply": unsupplied,
    }
    return ImportedPart(NetworkKind.POWER, g, crs_s, (), meta)
