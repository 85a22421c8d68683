"""The key layout of a run's ``replay.npz``: what the run writes and the views read.

``twin.replay_store`` writes these keys and :mod:`viz` reads them; both take the
names from here so the layout has one definition. Component states over time are
not in this file (they come from ``events.parquet``), nor service levels (from
``curves.parquet``): it holds the static geometry, the arrays the service kernel
needs to tell which population blocks are served, and the hazard grids.

=============================  ==============================================================
key                            meaning
=============================  ==============================================================
``ids``                        (n,) str, component ids (order of the twin)
``asset_class``                (n,) str, asset class of each component
``network``                    (n,) str, ``power`` / ``water`` / ``roads``
``is_edge``                    (n,) bool
``line_offsets``               (n+1,) int64; vertices of component i are ``line_xy[o[i]:o[i+1]]``
``line_xy``                    (m, 2) float64, vertices in the city CRS (metres)
``access_node``                (n,) int32, road node a crew drives to for component i
``crs``                        () str
``timezone``                   optional () str, IANA time zone of the city (local clocks)
``terrain_elevation_m``        optional (ny, nx) float32 DEM (NaN = no data)
``terrain_transform``          (6,) affine of the DEM (x = a*col + b*row + c, y = d*col + e*row + f)
``grid__<measure>__values``    (T, ny, nx) float32 hazard field (``flood_depth_m``, ``gust_mps``)
``grid__<measure>__times_h``   (T,) hours since scenario start, increasing
``grid__<measure>__transform`` (6,) affine of that grid
``track_lonlat``               optional (k, 2) lon/lat of a typhoon track, ``track_times_h`` (k,)
``t0_utc``                     optional () str, the UTC time of scenario t = 0 (ISO 8601)
``block_xy``                   optional (b, 2) float64, where each population block lives
``block_population``           (b,) float64 people per block
``block_nodes``                (b, k) int32, component of each network kind serving the
                               block (k = len(common.names.NETWORKS), in that order; -1:
                               the kind does not serve it; files of three-kind versions
                               have k = 3 and are padded with -1 when read)
``system_kinds``               optional (j,) int, indices into NETWORKS of the kinds whose
                               service makes a block's system service (the scenario's
                               ``system_kinds``; absent: every kind)
``svc__<array>``               the twin's static arrays the service kernel reads
                               (:data:`SERVICE_ARRAYS`), present with the blocks
``switch_edge``                optional (k,) int, the edge component each switch is on
                               (:data:`SWITCH_KEYS`; present when the city has switches);
                               ``switch_normally_open`` (k,) bool, its normal state;
                               ``switch_automated`` (k,) bool; their later states come
                               from the ``switched`` events
=============================  ==============================================================

Flood frames after the end of a hazard's solver are the recession the hazard
applies (stored as frames so a replay never shows frozen water).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from common.errors import InputError
from common.names import NETWORKS

#: the file name inside a run directory
FILE = "replay.npz"

#: keys every replay file has
REQUIRED = ("ids", "asset_class", "network", "is_edge", "line_offsets", "line_xy",
            "access_node", "crs")

#: arrays of the twin that :func:`twin.kernels.service.compute_service` reads, in its
#: argument order (after ``up, source_ok, exempt``); stored as ``svc__<name>``
SERVICE_ARRAYS = ("is_source", "is_edge", "edge_u", "edge_v", "adj_indptr", "adj_node",
                  "adj_edge", "dep_indptr", "dep_supplier", "capacity", "demand")
#: the sources that never run dry (not storage): ``svc__is_primary``
SERVICE_PRIMARY = "is_primary"
#: hours of storage of each component (tanks drain while cut off from treatment):
#: ``svc__storage_h``, optional
SERVICE_STORAGE = "storage_h"
#: hours of backup power of each component: ``svc__backup_h``, optional
SERVICE_BACKUP = "backup_h"

BLOCK_KEYS = ("block_xy", "block_population", "block_nodes")
#: the switches of the power network (optional, all three together)
SWITCH_KEYS = ("switch_edge", "switch_normally_open", "switch_automated")


class ReplayFileError(InputError):
    """A ``replay.npz`` is unreadable or does not follow this layout."""


def grid_keys(measure: str) -> tuple[str, str, str]:
    """Keys of the values, times and transform of the grid of ``measure``."""
    k = f"grid__{measure}"
    return f"{k}__values", f"{k}__times_h", f"{k}__transform"


#: ``block_nodes`` columns of replay files written before gas and telecom were kinds
THREE_KIND_COLUMNS = 3


def service_key(name: str) -> str:
    """Key of one service-kernel array."""
    return f"svc__{name}"


def load(path: Path | str) -> dict[str, np.ndarray]:
    """Read and check a replay file; a damaged or foreign file raises :class:`ReplayFileError`."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            if not hasattr(z, "files"):
                raise ReplayFileError("is a single array, not a replay bundle", where=str(path))
            arrays = {k: z[k] for k in z.files}
        bn = arrays.get("block_nodes")
        if bn is not None and bn.ndim == 2 and bn.shape[1] == THREE_KIND_COLUMNS:
            # a file of the three-kind versions (power, water, roads): the later kinds
            # serve no block
            arrays["block_nodes"] = np.pad(bn, ((0, 0), (0, len(NETWORKS) - bn.shape[1])),
                                           constant_values=-1)
    except ReplayFileError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile,
            zipfile.LargeZipFile) as e:
        raise ReplayFileError(f"is not a readable replay bundle (damaged or truncated?): "
                              f"{type(e).__name__}", where=str(path)) from None
    check(arrays, where=str(path))
    return arrays


def check(a: dict[str, np.ndarray], *, where: str) -> None:
    """Shapes and ranges the views rely on; raises :class:`ReplayFileError` naming the key."""

    def bad(key: str, what: str) -> ReplayFileError:
        return ReplayFileError(f"key '{key}' {what}", where=where)

    for k in REQUIRED:
        if k not in a:
            raise bad(k, "is missing (not a replay file of `twin run`?)")
    n = len(a["ids"])
    for k in ("asset_class", "network", "is_edge", "access_node"):
        if a[k].shape != (n,):
            raise bad(k, f"has shape {a[k].shape}, expected ({n},) like 'ids'")
    o, xy = a["line_offsets"], a["line_xy"]
    if o.shape != (n + 1,) or not np.issubdtype(o.dtype, np.integer):
        raise bad("line_offsets", f"must be {n + 1} integers")
    if xy.ndim != 2 or xy.shape[1:] != (2,) or not np.issubdtype(xy.dtype, np.floating):
        raise bad("line_xy", "must be (m, 2) floats")
    if n and (o[0] != 0 or np.any(np.diff(o) < 1) or o[-1] != len(xy)):
        raise bad("line_offsets", "must increase from 0 to len(line_xy), one vertex or more "
                                  "per component")
    if not np.isfinite(xy).all():
        raise bad("line_xy", "holds NaN or infinite coordinates")
    acc = a["access_node"]
    if not np.issubdtype(acc.dtype, np.integer) or (n and (acc.min() < -1 or acc.max() >= n)):
        raise bad("access_node", f"must be component indices in -1..{n - 1}")
    if "terrain_elevation_m" in a:
        if a["terrain_elevation_m"].ndim != 2 or min(a["terrain_elevation_m"].shape) < 2:
            raise bad("terrain_elevation_m", "must be a 2-D raster of at least 2 x 2 cells")
        _check_transform(a, "terrain_transform", bad)
    for k in [k for k in a if k.startswith("grid__") and k.endswith("__values")]:
        measure = k[len("grid__"):-len("__values")]
        kv, kt, ktf = grid_keys(measure)
        if kt not in a or ktf not in a:
            raise bad(k, f"comes without '{kt}' and '{ktf}'")
        v, t = a[kv], a[kt]
        if v.ndim != 3 or t.shape != (v.shape[0],) or v.shape[0] < 1:
            raise bad(kv, f"has shape {v.shape} for {t.shape} times; expected (T, ny, nx)")
        if not np.isfinite(t).all() or np.any(np.diff(t) <= 0):
            raise bad(kt, "must be finite and increasing")
        _check_transform(a, ktf, bad)
    if "track_lonlat" in a:
        ll, tt = a["track_lonlat"], a.get("track_times_h")
        if tt is None or ll.ndim != 2 or ll.shape != (len(tt), 2) or not np.isfinite(ll).all() \
                or not np.isfinite(tt).all():
            raise bad("track_lonlat", "must be (k, 2) finite lon/lat with k 'track_times_h'")
    if "system_kinds" in a:
        sk = a["system_kinds"]
        if sk.ndim != 1 or not np.issubdtype(sk.dtype, np.integer) or (len(sk) and (
                sk.min() < 0 or sk.max() >= len(NETWORKS))):
            raise bad("system_kinds", f"must be indices into the {len(NETWORKS)} kinds")
    if "block_population" in a:
        b = len(a["block_population"])
        for k in BLOCK_KEYS:
            if k not in a:
                raise bad(k, "is missing while 'block_population' is present")
        k = len(NETWORKS)
        if a["block_xy"].shape != (b, 2) or a["block_nodes"].shape != (b, k):
            raise bad("block_nodes", f"must be ({b}, {k}) with 'block_xy' ({b}, 2)")
        if b and (a["block_nodes"].min() < -1 or a["block_nodes"].max() >= n):
            raise bad("block_nodes", f"must be component indices in 0..{n - 1} (or -1)")
        for name in (*SERVICE_ARRAYS, SERVICE_PRIMARY):
            if service_key(name) not in a:
                raise bad(service_key(name), "is missing while population blocks are present")
        _check_service(a, n, bad)
    if any(k in a for k in SWITCH_KEYS):
        for k in SWITCH_KEYS:
            if k not in a:
                raise bad(k, "is missing while other switch keys are present")
        e = a["switch_edge"]
        k_sw = len(e)
        if (e.ndim != 1 or not np.issubdtype(e.dtype, np.integer)
                or (k_sw and (e.min() < 0 or e.max() >= n or not a["is_edge"][e].all()))):
            raise bad("switch_edge", f"must be edge component indices in 0..{n - 1}")
        for k in SWITCH_KEYS[1:]:
            if a[k].shape != (k_sw,) or a[k].dtype != bool:
                raise bad(k, f"must be {k_sw} booleans")


def _check_service(a: dict[str, np.ndarray], n: int, bad) -> None:
    """The kernel indexes with these arrays: lengths and index ranges must hold."""
    per_comp = ("is_source", "is_edge", "edge_u", "edge_v", "capacity", "demand",
                SERVICE_PRIMARY, SERVICE_STORAGE, SERVICE_BACKUP)
    for name in per_comp:
        k = service_key(name)
        if k in a and a[k].shape != (n,):
            raise bad(k, f"has shape {a[k].shape}, expected ({n},)")
    for ptr, idx in (("adj_indptr", ("adj_node", "adj_edge")), ("dep_indptr", ("dep_supplier",))):
        p = a[service_key(ptr)]
        if (p.shape != (n + 1,) or not np.issubdtype(p.dtype, np.integer) or p[0] != 0
                or np.any(np.diff(p) < 0)):
            raise bad(service_key(ptr), f"must be {n + 1} non-decreasing integers from 0")
        for name in idx:
            v = a[service_key(name)]
            if v.shape != (int(p[-1]),) or not np.issubdtype(v.dtype, np.integer) or (
                    len(v) and (v.min() < 0 or v.max() >= n)):
                raise bad(service_key(name), f"must be {int(p[-1])} component indices")
    for name in ("edge_u", "edge_v"):
        v = a[service_key(name)]
        if not np.issubdtype(v.dtype, np.integer) or (n and (v.min() < -1 or v.max() >= n)):
            raise bad(service_key(name), f"must be component indices in -1..{n - 1}")
    for name in ("capacity", "demand", SERVICE_STORAGE, SERVICE_BACKUP):
        k = service_key(name)
        if k in a and (not np.issubdtype(a[k].dtype, np.floating)
                       or np.any(np.isnan(a[k])) or np.any(a[k] < 0)):
            raise bad(k, "must be non-negative numbers")


def _check_transform(a, key, bad) -> None:
    tf = a.get(key)
    if tf is None or tf.shape != (6,) or not np.isfinite(tf).all():
        raise bad(key, "must be 6 finite numbers (an affine transform)")
    if tf[0] * tf[4] - tf[1] * tf[3] == 0:
        raise bad(key, "is singular (zero cell size)")
