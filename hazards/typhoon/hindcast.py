"""Hindcasts: the modelled wind against what stations observed (``twin wind --observations``).

An observations CSV has one row per station and quantity::

    site, lon, lat, quantity, speed_mps[, height_m][, z0_m]

``quantity`` is ``max_gust`` (3-s), ``max_10min_mean`` or ``max_60min_mean``: the maximum
over the storm, as weather services report them. The model's 1-min sustained wind and 3-s
gust at each station (at 10 m for the station's ``z0_m``, else the run's exposure; moved to
``height_m`` with the logarithmic profile) are converted to the quantity's averaging:
10-min = 0.93 x 1-min (Harper, Kepert & Ginger 2010, at sea; ``one_to_ten_minute``),
60-min = ``sixty_to_ten_minute`` (1/1.05, ESDU) x 10-min (sources in
``wind_constants.yaml``).
``validation.csv`` lists observed and modelled speeds; the summary is the bias (mean of
modelled - observed) and the median absolute error, in m/s and relative to the observed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.errors import HazardError
from hazards.typhoon.constants import load_constants

QUANTITIES = ("max_gust", "max_10min_mean", "max_60min_mean")


@dataclass(frozen=True, eq=False)
class Observations:
    """Station observations (arrays of equal length; speeds in m/s, heights in m)."""

    site: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    quantity: np.ndarray
    speed_mps: np.ndarray
    height_m: np.ndarray
    z0_m: np.ndarray  # NaN: the run's exposure

    def __len__(self) -> int:
        return len(self.site)


def read_observations(path: Path | str) -> Observations:
    """Read and check an observations CSV (one-line errors naming file and row)."""
    import pandas as pd

    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise HazardError("observations file not found", where=where)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError,
            pd.errors.EmptyDataError) as ex:
        raise HazardError(f"cannot read observations: {ex}", where=where) from None
    cols = {c.strip().lower(): c for c in df.columns}
    missing = [c for c in ("site", "lon", "lat", "quantity", "speed_mps") if c not in cols]
    if missing:
        raise HazardError(f"observations lack column(s) {', '.join(missing)} (need site, lon, "
                          "lat, quantity, speed_mps[, height_m][, z0_m])", where=where)
    if df.empty:
        raise HazardError("observations file has no rows", where=where)

    def numbers(name: str, lo: float, hi: float, *, default: float | None = None,
                blank_ok: bool = False) -> np.ndarray:
        if name not in cols:
            return np.full(len(df), np.nan if default is None else default)
        raw = df[cols[name]].str.strip()
        v = pd.to_numeric(raw, errors="coerce").to_numpy(float)
        blank = (raw == "").to_numpy()
        if default is not None:
            v[blank] = default
        ok = np.isfinite(v) & (v >= lo) & (v <= hi)
        if blank_ok:
            ok |= blank
        if not ok.all():
            i = int(np.argmin(ok))
            raise HazardError(f"{name} {raw.iloc[i]!r} must be a number in [{lo:g}, {hi:g}]",
                              where=f"{where}:{i + 2}")
        return v

    q = df[cols["quantity"]].str.strip().to_numpy()
    bad_q = ~np.isin(q, QUANTITIES)
    if bad_q.any():
        i = int(np.argmax(bad_q))
        raise HazardError(f"quantity {q[i]!r} is not one of {', '.join(QUANTITIES)}",
                          where=f"{where}:{i + 2}")
    return Observations(site=df[cols["site"]].str.strip().to_numpy(),
                        lon=numbers("lon", -180.0, 360.0), lat=numbers("lat", -90.0, 90.0),
                        quantity=q, speed_mps=numbers("speed_mps", 0.0, 150.0),
                        height_m=numbers("height_m", 1.0, 500.0, default=10.0),
                        z0_m=numbers("z0_m", 1e-5, 3.0, blank_ok=True))


def height_factor(height_m: np.ndarray, z0_m: np.ndarray) -> np.ndarray:
    """Wind at ``height_m`` relative to 10 m over roughness ``z0_m`` (logarithmic profile,
    neutral surface layer)."""
    z0 = np.asarray(z0_m, dtype=float)
    return np.log(np.asarray(height_m, dtype=float) / z0) / np.log(10.0 / z0)


def modelled(obs: Observations, max_sustained_mps: np.ndarray, max_gust_mps: np.ndarray
             ) -> np.ndarray:
    """The model's value of each observation's quantity, from the station's maximum 1-min
    sustained wind and 3-s gust (both at the station's height)."""
    c = load_constants()
    ten = max_sustained_mps * c.one_to_ten_minute
    return np.select([obs.quantity == "max_gust", obs.quantity == "max_10min_mean"],
                     [max_gust_mps, ten], ten * c.sixty_to_ten_minute)


def summary(observed: np.ndarray, model: np.ndarray) -> dict[str, float]:
    """Bias (mean of model - observed) and median absolute error, in m/s and relative."""
    err = model - observed
    return {"n": int(len(err)), "bias_mps": float(np.mean(err)),
            "bias_rel": float(np.mean(err / observed)),
            "median_abs_error_mps": float(np.median(np.abs(err))),
            "median_abs_error_rel": float(np.median(np.abs(err) / observed))}
