"""What a run stores so that views and replays need no re-simulation: ``replay.npz``.

Component states over time come from ``events.parquet`` (every state change is an
event); service levels from ``curves.parquet``. This file adds the static
geometry and the hazard grids:

========================  ==================================================================
key                       meaning
========================  ==================================================================
``ids``                   (n,) str, component ids (order of the twin)
``asset_class``           (n,) str, asset class of each component
``network``               (n,) str, ``power`` / ``water`` / ``roads``
``is_edge``               (n,) bool
``line_offsets``          (n+1,) int64; vertices of component i are ``line_xy[o[i]:o[i+1]]``
``line_xy``               (m, 2) float64, vertices in the city CRS (metres)
``access_node``           (n,) int32, road node a crew drives to for component i
``crs``                   () str
``terrain_elevation_m``   (ny, nx) float32 DEM (NaN = no data); absent without terrain
``terrain_transform``     (6,) affine of the DEM (x = a*col + b*row + c, y = d*col + e*row + f)
``grid__<measure>__values``  (T, ny, nx) float32 hazard field (e.g. ``flood_depth_m``, ``gust_mps``)
``grid__<measure>__times_h`` (T,) hours since scenario start
``grid__<measure>__transform`` (6,) affine of that grid
``track_lonlat``          optional (k, 2) lon/lat of a typhoon track, ``track_times_h`` (k,)
``t0_utc``                optional () str, the UTC time of scenario t = 0 (ISO 8601)
========================  ==================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hazards.base import HazardField
from twin.compile import NETWORKS, Twin

#: cap on the stored hazard frames (MB) so a replay bundle stays small
MAX_GRID_MB = 96.0


def save_replay_inputs(path: Path, twin: Twin, fields: Sequence[HazardField]) -> None:
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
    if twin.terrain is not None:
        arrays["terrain_elevation_m"] = twin.terrain.elevation_m.astype(np.float32)
        arrays["terrain_transform"] = np.asarray(twin.terrain.transform, dtype=float)
    budget = MAX_GRID_MB * 1e6
    for f in fields:
        for m, g in f.grids.items():
            vals = np.asarray(g.values, dtype=np.float32)
            times = np.asarray(g.times_h, dtype=float)
            # keep every k-th frame when the field is larger than the budget
            k = max(1, int(np.ceil(vals.nbytes / budget)))
            key = f"grid__{m.value}"
            if f"{key}__values" in arrays:
                continue  # one grid per measure (the first hazard that provides it)
            arrays[f"{key}__values"] = vals[::k]
            arrays[f"{key}__times_h"] = times[::k]
            arrays[f"{key}__transform"] = np.asarray(g.transform, dtype=float)
        t0 = f.meta.get("t0_utc") if f.meta else None
        if t0 and "t0_utc" not in arrays:  # the real time of scenario t = 0 (storms)
            arrays["t0_utc"] = np.asarray(str(t0))
        track = f.meta.get("track_lonlat") if f.meta else None
        if track is not None and "track_lonlat" not in arrays:
            arrays["track_lonlat"] = np.asarray(track, dtype=float)
            arrays["track_times_h"] = np.asarray(f.meta.get("track_times_h"), dtype=float)
    np.savez_compressed(path, **arrays)


def load_replay_inputs(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}
