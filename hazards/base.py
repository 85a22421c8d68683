"""The hazard protocol: a hazard is a data generator of intensity over time.

A hazard knows nothing of fragility, crews or service (CLIMADA's hazard /
exposure / vulnerability split). Given the sites of a twin's assets it returns a
:class:`HazardField`: intensity per site per time for one or more
:class:`IntensityMeasure`, optionally gridded fields for the 3D view, and
optionally *forced damage* (a damage map that says "this asset is in damage
state k at time t"). Fields are deterministic for a hazard configuration, so they
are computed once, cached on disk by :meth:`Hazard.cache_key`, and shared by all
realizations; randomness lives in fragility sampling, on the asset side.

Time is hours since the scenario start (float); lengths are metres in the city's
projected CRS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

import numpy as np

from common.intensity import IntensityMeasure

if TYPE_CHECKING:
    from pydantic import BaseModel

    from common.terrain import Terrain


@dataclass(frozen=True, eq=False)
class Sites:
    """Where a hazard must report intensity: one site per asset of the twin.

    Nodes are points; edges are polylines and the hazard reports the value that
    matters for a line (the maximum along it). ``line_offsets`` indexes the
    concatenated vertices: site ``i`` has vertices
    ``line_x[line_offsets[i]:line_offsets[i+1]]`` (one vertex for a node).
    """

    ids: np.ndarray  # (n,) object/str
    asset_class: np.ndarray  # (n,) str values of AssetClass
    x_m: np.ndarray  # (n,) representative point (node, or edge midpoint)
    y_m: np.ndarray
    is_edge: np.ndarray  # (n,) bool
    length_m: np.ndarray  # (n,) 0 for nodes
    line_offsets: np.ndarray  # (n+1,) int64
    line_x: np.ndarray
    line_y: np.ndarray
    crs: str

    def __len__(self) -> int:
        return len(self.ids)

    def fingerprint(self) -> str:
        """A hash of the sites' geometry, part of every hazard cache key."""
        import hashlib

        h = hashlib.sha256()
        h.update(self.crs.encode())
        for arr in (self.line_offsets, self.line_x, self.line_y):
            h.update(np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()[:16]


@dataclass(frozen=True, eq=False)
class GridSeries:
    """A gridded field over time for views: ``values[t, row, col]`` on a north-up raster."""

    measure: IntensityMeasure
    times_h: np.ndarray
    values: np.ndarray  # (T, ny, nx) float32
    transform: tuple[float, float, float, float, float, float]
    crs: str


@dataclass(frozen=True, eq=False)
class ForcedDamage:
    """Damage given directly by a scenario: site index ``site[k]`` is in damage state
    ``damage_state[k]`` (1..4) from ``time_h[k]`` with probability ``probability[k]``."""

    time_h: np.ndarray
    site: np.ndarray
    damage_state: np.ndarray
    probability: np.ndarray

    @classmethod
    def empty(cls) -> ForcedDamage:
        z = np.zeros(0)
        return cls(z, z.astype(np.int64), z.astype(np.int8), z)


@dataclass(frozen=True, eq=False)
class StormTrack:
    """A moving hazard's centre: ``lonlat[k] = (lon, lat)`` in degrees at ``times_h[k]``
    (hours since scenario t = 0; the part of the track outside the run is kept)."""

    times_h: np.ndarray
    lonlat: np.ndarray


@dataclass(frozen=True, eq=False)
class HazardField:
    """What a hazard produces for a set of sites.

    Invariants: ``times_h`` is strictly increasing; every ``intensity`` array has
    shape ``(len(times_h), n_sites)`` and dtype float32, NaN meaning "not exposed".

    Typed facts the rest of the twin reads: ``t0_utc``, the wall-clock time (UTC,
    ISO 8601) of scenario hour 0 when the hazard knows it (a storm's best track);
    ``track``, the path of a moving hazard's centre, for views; ``warnings``, the
    one-line warnings the hazard issued while computing the field (a DEM that
    misses part of the city, a far track), which the cache
    (:func:`twin.run.hazard_field`) issues again on a hit, so a cached run says what
    a fresh one said. ``meta`` is provenance for people (JSON-serialisable); no code
    depends on its keys.
    """

    times_h: np.ndarray
    intensity: Mapping[IntensityMeasure, np.ndarray]
    forced: ForcedDamage = field(default_factory=ForcedDamage.empty)
    grids: Mapping[IntensityMeasure, GridSeries] = field(default_factory=dict)
    meta: Mapping[str, object] = field(default_factory=dict)
    t0_utc: str | None = None
    track: StormTrack | None = None
    warnings: tuple[str, ...] = ()

    def save(self, path: Path) -> None:
        """Write to an ``.npz`` (used by the on-disk cache), atomically: a unique
        temporary file beside ``path``, renamed over it when complete, so a reader
        (another process sharing the cache) never sees a half-written entry."""
        import json
        import os
        import tempfile

        arrays: dict[str, np.ndarray] = {"times_h": self.times_h}
        for m, a in self.intensity.items():
            arrays[f"int__{m.value}"] = a
        for k in ("time_h", "site", "damage_state", "probability"):
            arrays[f"forced__{k}"] = getattr(self.forced, k)
        for m, g in self.grids.items():
            arrays[f"grid__{m.value}__values"] = g.values
            arrays[f"grid__{m.value}__times_h"] = g.times_h
            arrays[f"grid__{m.value}__transform"] = np.asarray(g.transform, dtype=float)
            arrays[f"grid__{m.value}__crs"] = np.asarray(g.crs)
        arrays["meta_json"] = np.asarray(json.dumps(dict(self.meta), default=str))
        arrays["warnings_json"] = np.asarray(json.dumps(list(self.warnings)))
        if self.t0_utc is not None:
            arrays["t0_utc"] = np.asarray(self.t0_utc)
        if self.track is not None:
            arrays["track__times_h"] = np.asarray(self.track.times_h, dtype=float)
            arrays["track__lonlat"] = np.asarray(self.track.lonlat, dtype=float)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **arrays)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path, *, n_sites: int | None = None) -> HazardField:
        """Read a field written by :meth:`save`.

        Raises ``OSError``, ``ValueError``, ``KeyError``, ``TypeError``, ``EOFError``,
        ``zipfile.BadZipFile`` or ``zlib.error`` for a damaged file (see
        :data:`DAMAGED_FILE_ERRORS`), and ``ValueError`` when the arrays break the
        invariants (or do not have ``n_sites`` columns, when given).
        """
        import json

        with np.load(path, allow_pickle=False) as z:
            intensity = {
                IntensityMeasure(k[5:]): z[k] for k in z.files if k.startswith("int__")
            }
            forced = ForcedDamage(*(z[f"forced__{k}"] for k in
                                    ("time_h", "site", "damage_state", "probability")))
            grids = {}
            for k in z.files:
                if k.startswith("grid__") and k.endswith("__values"):
                    m = k[len("grid__"):-len("__values")]
                    grids[IntensityMeasure(m)] = GridSeries(
                        IntensityMeasure(m), z[f"grid__{m}__times_h"], z[k],
                        tuple(z[f"grid__{m}__transform"].tolist()), str(z[f"grid__{m}__crs"]))
            meta = json.loads(str(z["meta_json"])) if "meta_json" in z.files else {}
            warns = (tuple(json.loads(str(z["warnings_json"])))
                     if "warnings_json" in z.files else ())
            t0 = str(z["t0_utc"]) if "t0_utc" in z.files else None
            track = (StormTrack(z["track__times_h"], z["track__lonlat"])
                     if "track__times_h" in z.files else None)
            if "warnings_json" not in z.files:  # an entry cached before the typed fields
                warns = tuple(str(w) for w in meta.pop("warnings", None) or ())
                t0 = meta.pop("t0_utc", None)
                if "track_lonlat" in meta:
                    track = StormTrack(np.asarray(meta.pop("track_times_h"), dtype=float),
                                       np.asarray(meta.pop("track_lonlat"), dtype=float))
            times = z["times_h"]
        if times.ndim != 1:
            raise ValueError(f"times_h has shape {times.shape}")
        for m, a in intensity.items():
            if a.ndim != 2 or a.shape[0] != times.size or (
                    n_sites is not None and a.shape[1] != n_sites):
                raise ValueError(f"{m.value} has shape {a.shape} for {times.size} times")
        if not isinstance(meta, dict):
            raise ValueError("meta is not a mapping")
        if not isinstance(warns, tuple) or not all(isinstance(w, str) for w in warns):
            raise ValueError("warnings_json is not a list of strings")
        if track is not None and (track.lonlat.ndim != 2 or track.lonlat.shape[1] != 2
                                  or track.lonlat.shape[0] != track.times_h.shape[0]):
            raise ValueError(f"track has shape {track.lonlat.shape}")
        return cls(times, intensity, forced, grids, meta, t0, track, warns)


def _damaged_file_errors() -> tuple[type[BaseException], ...]:
    import zipfile
    import zlib

    return (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile, zlib.error)


#: What reading a truncated or garbled ``.npz`` can raise (numpy, zipfile, zlib).
DAMAGED_FILE_ERRORS: tuple[type[BaseException], ...] = _damaged_file_errors()


@dataclass(frozen=True, eq=False)
class HazardContext:
    """What a hazard may know about the city besides the sites."""

    crs: str
    terrain: Terrain | None
    base_dir: Path  # directory of the scenario file, for relative paths
    horizon_h: float
    meta: Mapping[str, object] = field(default_factory=dict)  # e.g. the city's anchor lon/lat


@runtime_checkable
class Hazard(Protocol):
    """The protocol every hazard module implements.

    A hazard class declares ``kind`` (its ``type:`` in scenarios) and ``Config``
    (a pydantic model with ``extra="forbid"`` validating its scenario block), and is
    built with ``from_config(config, context)``.
    """

    kind: ClassVar[str]
    Config: ClassVar[type[BaseModel]]

    @classmethod
    def from_config(cls, config: BaseModel, context: HazardContext) -> Hazard: ...

    def cache_key(self) -> str:
        """A stable string identifying every input that shapes the field."""
        ...

    def compute(self, sites: Sites) -> HazardField:
        """The hazard's intensities at ``sites`` over time (deterministic)."""
        ...
