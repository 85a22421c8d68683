"""What a run stores so that views and replays need no re-simulation: ``replay.npz``.

Component states over time come from ``events.parquet`` (every state change is an
event); service levels from ``curves.parquet``. This file adds the static
geometry, the population blocks with the arrays the service kernel needs to say
which blocks are served at any time, and the hazard grids. The keys are laid out
in :mod:`common.replay_layout` (one definition, shared with the views).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from common import replay_layout as layout
from common.intensity import IntensityMeasure
from hazards.base import HazardField
from networks.schema import NetworkKind
from twin.compile import NETWORKS, Twin

#: cap on the stored hazard frames (MB) so a replay bundle stays small
MAX_GRID_MB = 96.0
#: frames stored for a flood's recession after its last solver frame
RECESSION_FRAMES = 12


def save_replay_inputs(path: Path, twin: Twin, fields: Sequence[HazardField], *,
                       system_kinds: Sequence[str] | None = None) -> None:
    """Write ``replay.npz`` for ``twin`` and the run's hazard ``fields`` (see the layout);
    ``system_kinds``: the scenario's narrowing of the system service, when it has one."""
    s = twin.sites
    arrays: dict[str, np.ndarray] = {
        "ids": twin.ids.astype(str),
        "asset_class": s.asset_class.astype(str),
        "network": np.array([n.value for n in NETWORKS])[twin.network],
        "is_edge": twin.is_edge,
        "line_offsets": s.line_offsets,
        "line_xy": np.column_stack([s.line_x, s.line_y]),
        "access_node": twin.access_node,
        "crs": np.asarray(twin.crs),
    }
    tz = (twin.meta or {}).get("timezone")
    if tz:
        arrays["timezone"] = np.asarray(str(tz))
    if twin.terrain is not None:
        arrays["terrain_elevation_m"] = twin.terrain.elevation_m.astype(np.float32)
        arrays["terrain_transform"] = np.asarray(twin.terrain.transform, dtype=float)
    arrays.update(_blocks(twin))
    if system_kinds is not None and "block_nodes" in arrays:
        arrays["system_kinds"] = np.array([NETWORKS.index(NetworkKind(k))
                                           for k in system_kinds], dtype=np.int64)
    sw = twin.switches
    if sw is not None and len(sw):  # only then: a run without switches writes what it did
        arrays["switch_edge"] = sw.edge.astype(np.int64)
        arrays["switch_normally_open"] = sw.normally_open.astype(bool)
        arrays["switch_automated"] = sw.automated.astype(bool)
    budget = MAX_GRID_MB * 1e6
    for f in fields:
        for m, g in f.grids.items():
            kv, kt, ktf = layout.grid_keys(m.value)
            if kv in arrays:
                continue  # one grid per measure (the first hazard that provides it)
            vals = np.asarray(g.values, dtype=np.float32)
            times = np.asarray(g.times_h, dtype=float)
            if m == IntensityMeasure.FLOOD_DEPTH_M:
                vals, times = _with_recession(vals, times, f)
            # keep every k-th frame when the field is larger than the budget
            k = max(1, int(np.ceil(vals.nbytes / budget)))
            keep = np.arange(0, len(times), k)
            if keep[-1] != len(times) - 1:
                keep = np.append(keep, len(times) - 1)  # the last frame (dry land) stays
            arrays[kv] = vals[keep]
            arrays[kt] = times[keep]
            arrays[ktf] = np.asarray(g.transform, dtype=float)
        if f.t0_utc and "t0_utc" not in arrays:  # the real time of scenario t = 0 (storms)
            arrays["t0_utc"] = np.asarray(str(f.t0_utc))
        if f.track is not None and "track_lonlat" not in arrays:
            arrays["track_lonlat"] = np.asarray(f.track.lonlat, dtype=float)
            arrays["track_times_h"] = np.asarray(f.track.times_h, dtype=float)
    layout.check(arrays, where=str(path))
    np.savez_compressed(path, **arrays)


def _blocks(twin: Twin) -> dict[str, np.ndarray]:
    """Population blocks and the service kernel's static arrays (none without blocks)."""
    if not len(twin.block_population):
        return {}
    b = twin.block_nodes.astype(np.int32)
    at = twin.block_anchor()  # its power node (the load point of the block), else ...
    out = {"block_xy": np.column_stack([twin.x_m[at], twin.y_m[at]]),
           "block_population": np.asarray(twin.block_population, dtype=float),
           "block_nodes": b}
    for name in layout.SERVICE_ARRAYS:
        out[layout.service_key(name)] = np.asarray(getattr(twin, name))
    out[layout.service_key(layout.SERVICE_PRIMARY)] = twin.primary_sources()
    out[layout.service_key(layout.SERVICE_STORAGE)] = np.asarray(twin.storage_h, dtype=float)
    out[layout.service_key(layout.SERVICE_BACKUP)] = np.asarray(twin.backup_h, dtype=float)
    return out


def _with_recession(vals: np.ndarray, times: np.ndarray, f: HazardField
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Append the recession the hazard applies after its last flood frame.

    The field's site depths say how the water goes after the grid's last frame (a
    typhoon's ``flood_recession_h`` recedes linearly); the frames scale the last
    grid frame by the ratio of the sites' total depth to their total at that frame.
    A field that holds its last depths adds no frames (the water honestly stays).
    """
    depth = f.intensity.get(IntensityMeasure.FLOOD_DEPTH_M)
    if depth is None or not len(times):
        return vals, times
    ft = np.asarray(f.times_h, dtype=float)
    tot = np.nansum(np.asarray(depth, dtype=float), axis=1)
    t_last = float(times[-1])
    ref = float(np.interp(t_last, ft, tot))
    later = ft[ft > t_last + 1e-9]
    if ref <= 0 or not len(later):
        return vals, times
    ratio = np.interp(later, ft, tot) / ref
    if np.all(ratio > 1 - 1e-6):
        return vals, times  # held, not receding
    end = later[np.argmax(ratio <= 1e-6)] if np.any(ratio <= 1e-6) else later[-1]
    tt = np.linspace(t_last, end, RECESSION_FRAMES + 1)[1:]
    scale = np.clip(np.interp(tt, ft, tot) / ref, 0.0, 1.0).astype(np.float32)
    extra = vals[-1][None] * scale[:, None, None]
    return np.concatenate([vals, extra]), np.concatenate([times, tt])


def load_replay_inputs(path: Path) -> dict[str, np.ndarray]:
    """Read a replay file (checked against the layout; damage raises a one-line error)."""
    return layout.load(path)
