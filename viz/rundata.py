"""Read a run directory for views: tables, ``replay.npz`` and derived geometry.

Reads only; :mod:`common.replay_layout` lays out the keys of ``replay.npz``.
Coordinates are metres in the city CRS; :attr:`RunData.origin` is subtracted for
rendering (VTK and WebGL use float32, which cannot hold UTM metres to the cm).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from common import replay_layout as layout
from common.stats import median, median_index
from viz.errors import RunDirError


@dataclass(frozen=True)
class Grid:
    """A hazard field on a regular grid: ``values`` (T, ny, nx) at ``times_h`` (T,)."""

    values: np.ndarray
    times_h: np.ndarray
    transform: np.ndarray  # x = a*col + b*row + c, y = d*col + e*row + f

    def frame_index(self, t: float) -> int:
        """Index of the frame in force at ``t`` (the last one at or before it)."""
        return int(np.clip(np.searchsorted(self.times_h, t, side="right") - 1, 0,
                           len(self.times_h) - 1))

    def at(self, t: float) -> np.ndarray | None:
        """The frame in force at ``t``; None before the first frame (no hazard yet)."""
        if t < self.times_h[0] - 1e-9:
            return None
        return self.values[self.frame_index(t)]

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """x, y (ny, nx) of the cell centres."""
        a, b, c, d, e, f = self.transform
        ny, nx = self.values.shape[1:]
        col, row = np.meshgrid(np.arange(nx) + 0.5, np.arange(ny) + 0.5)
        return a * col + b * row + c, d * col + e * row + f


def sample_raster(z: np.ndarray, transform: np.ndarray, x: np.ndarray, y: np.ndarray,
                  *, fill: float = 0.0) -> np.ndarray:
    """Nearest-cell value of raster ``z`` at points (x, y); ``fill`` outside or NaN."""
    a, b, c, d, e, f = np.asarray(transform, dtype=float)
    det = a * e - b * d
    xx, yy = np.asarray(x, float) - c, np.asarray(y, float) - f
    col = np.floor((e * xx - b * yy) / det).astype(np.int64)
    row = np.floor((-d * xx + a * yy) / det).astype(np.int64)
    ny, nx = z.shape
    ok = (col >= 0) & (col < nx) & (row >= 0) & (row < ny)
    out = np.full(np.shape(x), fill, dtype=float)
    out[ok] = z[row[ok], col[ok]]
    return np.where(np.isfinite(out), out, fill)


#: columns each table of a run directory must have (more are allowed)
TABLE_COLUMNS = {
    "events": ("realization", "time_h", "asset_id", "event", "crew_id"),
    "curves": ("realization", "time_h", "network", "served_fraction"),
    "loss": ("realization", "time_h", "customer_hours_lost", "repair_cost"),
    "metrics": ("realization", "network", "min_service", "resilience_loss_h"),
}
_NUMERIC = ("realization", "time_h", "served_fraction", "customer_hours_lost", "repair_cost",
            "min_service", "resilience_loss_h")


def _read_table(p: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """A Parquet table of a run, or a one-line error naming the file and the problem."""
    if not p.is_file():
        raise RunDirError("is missing; is this a `twin run` output?", where=str(p))
    try:
        df = pd.read_parquet(p)
    except Exception as e:  # pyarrow raises many types for damaged files  # noqa: BLE001
        raise RunDirError(f"is not a readable Parquet table (damaged or truncated?): "
                          f"{type(e).__name__}", where=str(p)) from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise RunDirError(f"lacks the column(s) {', '.join(missing)}", where=str(p))
    for c in columns:
        if c in _NUMERIC:
            if not pd.api.types.is_numeric_dtype(df[c]):
                raise RunDirError(f"column '{c}' is not numeric", where=str(p))
            if c in ("realization", "time_h") and not np.isfinite(df[c].to_numpy(float)).all():
                raise RunDirError(f"column '{c}' holds NaN or infinite values", where=str(p))
    return df


def _read_summary(p: Path) -> dict:
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        why = "is empty" if p.stat().st_size == 0 else f"is not valid JSON ({type(e).__name__})"
        raise RunDirError(why, where=str(p)) from None
    if not isinstance(doc, dict):
        raise RunDirError("must hold a JSON object", where=str(p))
    nets = doc.get("networks")
    if nets is not None and not isinstance(nets, dict):
        raise RunDirError("'networks' must be an object", where=str(p))
    return doc


@dataclass(frozen=True)
class RunData:
    """Everything a view reads from a run directory (never written)."""

    path: Path
    replay: dict[str, np.ndarray]
    events: pd.DataFrame
    curves: pd.DataFrame
    loss: pd.DataFrame | None = None
    metrics: pd.DataFrame | None = None
    summary: dict = field(default_factory=dict)

    @classmethod
    def from_dir(cls, path: str | Path, *, need_replay: bool = True) -> RunData:
        """Read a run directory; any missing or damaged file raises one :class:`RunDirError`
        naming the file and what is wrong."""
        path = Path(path)
        if not path.is_dir():
            raise RunDirError("run directory not found (create one with `twin run`)",
                              where=str(path))
        events = _read_table(path / "events.parquet", TABLE_COLUMNS["events"])
        curves = _read_table(path / "curves.parquet", TABLE_COLUMNS["curves"])
        if curves.empty:
            raise RunDirError("has no rows", where=str(path / "curves.parquet"))
        replay: dict[str, np.ndarray] = {}
        if (path / layout.FILE).is_file():
            from twin.replay_store import load_replay_inputs

            replay = load_replay_inputs(path / layout.FILE)
        elif need_replay:
            raise RunDirError(f"{layout.FILE} is missing; re-run the scenario with this version "
                              "of `twin run` to get replays", where=str(path))
        opt = {}
        for name in ("loss", "metrics"):
            p = path / f"{name}.parquet"
            opt[name] = _read_table(p, TABLE_COLUMNS[name]) if p.is_file() else None
        summary = {}
        if (path / "summary.json").is_file():
            summary = _read_summary(path / "summary.json")
        return cls(path, replay, events, curves, opt["loss"], opt["metrics"], summary)

    # ------------------------------------------------------------------ basics
    @property
    def title(self) -> str:
        return str(self.summary.get("scenario", self.path.name))

    @property
    def realizations(self) -> np.ndarray:
        return np.sort(self.curves["realization"].unique())

    def check_realization(self, r: int | None) -> int | None:
        if r is not None and r not in set(self.realizations.tolist()):
            raise RunDirError(f"realization {r} is not in this run (0..{self.realizations.max()})",
                              where=str(self.path))
        return r

    @property
    def horizon_h(self) -> float:
        return float(self.curves["time_h"].max())

    @property
    def ids(self) -> np.ndarray:
        return self.replay["ids"]

    @property
    def n(self) -> int:
        return len(self.replay["ids"])

    def grid(self, measure: str) -> Grid | None:
        key = f"grid__{measure}"
        if f"{key}__values" not in self.replay:
            return None
        return Grid(self.replay[f"{key}__values"], self.replay[f"{key}__times_h"],
                    self.replay[f"{key}__transform"])

    # ------------------------------------------------------------------ geometry
    @cached_property
    def comp_xy(self) -> np.ndarray:
        """(n, 2) a representative point per component: its vertex, or an edge's midpoint."""
        o = self.replay["line_offsets"]
        xy = self.replay["line_xy"]
        first, last = xy[o[:-1]], xy[np.maximum(o[1:] - 1, o[:-1])]
        return 0.5 * (first + last)

    @cached_property
    def access_xy(self) -> np.ndarray:
        acc = self.replay["access_node"].astype(np.int64)
        xy = self.comp_xy
        ok = (acc >= 0) & (acc < self.n)
        return np.where(ok[:, None], xy[np.clip(acc, 0, self.n - 1)], xy)

    @cached_property
    def bounds(self) -> tuple[float, float, float, float]:
        """xmin, xmax, ymin, ymax of the DEM (or of the geometry without one)."""
        if "terrain_elevation_m" in self.replay:
            a, b, c, d, e, f = self.replay["terrain_transform"]
            ny, nx = self.replay["terrain_elevation_m"].shape
            xs = [c, c + a * nx + b * ny, c + a * nx, c + b * ny]
            ys = [f, f + d * nx + e * ny, f + d * nx, f + e * ny]
            return min(xs), max(xs), min(ys), max(ys)
        xy = self.replay["line_xy"]
        return xy[:, 0].min(), xy[:, 0].max(), xy[:, 1].min(), xy[:, 1].max()

    @property
    def origin(self) -> np.ndarray:
        x0, x1, y0, y1 = self.bounds
        return np.array([0.5 * (x0 + x1), 0.5 * (y0 + y1)])

    def ground_m(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Terrain elevation (m) at points; 0 without terrain."""
        if "terrain_elevation_m" not in self.replay:
            return np.zeros(np.shape(x))
        return sample_raster(self.replay["terrain_elevation_m"], self.replay["terrain_transform"],
                             x, y, fill=0.0)

    def track_xy(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Typhoon track in the city CRS (metres) and its times, or None."""
        if "track_lonlat" not in self.replay:
            return None
        from pyproj import Transformer

        ll = self.replay["track_lonlat"]
        tr = Transformer.from_crs("EPSG:4326", str(self.replay["crs"]), always_xy=True)
        x, y = tr.transform(ll[:, 0], ll[:, 1])
        return np.column_stack([x, y]), np.asarray(self.replay["track_times_h"], float)

    # ------------------------------------------------------------------ service
    def service(self, realization: int | None = None, network: str = "system"
                ) -> tuple[np.ndarray, np.ndarray]:
        """Served fraction over time: one realization, or the median across them."""
        c = self.curves[self.curves["network"] == network]
        if realization is not None:
            c = c[c["realization"] == realization].sort_values("time_h")
            return c["time_h"].to_numpy(float), c["served_fraction"].to_numpy(float)
        g = c.pivot_table(index="time_h", columns="realization", values="served_fraction")
        return g.index.to_numpy(float), np.asarray(median(g.to_numpy(float), axis=1))

    def service_at(self, t: float, realization: int | None = None,
                   network: str = "system") -> float:
        tt, q = self.service(realization, network)
        k = int(np.clip(np.searchsorted(tt, t, side="right") - 1, 0, len(tt) - 1))
        return float(q[k])

    def default_realization(self) -> int:
        """The realization whose system resilience loss is the median one
        (:func:`common.stats.median_index`: the summary's median is its loss)."""
        m = self.metrics
        if m is None or m.empty:
            return int(self.realizations[0])
        s = m[m["network"] == "system"].sort_values("realization", kind="stable")
        if s.empty:
            return int(self.realizations[0])
        return int(s["realization"].iloc[median_index(s["resilience_loss_h"].to_numpy(float))])
