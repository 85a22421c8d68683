"""What the drill console shows, as JSON-ready dicts built from a :class:`DrillSession`.

:func:`geometry` is sent once (positions, edges, classes, population blocks);
:func:`state` after every step: the clock, the component states, the hazard at the
sites, the blocks without power / water / road access, the crews, the damaged
assets, the curves of every branch and of the baseline, and the decision log.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from common.intensity import IntensityMeasure
from common.names import NETWORKS
from twin.compile import CLASSES
from twin.drill.session import DrillSession
from twin.engine import Engine

#: component state codes of the map (the console's legend uses the same order)
OK, OUT, DAMAGED, REPAIRING = 0, 1, 2, 3


def geometry(session: DrillSession) -> dict[str, Any]:
    """Static map data: node positions, edge endpoints, networks, classes, ids, blocks."""
    t = session.prep.twin
    edges = np.nonzero(t.is_edge)[0]
    road = t.block_anchor() if len(t.block_nodes) else np.zeros(0, np.int64)
    return {
        "ids": [str(i) for i in t.ids],
        "x": np.round(t.x_m, 1).tolist(), "y": np.round(t.y_m, 1).tolist(),
        "network": t.network.astype(int).tolist(),
        "cls": t.asset_class.astype(int).tolist(),
        "classes": [c.value for c in CLASSES],
        "edges": edges.tolist(), "u": t.edge_u[edges].astype(int).tolist(),
        "v": t.edge_v[edges].astype(int).tolist(),
        "block_x": np.round(t.x_m[road], 1).tolist(), "block_y": np.round(t.y_m[road], 1).tolist(),
        "block_pop": np.round(t.block_population, 1).tolist(),
        "horizon_h": session.spec.horizon_h, "name": session.spec.name,
    }


def _clock(session: DrillSession, now: float) -> dict[str, Any]:
    t0 = next((f.t0_utc for f in session.prep.fields if f.t0_utc), None)
    day, rest = divmod(now, 24.0)
    out: dict[str, Any] = {"t_h": now, "label": f"{now:.1f} h (day {int(day) + 1}, "
                                                f"{int(rest):02d}:{int(rest % 1 * 60):02d})"}
    if t0:
        when = datetime.fromisoformat(str(t0).replace("Z", "+00:00")) + timedelta(hours=now)
        tz = (session.prep.twin.meta or {}).get("timezone")
        if tz:
            from zoneinfo import ZoneInfo

            when = when.astimezone(ZoneInfo(str(tz)))
            out["wall"] = when.strftime("%Y-%m-%d %H:%M ") + str(tz)
        else:
            out["wall"] = when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return out


def _hazard(session: DrillSession, now: float) -> dict[str, Any]:
    """Flood depth and gust at the sites now (sparse: only where non-zero)."""
    out: dict[str, Any] = {}
    for f in session.prep.fields:
        k = int(np.searchsorted(f.times_h, now, side="right")) - 1
        if k < 0:
            continue
        for m, key, floor in ((IntensityMeasure.FLOOD_DEPTH_M, "depth_m", 0.05),
                              (IntensityMeasure.GUST_MPS, "gust_mps", 15.0)):
            if m in f.intensity:
                v = np.nan_to_num(np.asarray(f.intensity[m][k], dtype=float))
                idx = np.nonzero(v >= floor)[0]
                out[key] = {"idx": idx.tolist(), "val": np.round(v[idx], 2).tolist()}
    return out


def _states(eng: Engine) -> np.ndarray:
    st = eng.state
    code = np.full(eng.twin.n, OK, dtype=np.int8)
    out = ~st.up(eng.now) | ~st.working
    # a healthy line behind an open switch (a normally open tie, a section FLISR opened)
    # is switched, not out of service
    out &= ~(st.switch_open & st.healthy(eng.now) & ~st.switched_off & st.working)
    code[out] = OUT
    code[st.damage > 0] = DAMAGED
    code[(st.damage > 0) & st.claimed] = REPAIRING
    return code


def _curve(res, series) -> dict[str, Any]:
    return {"t": np.round(res.times_h, 4).tolist(),
            **{s: np.round(res.served[:, k], 5).tolist() for k, s in series}}


def state(session: DrillSession, *, lang: str = "en", max_rows: int = 150) -> dict[str, Any]:
    """The console's view of the current branch now (see module docstring)."""
    eng = session.engine
    t = eng.twin
    now = eng.now
    code = _states(eng)
    served = eng.state.served
    b = t.block_nodes
    lacking = np.zeros(len(b), dtype=np.int64)
    for k in range(len(NETWORKS)):
        if len(b):
            lacking |= ((b[:, k] >= 0) & (served[b[:, k]] < 0.5)).astype(np.int64) << k
    snap = eng.snapshot()
    # damaged assets: most customers behind first
    dmg = np.nonzero(eng.state.damage > 0)[0]
    dmg = dmg[np.argsort(-t.impact[dmg], kind="stable")]
    crew_on = {c.job: c.name for c in eng.crews if c.job >= 0}
    damaged = [{"id": str(t.ids[i]), "cls": CLASSES[t.asset_class[i]].value,
                "customers": round(float(t.impact[i])),
                "state": ("repairing" if i in crew_on else "damaged"),
                "crew": crew_on.get(int(i), "")} for i in dmg[:max_rows]]
    # a repairing crew stands at its job's access node; a travelling one left its location
    at = [int(t.access_node[c.job]) if c.job >= 0 and c.status == "repairing" else c.location
          for c in eng.crews]
    crews = [{"name": c.name, "utility": c.utility, "status": c.status,
              "where": str(t.ids[node]), "job": c.job or "",
              "queue": snap.pending_jobs[c.utility]}
             for c, node in zip(snap.crews, at, strict=True)]
    crew_xy = [{"name": c.name, "status": str(c.status), "node": node, "job": c.job,
                "target": int(t.access_node[c.job]) if c.job >= 0 else -1}
               for c, node in zip(eng.crews, at, strict=True)]
    base = session.baseline()
    log = []
    for name, br in session.branches.items():
        for d, note in zip(br.decisions, br.notes, strict=True):
            log.append({"branch": name, "t_h": d.time_h, "by": d.by,
                        "what": d.action.describe(), "note": note.render(lang)})
    return {
        "clock": _clock(session, now), "horizon_h": eng.horizon_h,
        "at_end": now >= eng.horizon_h - 1e-9, "served": snap.served,
        "state": code.tolist(), "hazard": _hazard(session, now),
        "lacking": lacking.tolist(), "crews_xy": crew_xy, "crews": crews,
        "damaged": damaged, "damaged_total": int(len(dmg)),
        "held": snap.held_crews,
        "branches": [{"name": n, "t_h": e.now} for n, e in session.branches.items()],
        "current": session.current,
        "curves": {n: _curve(e.result(), t.series()) for n, e in session.branches.items()},
        "baseline": _curve(base.result(), t.series()),
        "log": log,
    }
