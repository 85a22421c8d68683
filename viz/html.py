"""A self-contained interactive replay: one HTML file, no network access.

The static geometry (terrain, network lines, point assets, hazard grid corners) is
exported once; the things that change (component states, crew positions, flood
depth, gust speed, the typhoon eye, the service level) are exported per frame.
Arrays are gzip-compressed and base64-embedded; the page inflates them with the
browser's own ``DecompressionStream`` and draws with a small hand-written WebGL
viewer (orbit: drag; pan: shift-drag or right-drag; zoom: wheel; time: the slider
or play). Nothing is fetched.
"""

from __future__ import annotations

import base64
import gzip
import json
from importlib import resources
from pathlib import Path

import numpy as np

from common.names import NETWORKS
from viz import look, story
from viz import states as st
from viz.replay import atomic_file, frame_times
from viz.rundata import RunData
from viz.scene import (
    CREW_RGB,
    MAJOR,
    NETWORK_RGB,
    STATE_RGB,
    SWITCH_RGB,
    TRACK_Z_M,
    WATER_RGB,
    WET_M,
    _stride,
    hypsometric_rgb,
)
from viz.service import block_service, block_side_m, warn_if_different


def _blob(a: np.ndarray) -> dict:
    a = np.ascontiguousarray(a)
    kind = {np.dtype(np.float32): "f32", np.dtype(np.uint8): "u8", np.dtype(np.uint32): "u32",
            np.dtype(np.uint16): "u16"}[a.dtype]
    data = base64.b64encode(gzip.compress(a.tobytes(), compresslevel=6, mtime=0)).decode()
    return {"t": kind, "n": int(a.size), "d": data}


def _grid_corners_local(transform, ny, nx, origin, s=1):
    a, b, c, d, e, f = transform
    col, row = np.meshgrid(np.arange(0, nx + 1, s, dtype=float),
                           np.arange(0, ny + 1, s, dtype=float))
    return a * col + b * row + c - origin[0], d * col + e * row + f - origin[1]


def build_payload(run: RunData, *, frames: int = 120, realization: int | None = None,
                  exaggeration: float = 3.0, terrain_max_cells: int = 200,
                  hazard_max_cells: int = 160, restored_show_h: float = 6.0,
                  pace: str = "even") -> dict:
    """The JSON document the viewer reads (arrays as compressed blobs)."""
    r = run.default_realization() if realization is None else realization
    times = frame_times(run, frames, pace=pace, realization=r)
    origin = run.origin
    ex = exaggeration
    lift = 4.0 * ex
    rp = run.replay
    out: dict = {"title": run.title, "realization": r,
                 "times_h": times.tolist(), "exaggeration": ex,
                 "state_names": list(st.STATES), "state_rgb": STATE_RGB.tolist(),
                 "network_rgb": NETWORK_RGB, "water_rgb": list(WATER_RGB),
                 "crew_rgb": list(CREW_RGB), "eye_rgb": list(look.EYE_RGB)}
    # terrain
    if "terrain_elevation_m" in rp:
        z = rp["terrain_elevation_m"].astype(float)
        zf = np.where(np.isfinite(z), z, np.nanmin(z) if np.isfinite(z).any() else 0.0)
        s = _stride(z.shape, terrain_max_cells)
        zs = zf[::s, ::s]
        a, b, c, d, e, f = rp["terrain_transform"]
        rows, cols = np.meshgrid(np.arange(0, z.shape[0], s) + 0.5,
                                 np.arange(0, z.shape[1], s) + 0.5, indexing="ij")
        x = a * cols + b * rows + c - origin[0]
        y = d * cols + e * rows + f - origin[1]
        ny, nx = zs.shape
        out["terrain"] = {"nx": nx, "ny": ny,
                          "pos": _blob(np.stack([x, y, zs * ex], -1).astype(np.float32).ravel()),
                          "rgb": _blob(hypsometric_rgb(zs).ravel())}
    else:
        x0, x1, y0, y1 = run.bounds
        x = np.array([[x0, x1], [x0, x1]]) - origin[0]
        y = np.array([[y0, y0], [y1, y1]]) - origin[1]
        out["terrain"] = {"nx": 2, "ny": 2,
                          "pos": _blob(np.stack([x, y, np.full((2, 2), -1.0)], -1)
                                       .astype(np.float32).ravel()),
                          "rgb": _blob(np.full(12, 200, np.uint8))}

    def zof(xx, yy):
        return run.ground_m(xx, yy) * ex + lift

    # network lines: segments (2 vertices each) with their component
    o = rp["line_offsets"]
    xy = rp["line_xy"]
    is_edge = rp["is_edge"].astype(bool)
    edges = np.nonzero(is_edge & (np.diff(o) >= 2))[0]
    seg_a = np.concatenate([np.arange(o[i], o[i + 1] - 1) for i in edges]) if len(edges) else \
        np.zeros(0, np.int64)
    seg_c = np.repeat(edges, (o[edges + 1] - o[edges] - 1)) if len(edges) else seg_a
    vid = np.column_stack([seg_a, seg_a + 1]).ravel()
    pos = np.column_stack([xy[vid, 0] - origin[0], xy[vid, 1] - origin[1],
                           zof(xy[vid, 0], xy[vid, 1])]).astype(np.float32)
    net = rp["network"].astype(str)
    nets = sorted(k for k in NETWORK_RGB if k in set(net))  # the city's kinds
    net_code = np.array([nets.index(k) if k in nets else 0 for k in net], np.uint8)
    # draw roads first so power and water lie on top
    order = (np.argsort(net_code[seg_c] != nets.index("roads"), kind="stable")
             if len(seg_c) else np.zeros(0, np.int64))
    seg_c = seg_c[order]
    pos = pos.reshape(-1, 2, 3)[order].reshape(-1)
    out["lines"] = {"pos": _blob(pos), "comp": _blob(seg_c.astype(np.uint32))}
    out["networks"] = nets
    out["services_phrase"] = story.services_phrase(story.city_kinds(rp))
    out["net_code"] = _blob(net_code)
    # points
    cls = rp["asset_class"].astype(str)
    nodes = np.nonzero(~is_edge & (net != "roads"))[0]  # road state is on the segments
    major = np.isin(cls[nodes], list(MAJOR))
    cxy = run.comp_xy[nodes]
    ppos = np.column_stack([cxy[:, 0] - origin[0], cxy[:, 1] - origin[1],
                            zof(cxy[:, 0], cxy[:, 1]) + lift]).astype(np.float32)
    pord = np.argsort(major, kind="stable")  # major drawn last (on top)
    out["points"] = {"pos": _blob(ppos[pord].ravel()), "comp": _blob(nodes[pord].astype(
        np.uint32)), "major": _blob(major[pord].astype(np.uint8))}
    # states per frame (compresses very well: mostly zeros)
    ev = st.realization_events(run.events, r)
    sw_edge = np.asarray(rp.get("switch_edge", np.zeros(0, np.int64)), dtype=np.int64)
    if len(sw_edge):  # switches (twin.flisr): where, and open (1) or closed per frame
        sxy = run.comp_xy[sw_edge]
        spos = np.column_stack([sxy[:, 0] - origin[0], sxy[:, 1] - origin[1],
                                zof(sxy[:, 0], sxy[:, 1]) + 2 * lift]).astype(np.float32)
        opened = st.switches_open_at(ev, run.ids, sw_edge, rp["switch_normally_open"], times)
        out["switches"] = {"pos": _blob(spos.ravel()), "n": len(sw_edge),
                           "open": _blob(opened.astype(np.uint8).ravel()),
                           "rgb": [[int(c) for c in rgb] for rgb in SWITCH_RGB]}
    tr = st.state_transitions(ev, run.ids, restored_show_h=restored_show_h)
    out["n"] = run.n
    out["states"] = _blob(st.states_at(tr, run.n, times).astype(np.uint8).ravel())
    # crews (the events are already those of realization r: say so, or none are found)
    names, cxy_t, act = st.crew_tracks(ev, run.ids, run.access_xy, times, realization=r)
    cz = np.where(np.isfinite(cxy_t[..., 0]), zof(np.nan_to_num(cxy_t[..., 0]).ravel(),
                                                   np.nan_to_num(cxy_t[..., 1]).ravel())
                  .reshape(cxy_t.shape[:2]) + 3 * lift, -1e5)
    cpos = np.stack([np.nan_to_num(cxy_t[..., 0] - origin[0]),
                     np.nan_to_num(cxy_t[..., 1] - origin[1]), cz], -1).astype(np.float32)
    out["crews"] = {"names": names, "pos": _blob(cpos.ravel()),
                    "act": _blob(act.astype(np.uint8).ravel())}
    # service: the gauge shows the outcome the map shows
    q = np.array([run.service_at(t, r) for t in times])
    out["service"] = q.tolist()
    out["outcome"] = story.outcome_words(run, r, chosen=realization is not None)
    t0, tz = rp.get("t0_utc"), rp.get("timezone")
    fl = run.grid("flood_depth_m")
    out["clock"] = [" · ".join(x for x in (story.clock_text(t, t0, tz),
                                            story.held_water_note(fl, t)) if x)
                    for t in times]
    out["has_t0"] = t0 is not None
    # population blocks: bit k set when the block lacks network k (power, water, roads)
    bs = block_service(run, r, times, transitions=st.state_transitions(ev, run.ids))
    if bs is not None:
        warn_if_different(run, bs, r)
    moments = story.key_moments(ev, run.ids, rp["asset_class"],
                                flooded=run.grid("flood_depth_m") is not None)
    track = run.track_xy()
    if track is not None:
        moments = sorted(moments + story.storm_moments(*track, run.origin, run.horizon_h),
                         key=lambda c: c.time_h)
    caps = []
    for k, t in enumerate(times):
        c = story.caption_at(moments, t)
        text = ""
        if c is not None:
            text = f"{story.short_time(c[0].time_h, t0, tz)}  {c[0].text}"
            if c[1]:
                text += f" (and {c[1]} more)"
            if bs is not None:
                text += f" · {story.people(bs.people_without()[k, 0])} people without power"
        caps.append(text)
    out["captions"] = caps
    if bs is not None:
        lack = (bs.served < 0.5).astype(np.uint8)
        bits = np.zeros(lack.shape[:2], np.uint8)  # bit k: lacks NETWORKS[k]
        for k in range(lack.shape[2]):
            bits |= lack[..., k] << k
        bxy = bs.xy
        bpos = np.column_stack([bxy[:, 0] - origin[0], bxy[:, 1] - origin[1],
                                zof(bxy[:, 0], bxy[:, 1]) + 0.5 * lift]).astype(np.float32)
        out["blocks"] = {"pos": _blob(bpos.ravel()), "lack": _blob(bits.ravel()),
                         "n": len(bxy), "side": block_side_m(bxy),
                         "alpha": int(look.BLOCK_ALPHA * 255),
                         "without": np.round(bs.people_without()).astype(int).tolist(),
                         "rgb": [list(look.NO_SERVICE_RGB[k]) for k in NETWORKS],
                         # the city's kinds (indices into NETWORKS) and their words
                         "kinds": [NETWORKS.index(k) for k in story.city_kinds(rp)],
                         "words": [story.SERVICE_WORDS[k] for k in NETWORKS]}
    # hazards
    flood = run.grid("flood_depth_m")
    if flood is not None:
        ny, nx = flood.values.shape[1:]
        s = _stride((ny, nx), hazard_max_cells)
        # -1: no flood frame yet (the water has not started)
        idx = [flood.frame_index(t) if t >= flood.times_h[0] - 1e-9 else -1 for t in times]
        d = np.nan_to_num(flood.values[:, ::s, ::s], nan=0.0)
        gy, gx = d.shape[1:]
        tf = np.array(flood.transform, float)
        tf[[0, 1, 3, 4]] *= s
        cx, cy = _grid_corners_local(tf, gy, gx, origin)
        ground = run.ground_m(cx.ravel() + origin[0], cy.ravel() + origin[1]) * ex
        qd = np.clip(np.round(d / 0.02), 0, 255).astype(np.uint8)  # 2 cm steps
        qd[(d <= WET_M)] = 0
        # below mean sea level is the sea, not a flood
        centre = run.ground_m(cx[:-1, :-1] * 0.5 + cx[1:, 1:] * 0.5 + origin[0],
                              cy[:-1, :-1] * 0.5 + cy[1:, 1:] * 0.5 + origin[1])
        qd[:, centre < 0] = 0
        out["flood_edges_m"] = list(look.FLOOD_EDGES_M)
        out["flood_rgb"] = look.FLOOD_RGB.tolist()
        out["flood"] = {"nx": gx, "ny": gy,
                        "xy": _blob(np.stack([cx, cy], -1).astype(np.float32).ravel()),
                        "ground": _blob(ground.astype(np.float32)),
                        "frame": idx, "depth_cm2": _blob(qd.ravel())}
    gust = run.grid("gust_mps")
    zmax = float(np.nanmax(rp["terrain_elevation_m"])) * ex if "terrain_elevation_m" in rp \
        else 0.0
    wind_z = TRACK_Z_M * ex  # the track's height, as in the 3D scene
    if gust is not None:
        ny, nx = gust.values.shape[1:]
        s = _stride((ny, nx), hazard_max_cells)
        g = np.nan_to_num(gust.values[:, ::s, ::s], nan=0.0)
        gy, gx = g.shape[1:]
        tf = np.array(gust.transform, float)
        tf[[0, 1, 3, 4]] *= s
        cx, cy = _grid_corners_local(tf, gy, gx, origin)
        # draped on the terrain a little above the water (as in the 3D scene)
        wground = run.ground_m(cx.ravel() + origin[0], cy.ravel() + origin[1]) * ex + 2.5 * lift
        out["wind"] = {"nx": gx, "ny": gy, "z": wind_z,
                       "ground": _blob(wground.astype(np.float32)),
                       "xy": _blob(np.stack([cx, cy], -1).astype(np.float32).ravel()),
                       "frame": [gust.frame_index(t) if t >= gust.times_h[0] - 1e-9 else -1
                                 for t in times],
                       "edges": list(look.GUST_EDGES_MPS), "rgb": look.GUST_RGB.tolist(),
                       "alpha": list(look.GUST_ALPHA), "words": list(look.GUST_WORDS),
                       "gust": _blob(np.clip(np.round(g), 0, 255).astype(np.uint8).ravel())}
    tr_xy = run.track_xy()
    if tr_xy is not None:
        txy, tt = tr_xy
        x0, x1, y0, y1 = run.bounds
        span = max(x1 - x0, y1 - y0)
        # the approach and the departure within a dozen city widths (a best track spans
        # an ocean), always at least two fixes
        near = np.max(np.abs(txy - origin), axis=1) < 12 * span
        if near.sum() < 2:
            k = int(np.argmin(np.max(np.abs(txy - origin), axis=1)))
            near[max(0, min(k, len(near) - 2)):max(0, min(k, len(near) - 2)) + 2] = True
        line = txy[near] - origin
        eye = [[float(np.interp(t, tt, txy[:, 0]) - origin[0]),
                float(np.interp(t, tt, txy[:, 1]) - origin[1])] if tt[0] <= t <= tt[-1]
               else None for t in times]
        out["track"] = {"z": wind_z, "line": np.round(line, 1).tolist(), "eye": eye,
                        "line_t": tt[near].tolist()}
    x0, x1, y0, y1 = run.bounds
    out["bounds"] = [x0 - origin[0], x1 - origin[0], y0 - origin[1], y1 - origin[1], 0.0,
                     max(zmax, 1.0)]
    return out


def _template() -> str:
    return resources.files("viz").joinpath("viewer.html").read_text(encoding="utf-8")


def write_html(run: RunData, path: Path, **kwargs) -> int:
    """Write the self-contained viewer to ``path``; returns its size in bytes."""
    payload = build_payload(run, **kwargs)
    doc = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    # a JSON document inside <script type="application/json"> must not close the tag
    doc = doc.replace("</", "<\\/")
    html = _template().replace("/*__TITLE__*/", _escape(run.title)).replace(
        "__PAYLOAD__", doc)
    with atomic_file(Path(path)) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return Path(path).stat().st_size


def _escape(s: str) -> str:
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
