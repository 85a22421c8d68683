"""IBTrACS v04 CSV: the documented layout and the project's reduced extracts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from common.errors import HazardError
from hazards.typhoon.constants import load_constants
from hazards.typhoon.readers.rows import Rows, append_storm, averaging_factor
from hazards.typhoon.track import TrackList

#: averaging period (minutes) of the winds each IBTrACS WMO agency reports
#: (IBTrACS v04 technical documentation; CLIMADA IBTRACS_AGENCY_1MIN_WIND_FACTOR)
IBTRACS_AGENCY_AVERAGING_MIN = {
    "hurdat_atl": 1, "hurdat_epa": 1, "cphc": 1, "atcf": 1, "tcvitals": 1, "nhc_working_bt": 1,
    "tokyo": 10, "hko": 10, "reunion": 10, "bom": 10, "nadi": 10, "wellington": 10,
    "newdelhi": 3, "cma": 2,
}
#: WMO-designated agency per basin, for the reduced WMO extracts (IBTrACS documentation)
WMO_BASIN_AVERAGING_MIN = {"NA": 1, "EP": 1, "WP": 10, "SI": 10, "SP": 10, "NI": 3, "SA": 1}


def read_ibtracs(path: str | Path, *, wind_source: str = "usa",
                 wind_averaging: str | None = None) -> TrackList:
    """All storms of an IBTrACS CSV (documented layout or the project's reduced extracts).

    ``wind_source``: ``"usa"`` (USA agencies, 1-min; the documented layout's ``USA_*``
    columns, falling back to ``WMO_*`` rows where USA gives nothing) or ``"wmo"``
    (``WMO_WIND``/``WMO_PRES`` converted per ``WMO_AGENCY``). For the reduced layout,
    ``wind_averaging`` overrides the rule: extracts with ``status``/``sshs_cat`` columns
    are USA (1-min); others are WMO, whose averaging follows the basin's RSMC.
    """
    path = str(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as ex:
        raise HazardError(f"cannot read IBTrACS CSV: {ex}", where=path) from None
    cols = {c.strip().upper(): c for c in df.columns}
    if "SID" in cols and "ISO_TIME" in cols:
        return _ibtracs_full(df, cols, path, wind_source=wind_source,
                             wind_averaging=wind_averaging)
    if "TRACK_ID" in cols and "TIME" in cols:
        return _ibtracs_reduced(df, cols, path, wind_averaging=wind_averaging)
    raise HazardError("not an IBTrACS CSV (needs SID+ISO_TIME or track_id+time columns)",
                      where=path)


def _column(df: pd.DataFrame, cols: dict[str, str], name: str, path: str, first_line: int
            ) -> np.ndarray:
    """A numeric column; blanks are NaN, anything else unparsable names its line."""
    raw = df[cols[name]].astype(str).str.strip()
    val = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(val) & (raw != "").to_numpy()  # "nan", "inf", words
    if bad.any():
        i = int(np.argmax(bad))
        raise HazardError(f"{name.lower()} {raw.iloc[i]!r} is not a number",
                          where=f"{path}:{first_line + i}")
    return val


def _times(df: pd.DataFrame, col: str, path: str, first_line: int) -> np.ndarray:
    raw = df[col].astype(str).str.strip()
    t = pd.to_datetime(raw, errors="coerce", utc=True)
    bad = t.isna().to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise HazardError(f"time {raw.iloc[i]!r} is not a date-time",
                          where=f"{path}:{first_line + i}")
    return t.dt.tz_localize(None).to_numpy().astype("datetime64[s]")


def _ibtracs_reduced(df, cols, path, *, wind_averaging):
    c = load_constants()
    first = 2
    lat = _column(df, cols, "LAT", path, first)
    lon = _column(df, cols, "LON", path, first)
    wind = _column(df, cols, "WIND", path, first) * c.knot_mps
    pres = _column(df, cols, "SLP", path, first) if "SLP" in cols else (
        _column(df, cols, "PRES", path, first))
    times = _times(df, cols["TIME"], path, first)
    usa = "STATUS" in cols or "SSHS_CAT" in cols
    basins = df[cols["BASIN"]].astype(str).str.strip().to_numpy() if "BASIN" in cols else None
    sid = df[cols["TRACK_ID"]].astype(str).str.strip().to_numpy()
    names = df[cols["NAME"]].astype(str).str.strip().to_numpy() if "NAME" in cols else sid
    seasons = _column(df, cols, "SEASON", path, first) if "SEASON" in cols else None
    out = TrackList()
    order = pd.unique(sid)
    for s in order:
        idx = np.nonzero(sid == s)[0]
        basin = str(basins[idx[0]]) if basins is not None else ""
        if wind_averaging is not None:
            fac = averaging_factor(wind_averaging, path)
        elif usa:
            fac = 1.0
        else:
            minutes = WMO_BASIN_AVERAGING_MIN.get(basin)
            # 2-/3-min winds (or an unknown agency): not converted, re-estimated from pressure
            fac = {1: 1.0, 10: 1.0 / c.one_to_ten_minute}.get(minutes, np.nan)
        season = int(seasons[idx[0]]) if seasons is not None else int(times[idx[0]].astype(
            "datetime64[Y]").astype(int) + 1970)
        rows = Rows(id=s, name=str(names[idx[0]]).upper(), season=season, basin=basin)
        for i in idx:
            rows.add(first + int(i), times[i], lat[i], lon[i], wind[i] * fac, pres[i])
        append_storm(out, rows, path)
    return out


def _ibtracs_full(df, cols, path, *, wind_source, wind_averaging):
    c = load_constants()
    if wind_source not in ("usa", "wmo"):
        raise HazardError(f"wind_source must be 'usa' or 'wmo', got {wind_source!r}", where=path)
    first = 2
    # IBTrACS CSVs carry a units row right under the header (SEASON == "Year")
    season_raw = df[cols["SEASON"]].astype(str).str.strip()
    if len(df) and not season_raw.iloc[0].lstrip("-").isdigit():
        df = df.iloc[1:].reset_index(drop=True)
        first = 3
    lat = _column(df, cols, "LAT", path, first)
    lon = _column(df, cols, "LON", path, first)
    times = _times(df, cols["ISO_TIME"], path, first)
    kt, nm = c.knot_mps, c.nautical_mile_m

    def opt(name: str) -> np.ndarray:
        return _column(df, cols, name, path, first) if name in cols else np.full(len(df), np.nan)

    usa_w, usa_p = opt("USA_WIND"), opt("USA_PRES")
    wmo_w, wmo_p = opt("WMO_WIND"), opt("WMO_PRES")
    agency = (df[cols["WMO_AGENCY"]].astype(str).str.strip().str.lower().to_numpy()
              if "WMO_AGENCY" in cols else np.full(len(df), ""))
    if wind_averaging is not None:
        wmo_fac = np.full(len(df), averaging_factor(wind_averaging, path))
    else:
        minutes = np.array([IBTRACS_AGENCY_AVERAGING_MIN.get(a, 0) for a in agency])
        wmo_fac = np.where(minutes == 1, 1.0,
                           np.where(minutes == 10, 1.0 / c.one_to_ten_minute, np.nan))
    if wind_source == "usa":
        use_usa = ~np.isnan(usa_w) | ~np.isnan(usa_p)
        wind = np.where(use_usa, usa_w * kt, wmo_w * kt * wmo_fac)
        pres = np.where(use_usa, usa_p, wmo_p)
    else:
        wind = wmo_w * kt * wmo_fac
        pres = wmo_p
    # WMO winds of 2-/3-min agencies stay NaN here and are re-estimated from pressure
    # agency radius of maximum wind and outer closed isobar, first agency that has one
    rmw = np.full(len(df), np.nan)
    poci = np.full(len(df), np.nan)
    rmw_cols = [k for k in cols if k.endswith("_RMW")]
    poci_cols = [k for k in cols if k.endswith("_POCI")]
    rmw_cols.sort(key=lambda k: (not k.startswith("USA"), k))
    poci_cols.sort(key=lambda k: (not k.startswith("USA"), k))
    for k in rmw_cols:
        v = _column(df, cols, k, path, first) * nm
        rmw = np.where(np.isnan(rmw), v, rmw)
    for k in poci_cols:
        v = _column(df, cols, k, path, first)
        poci = np.where(np.isnan(poci), v, poci)
    sid = df[cols["SID"]].astype(str).str.strip().to_numpy()
    names = df[cols["NAME"]].astype(str).str.strip().to_numpy() if "NAME" in cols else sid
    seasons = _column(df, cols, "SEASON", path, first)
    basins = df[cols["BASIN"]].astype(str).str.strip().to_numpy() if "BASIN" in cols else None
    landfall = (df[cols["USA_RECORD"]].astype(str).str.strip().to_numpy() == "L"
                if "USA_RECORD" in cols else np.zeros(len(df), bool))
    # USA agencies' wind radii (1-min winds of 34/50/64 kt, n mi, by quadrant), when present
    radii = {f"r{thr}_{q}": opt(f"USA_R{thr}_{q.upper()}") * nm
             for thr in (34, 50, 64) for q in ("ne", "se", "sw", "nw")
             if f"USA_R{thr}_{q.upper()}" in cols}
    out = TrackList()
    for s in pd.unique(sid):
        idx = np.nonzero(sid == s)[0]
        basin = str(basins[idx[0]]) if basins is not None else ""
        rows = Rows(id=s, name=str(names[idx[0]]).upper(), season=int(seasons[idx[0]]),
                    basin=basin)
        for i in idx:
            rows.add(first + int(i), times[i], lat[i], lon[i], wind[i], pres[i],
                     penv=poci[i], rmw_m=rmw[i], landfall=bool(landfall[i]),
                     radii={k: v[i] for k, v in radii.items()})
        append_storm(out, rows, path, has_landfall="USA_RECORD" in cols)
    return out
