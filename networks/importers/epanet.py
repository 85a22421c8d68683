"""EPANET ``.inp`` water networks to the twin's water graph (through WNTR).

Conversion rules (every number is a keyword argument; all are recorded in ``meta``)
-----------------------------------------------------------------------------------
Ids
    EPANET node and link ids share no namespace (Net3 has node ``10`` and pump
    ``10``), twin ids must be unique across a city: nodes become ``WN:<id>``,
    pipes and valves ``WL:<id>``, pumps ``WPS:<id>`` (station) with pipes
    ``WL:<id>~in`` / ``WL:<id>~out``.
Coordinates
    EPANET coordinates carry no CRS: ``crs`` names the projected CRS (metres) they
    are in after ``x_m = scale * x + dx``, ``y_m = scale * y + dy``. ``scale="auto"``
    estimates the metres per coordinate unit as the median over pipes of
    ``length / straight distance between its end nodes`` (for schematic files
    such as Net3, whose coordinates are in arbitrary units); ``anchor_xy`` puts
    the centroid of the scaled coordinates at that point (``dx, dy`` follow).
    Every node must have a coordinate; a missing one is an error naming it.
    ``[VERTICES]`` become the edges' polylines.
Junctions -> ``junction``
    ``demand_m3h`` = sum of the base demands of all demand categories (m3/s,
    WNTR's SI) x 3600: the average demand when patterns average 1; patterns and
    the global demand multiplier are not applied. Negative base demands
    (inflows) count as 0 and are listed in ``meta["negative_demand_nodes"]``.
    ``customers`` (people) = ``demand_m3h * 24 * 1000 / litres_per_person_day``
    (default 200 L per person per day: ``customers = 120 * demand_m3h``).
    ``elevation_m`` from the file.
Reservoirs -> ``treatment_plant`` (the network's sources)
    ``head_m`` = the base head (a head pattern is not applied), ``elevation_m`` too.
    ``capacity_m3h`` = ``reservoir_capacity_m3h`` when given, else
    ``peaking_factor`` (default 1.5) x total junction demand / number of
    reservoirs: together they cover the peak hour; one lost reservoir leaves
    the others ``peaking_factor / n`` of demand.
Tanks -> ``tank``
    ``volume_m3`` = usable volume between minimum and maximum level
    (``pi/4 * diameter^2 * (max_level - min_level)``, or the volume curve when
    the tank has one). ``storage_h`` = ``storage_h`` when given, else the
    system's autonomy at average demand, total usable tank volume / total
    junction demand: each tank is taken to serve a share of demand in proportion
    to its volume, so its ``volume_m3 / storage_h`` (the twin's delivery rate of
    a tank) is that share. For the hydraulics: ``elevation_m``, ``min_level_m``,
    ``max_level_m``, ``init_level_m`` from the file (the diameter follows from the
    volume; a volume curve becomes the equivalent cylinder).
Pipes -> ``pipe``
    ``length_m`` and ``diameter_m`` from the file (WNTR converts to SI);
    ``roughness`` (Hazen-Williams C) when the file's headloss formula is H-W (other
    formulas' roughness means something else: left out, the default applies and
    ``meta["rules"]["roughness"]`` says so). Minor losses are not kept. Check
    valves stay pipes. A pipe whose initial status is ``Closed`` is dropped
    unless a control or rule names it (a normally-closed link that operates, as
    Net3's bypass ``330``). A pipe joining a node to itself is dropped.
Valves -> ``pipe``
    PRV/PSV/PBV/FCV/TCV/GPV become pipes of the valve's diameter; length is the
    straight distance between the end nodes (at least 1 m). A valve closed in
    ``[STATUS]`` and not named by a control or rule is dropped.
Pumps -> ``pump_station``
    A node ``WPS:<id>`` at the pump link's mid point, joined to both end nodes
    by pipes of half the straight distance each (at least 1 m) with the diameter
    of the widest pipe at either end (0.3 m if none). All pumps are kept,
    whatever their initial status (controls cycle them). ``capacity_m3h`` is
    the design flow of the pump curve x 3600 (head pumps); for a constant-power
    pump, ``peaking_factor`` x total demand. ``backup_h`` = ``pump_backup_h``
    (default 0: no on-site generator unless you know better). For the hydraulics:
    ``head_m`` = the curve's head at ``capacity_m3h`` and ``shutoff_head_m`` its head
    at zero flow (both read off the curve, straight between its points), so a one-
    or two-point curve is kept exactly and a multi-point one as its chord through
    those two points; ``elevation_m`` of the suction node. The pipe ``~in`` runs from
    the suction node (the link's start).
Parallel links
    A second link between the same two nodes is split at its mid point by a
    zero-demand junction (see :func:`~networks.importers._common.add_edge_split_parallel`).
Controls and rules
    WNTR 1.5 cannot parse some ``[RULES]`` (Micropolis: ``SYSTEM CLOCKTIME >= 6
    AM``). Controls and rules do not change the topology the twin uses, so when
    WNTR fails on a file that has ``[RULES]`` or ``[CONTROLS]``, those sections
    are blanked in a temporary copy and the file is read again;
    ``meta["stripped_sections"]`` says so. Any other parse error is a
    :class:`~common.errors.NetworkError` naming the file.
"""

from __future__ import annotations

import math
import re
import statistics
import tempfile
from pathlib import Path

import networkx as nx
import numpy as np

from common.errors import NetworkError
from networks.importers._common import ImportedPart, add_edge_split_parallel, projected_crs
from networks.schema import NetworkKind

_SECTION = re.compile(r"^\s*\[([A-Za-z_]+)\]")


def _sections(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    cur = None
    for line in text.splitlines():
        m = _SECTION.match(line)
        if m:
            cur = m.group(1).upper()
            out.setdefault(cur, [])
            continue
        if cur is not None:
            out[cur].append(line)
    return out


def _data_lines(lines: list[str]) -> list[list[str]]:
    rows = []
    for line in lines:
        s = line.split(";", 1)[0].strip()
        if s:
            rows.append(s.split())
    return rows


def _blank_sections(text: str, names: set[str]) -> str:
    out, skip = [], False
    for line in text.splitlines():
        m = _SECTION.match(line)
        if m:
            skip = m.group(1).upper() in names
            out.append(line)
            continue
        if not skip:
            out.append(line)
    return "\n".join(out) + "\n"


def _read_wn(path: Path, text: str, sections: dict[str, list[str]]):
    import wntr

    try:
        return wntr.network.WaterNetworkModel(str(path)), []
    except Exception as e:  # noqa: BLE001 - WNTR raises many types for a bad file
        first = e
    strip = {s for s in ("RULES", "CONTROLS") if _data_lines(sections.get(s, []))}
    if strip:
        with tempfile.TemporaryDirectory(prefix="twin-inp-") as d:
            tmp = Path(d) / path.name
            tmp.write_text(_blank_sections(text, strip))
            try:
                return wntr.network.WaterNetworkModel(str(tmp)), sorted(strip)
            except Exception:  # noqa: BLE001
                pass
    msg = " ".join(str(first).split()) or type(first).__name__
    raise NetworkError(f"cannot read EPANET file ({type(first).__name__}: {msg[:300]})",
                       where=str(path)) from None


def _elevation(node) -> float:
    """Ground elevation of a node (a reservoir's is its head)."""
    z = getattr(node, "elevation", None)
    if z is None:
        z = getattr(node, "base_head", 0.0)
    return float(z)


def _pump_heads(pump, q_m3s: float) -> dict:
    """``head_m`` at ``q_m3s`` and ``shutoff_head_m`` of a head pump's curve (straight
    between its points, extended from the end segments); none for a power pump."""
    if getattr(pump, "pump_type", "") != "HEAD":
        return {}
    try:
        pts = sorted((float(q), float(h)) for q, h in pump.get_pump_curve().points)
    except Exception:  # noqa: BLE001 - a curve WNTR cannot read
        return {}
    if not pts:
        return {}
    if len(pts) == 1:
        return {"head_m": pts[0][1]}

    def at(q: float) -> float:
        k = 1 if q <= pts[1][0] else next((i for i in range(1, len(pts)) if q <= pts[i][0]),
                                          len(pts) - 1)
        (q0, h0), (q1, h1) = pts[k - 1], pts[k]
        return h0 if q1 == q0 else h0 + (h1 - h0) * (q - q0) / (q1 - q0)

    return {"head_m": at(q_m3s), "shutoff_head_m": at(0.0)}


def from_epanet(inp_path: Path | str, *, crs: str, roads: nx.Graph | None = None,
                scale: float | str = 1.0, anchor_xy: tuple[float, float] | None = None,
                peaking_factor: float = 1.5, litres_per_person_day: float = 200.0,
                reservoir_capacity_m3h: float | None = None, storage_h: float | None = None,
                pump_backup_h: float = 0.0) -> ImportedPart:
    """Read an EPANET ``.inp`` file into the twin's water graph.

    Parameters
    ----------
    inp_path : path
        EPANET 2.x input file with a ``[COORDINATES]`` entry for every node.
    crs : str
        Projected CRS (metres) the (scaled, shifted) coordinates are in, e.g.
        ``"EPSG:32632"``. EPANET files carry no CRS, so this is required.
    roads : networkx.Graph, optional
        A road graph in the same CRS; when given, every water node gets a
        ``road_access`` dependency on its nearest road node.
    scale : float or "auto"
        Metres per coordinate unit (see the module docstring).
    anchor_xy : (float, float), optional
        Where the centroid of the node coordinates lands, in ``crs``.
    peaking_factor, litres_per_person_day, reservoir_capacity_m3h, storage_h, pump_backup_h
        Parameters of the conversion rules of the module docstring.

    Returns
    -------
    ImportedPart
        ``kind`` water; ``meta`` records the rules, parameters and counts.

    Raises
    ------
    NetworkError
        Missing or unreadable file, a node without coordinates, an unknown or
        geographic CRS, a bad parameter; one line naming the file and element.
    """
    path = Path(inp_path)
    where = str(path)
    from common.digest import regular_file_problem

    problem = regular_file_problem(path)
    if problem:
        raise NetworkError(f"EPANET {problem}", where=where)
    crs_s = projected_crs(crs, where)
    for name, v in (("peaking_factor", peaking_factor),
                    ("litres_per_person_day", litres_per_person_day)):
        if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
            raise NetworkError(f"{name} must be a positive number, got {v!r}", where=where)
    try:
        text = path.read_text(errors="replace")
    except OSError as e:
        raise NetworkError(f"cannot read file: {e.strerror}", where=where) from None
    sections = _sections(text)
    if "JUNCTIONS" not in sections and "RESERVOIRS" not in sections:
        raise NetworkError("not an EPANET input file (no [JUNCTIONS] or [RESERVOIRS] section)",
                           where=where)
    controlled = {m.group(1) for s in ("CONTROLS", "RULES")
                  for line in sections.get(s, [])
                  for m in re.finditer(r"\bLINK\s+(\S+)", line.split(";", 1)[0], re.I)}
    wn, stripped = _read_wn(path, text, sections)

    # coordinates: every node needs one ([COORDINATES] is parsed here because WNTR
    # silently gives a node without one the coordinate (0, 0))
    have_xy = {r[0] for r in _data_lines(sections.get("COORDINATES", [])) if len(r) >= 3}
    missing = [n for n in wn.node_name_list if n not in have_xy]
    if missing:
        what = (f"node '{missing[0]}' has" if len(missing) == 1
                else f"nodes '{missing[0]}' and {len(missing) - 1} more have")
        raise NetworkError(f"{what} no coordinates ([COORDINATES]); the twin needs every "
                           "asset's location", where=where)
    raw = {n: tuple(map(float, wn.get_node(n).coordinates)) for n in wn.node_name_list}

    if scale == "auto":
        ratios = []
        for _, p in wn.pipes():
            (x1, y1), (x2, y2) = raw[p.start_node_name], raw[p.end_node_name]
            d = math.hypot(x2 - x1, y2 - y1)
            if d > 0 and not p.vertices and p.length > 0:
                ratios.append(p.length / d)
        if not ratios:
            raise NetworkError("scale='auto' needs pipes with distinct end coordinates",
                               where=where)
        k = float(statistics.median(ratios))
    else:
        try:
            k = float(scale)
        except (TypeError, ValueError):
            raise NetworkError(f"scale must be a number or 'auto', got {scale!r}",
                               where=where) from None
        if not (math.isfinite(k) and k > 0):
            raise NetworkError(f"scale must be > 0, got {scale!r}", where=where)
    xs = np.array([v[0] for v in raw.values()]) * k
    ys = np.array([v[1] for v in raw.values()]) * k
    dx = dy = 0.0
    if anchor_xy is not None:
        dx, dy = float(anchor_xy[0]) - float(xs.mean()), float(anchor_xy[1]) - float(ys.mean())

    def xy(x: float, y: float) -> tuple[float, float]:
        return float(k * x + dx), float(k * y + dy)

    def nid(n: str) -> str:
        return f"WN:{n}"

    neg: list[str] = []
    demand: dict[str, float] = {}
    for n, j in wn.junctions():
        q = sum(float(d.base_value) for d in j.demand_timeseries_list) * 3600.0
        if q < 0:
            neg.append(n)
            q = 0.0
        demand[n] = q
    total = float(sum(demand.values()))
    per_m3h = 24.0 * 1000.0 / litres_per_person_day  # people per m3/h of average demand

    g = nx.Graph()
    for n in wn.junction_name_list:
        g.add_node(nid(n), asset_class="junction", x_m=0.0, y_m=0.0, demand_m3h=demand[n],
                   customers=demand[n] * per_m3h, critical=False,
                   elevation_m=float(wn.get_node(n).elevation))
    n_res = len(wn.reservoir_name_list)
    res_cap = (float(reservoir_capacity_m3h) if reservoir_capacity_m3h is not None
               else peaking_factor * total / max(n_res, 1))
    if not (math.isfinite(res_cap) and res_cap >= 0):
        raise NetworkError(f"reservoir capacity must be >= 0, got {res_cap!r}", where=where)
    for n, r in wn.reservoirs():
        g.add_node(nid(n), asset_class="treatment_plant", x_m=0.0, y_m=0.0,
                   capacity_m3h=res_cap, head_m=float(r.base_head),
                   elevation_m=float(r.base_head))
    vols = {}
    for n, t in wn.tanks():
        try:
            v = float(t.get_volume(t.max_level) - t.get_volume(t.min_level))
        except Exception:  # noqa: BLE001 - a broken volume curve
            v = math.pi / 4 * t.diameter ** 2 * (t.max_level - t.min_level)
        if not (math.isfinite(v) and v >= 0):
            raise NetworkError(f"tank '{n}' has no usable volume (max level below min level?)",
                               where=where)
        vols[n] = v
    total_vol = float(sum(vols.values()))
    # autonomy at average demand; 12 h (the schema default) when nothing is consumed
    default_st = total_vol / total if total > 0 else 12.0
    st = float(storage_h) if storage_h is not None else default_st
    for n in vols:
        t = wn.get_node(n)
        g.add_node(nid(n), asset_class="tank", x_m=0.0, y_m=0.0, volume_m3=vols[n],
                   storage_h=st, elevation_m=float(t.elevation),
                   min_level_m=float(t.min_level), max_level_m=float(t.max_level),
                   init_level_m=float(t.init_level))
    for n in wn.node_name_list:
        g.nodes[nid(n)]["x_m"], g.nodes[nid(n)]["y_m"] = xy(*raw[n])

    def line_coords(link) -> np.ndarray:
        pts = [raw[link.start_node_name], *[tuple(v) for v in link.vertices],
               raw[link.end_node_name]]
        return np.array([xy(*p) for p in pts], dtype=float)

    dropped: dict[str, list[str]] = {"closed": [], "self_loop": []}
    split: list[str] = []
    mid_junction = {"asset_class": "junction", "demand_m3h": 0.0, "customers": 0.0,
                    "critical": False}
    closed = {"Closed", "CLOSED", "0"}
    hw = str(wn.options.hydraulic.headloss).upper() == "H-W"
    for name, p in wn.pipes():
        u, v = p.start_node_name, p.end_node_name
        if u == v:
            dropped["self_loop"].append(name)
            continue
        if str(getattr(p.initial_status, "name", p.initial_status)) in closed \
                and name not in controlled:
            dropped["closed"].append(name)
            continue
        attrs = {"asset_class": "pipe", "length_m": float(p.length),
                 "diameter_m": float(p.diameter), "coords": line_coords(p)}
        if hw and math.isfinite(float(p.roughness)) and 1.0 <= float(p.roughness) <= 200.0:
            attrs["roughness"] = float(p.roughness)
        add_edge_split_parallel(g, nid(u), nid(v), f"WL:{name}", attrs, mid_junction, split)
    for name, val in wn.valves():
        u, v = val.start_node_name, val.end_node_name
        if u == v:
            dropped["self_loop"].append(name)
            continue
        if str(getattr(val.initial_status, "name", val.initial_status)) in closed \
                and name not in controlled:
            dropped["closed"].append(name)
            continue
        c = line_coords(val)
        length = max(float(np.hypot(*np.diff(c, axis=0).T).sum()), 1.0)
        add_edge_split_parallel(g, nid(u), nid(v), f"WL:{name}",
                                {"asset_class": "pipe", "length_m": length,
                                 "diameter_m": float(val.diameter), "coords": c},
                                mid_junction, split)

    def widest(node: str) -> float:
        ds = [float(wn.get_link(ln).diameter) for ln in wn.get_links_for_node(node)
              if wn.get_link(ln).link_type == "Pipe"]
        return max(ds) if ds else 0.3

    pump_rule: dict[str, str] = {}
    for name, p in wn.pumps():
        u, v = p.start_node_name, p.end_node_name
        if u == v:
            dropped["self_loop"].append(name)
            continue
        c = line_coords(p)
        seg = np.hypot(*np.diff(c, axis=0).T)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        half = cum[-1] / 2
        mx = float(np.interp(half, cum, c[:, 0])) if cum[-1] > 0 else float(c[0, 0])
        my = float(np.interp(half, cum, c[:, 1])) if cum[-1] > 0 else float(c[0, 1])
        cap = None
        if getattr(p, "pump_type", "") == "HEAD":
            try:
                cap = float(p.get_design_flow()) * 3600.0
                pump_rule[name] = "design flow of the pump curve"
            except Exception:  # noqa: BLE001 - a pump curve WNTR cannot evaluate
                cap = None
        if cap is None or not math.isfinite(cap) or cap <= 0:
            cap = peaking_factor * total
            pump_rule[name] = "peaking_factor x total demand"
        ps = f"WPS:{name}"
        if ps in g:
            raise NetworkError(f"pump '{name}': id {ps} already used", where=where)
        g.add_node(ps, asset_class="pump_station", x_m=mx, y_m=my, capacity_m3h=cap,
                   backup_h=float(pump_backup_h), elevation_m=_elevation(wn.get_node(u)),
                   **_pump_heads(p, cap / 3600.0))
        k_mid = int(np.searchsorted(cum, half))
        c_in = np.vstack([c[:k_mid], [(mx, my)]]) if k_mid > 0 else np.array([c[0], (mx, my)])
        c_out = np.vstack([[(mx, my)], c[k_mid:]])
        for end, eid, coords in ((u, f"WL:{name}~in", c_in), (v, f"WL:{name}~out", c_out)):
            g.add_edge(nid(end), ps, id=eid, asset_class="pipe",
                       length_m=max(half, 1.0), diameter_m=widest(end),
                       coords=coords if end == u else coords[::-1])
    deps: tuple = ()
    if roads is not None:
        from networks.interdependencies import proximity_dependencies

        deps = proximity_dependencies({NetworkKind.POWER: nx.Graph(), NetworkKind.WATER: g,
                                       NetworkKind.ROADS: roads})
    meta = {
        "source": str(path), "format": "EPANET (read with WNTR)", "crs": crs_s,
        "scale_m_per_unit": k, "offset_m": [dx, dy],
        "rules": {"roughness": ("Hazen-Williams C from the file" if hw else
                                f"not kept: the file's headloss formula is "
                                f"{wn.options.hydraulic.headloss}"),
                  "peaking_factor": peaking_factor,
                  "litres_per_person_day": litres_per_person_day,
                  "reservoir_capacity_m3h": res_cap, "tank_storage_h": st,
                  "pump_backup_h": pump_backup_h, "pump_capacity": pump_rule},
        "total_demand_m3h": total,
        "counts": {"junctions": len(wn.junction_name_list), "tanks": len(wn.tank_name_list),
                   "reservoirs": n_res, "pipes": len(wn.pipe_name_list),
                   "pumps": len(wn.pump_name_list), "valves": len(wn.valve_name_list)},
        "dropped_links": dropped, "split_parallel_links": split,
        "negative_demand_nodes": neg, "stripped_sections": stripped,
    }
    return ImportedPart(NetworkKind.WATER, g, crs_s, tuple(deps), meta)
