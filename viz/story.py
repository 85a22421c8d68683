"""Words for the replays: local clock, people without service, captions of key moments.

Pure functions on a run's tables: nothing here renders. Times are hours since the
scenario start; the wall clock comes from the run's ``t0_utc`` (storm tracks) and
the city's ``timezone`` (the run's metadata).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from common.names import NETWORKS
from viz.look import MAJOR

#: how long a caption stays on screen (scenario hours)
CAPTION_H = 6.0

_CLASS_WORDS = {"power_plant": "power plant", "grid_supply": "grid supply point",
                "treatment_plant": "water treatment plant", "pump_station": "pump station",
                "tank": "water tank", "depot": "depot", "bridge": "bridge",
                "substation": "substation"}


def clock_text(t_h: float, t0_utc: object = None, timezone: object = None) -> str:
    """The time a frame stands for, in plain words.

    With the real start time (``t0_utc``) the date and local time with its zone
    ("Tue 29 Aug 14:20 CST (Asia/Shanghai)"); without a zone, UTC; without a start
    time the hours, day and hour since the start ("38.3 h after the start (day 2,
    14:20)").
    """
    t0 = _t0(t0_utc)
    if t0 is not None:
        wall = t0 + timedelta(seconds=round(float(t_h) * 3600))
        zone = _zone(timezone)
        if zone is not None:
            w = wall.astimezone(zone)
            return f"{w:%a %d %b %H:%M} {w.tzname()} ({zone.key})"
        return f"{wall:%a %d %b %H:%M} UTC"
    day, hh = divmod(float(t_h), 24.0)
    minutes = int(round(hh * 60)) % (24 * 60)
    return (f"{float(t_h):.1f} h after the start (day {int(day) + 1}, "
            f"{minutes // 60:02d}:{minutes % 60:02d})")


def short_time(t_h: float, t0_utc: object = None, timezone: object = None) -> str:
    """HH:MM local (or day N HH:MM) for captions."""
    t0 = _t0(t0_utc)
    if t0 is not None:
        wall = t0 + timedelta(seconds=round(float(t_h) * 3600))
        zone = _zone(timezone)
        return f"{(wall.astimezone(zone) if zone else wall):%H:%M}"
    day, hh = divmod(float(t_h), 24.0)
    minutes = int(round(hh * 60)) % (24 * 60)
    return f"day {int(day) + 1} {minutes // 60:02d}:{minutes % 60:02d}"


def _t0(t0_utc: object) -> datetime | None:
    if t0_utc is None or not str(t0_utc):
        return None
    try:
        return datetime.fromisoformat(str(t0_utc).rstrip("Z")).replace(tzinfo=UTC)
    except ValueError:
        return None


def _zone(name: object):
    if name is None or not str(name):
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return None


def held_water_note(flood, t_h: float) -> str:
    """Words for a flood whose last computed frame is shown after it ('water as computed
    at 36 h'): the hazard stored no recession, so the view says so instead of implying
    the water stands still."""
    if flood is None or not len(flood.times_h) or t_h <= float(flood.times_h[-1]) + 1e-9:
        return ""
    last = flood.values[-1]
    if not np.any(np.nan_to_num(last) > 0.05):
        return ""
    return f"water as last computed, at {float(flood.times_h[-1]):g} h"


def people(n: float) -> str:
    """A head count for people: 123,400 (rounded to hundreds above 10,000)."""
    n = float(n)
    if n >= 10_000:
        n = round(n, -2)
    return f"{n:,.0f}"


#: how a line of people without a service names each kind's service
SERVICE_WORDS = {"power": "power", "water": "water", "roads": "road access", "gas": "gas",
                 "telecom": "telecom"}


#: a kind's service in "people with power, water and road"
HAVE_WORDS = {"power": "power", "water": "water", "roads": "road", "gas": "gas",
              "telecom": "telecom"}


def services_phrase(kinds) -> str:
    """'power, water and road' for the kinds a city has (in NETWORKS order)."""
    w = [HAVE_WORDS[k] for k in kinds]
    return w[0] if len(w) == 1 else ", ".join(w[:-1]) + " and " + w[-1]


def city_kinds(replay) -> list[str]:
    """The kinds of a run's city, in NETWORKS order, from its replay arrays."""
    present = set(replay["network"].astype(str))
    return [k for k in NETWORKS if k in present]


def people_line(without: np.ndarray, kinds=("power", "water", "roads")) -> str:
    """'people without power: 123,400 · water: … · road access: …' for one frame:
    ``without[k]`` people lack ``NETWORKS[k]``; one entry per kind in ``kinds``."""
    parts = [f"{SERVICE_WORDS[k]}: {people(without[NETWORKS.index(k)])}" for k in kinds]
    return "people without " + " · ".join(parts)


def outcome_words(run, realization: int, *, chosen: bool) -> str:
    """'one of 20 simulated outcomes (the median one)' instead of 'realization 3'."""
    n = len(run.realizations)
    if n == 1:
        return "the one simulated outcome"
    which = "the median one by service lost" if not chosen else f"no. {realization + 1}"
    return f"one of {n} simulated outcomes ({which})"


@dataclass(frozen=True)
class Caption:
    time_h: float
    text: str


def key_moments(events: pd.DataFrame, ids: np.ndarray, asset_class: np.ndarray, *,
                flooded: bool) -> list[Caption]:
    """Captions for the moments a major asset (substation, plant, pump, ...) goes down or
    comes back, from the events of one realization, in time order (one per asset and
    event kind at one time)."""
    cls = pd.Series(np.asarray(asset_class).astype(str), index=np.asarray(ids).astype(str))
    ev = events[events["event"].isin(["damaged", "outage", "restored"])]
    ev = ev[ev["asset_id"].astype(str).map(cls).isin(MAJOR)]
    ev = ev.drop_duplicates(["time_h", "asset_id", "event"]).sort_values("time_h",
                                                                          kind="stable")
    out = []
    for t, a, e in zip(ev["time_h"].to_numpy(float), ev["asset_id"].astype(str),
                       ev["event"].astype(str), strict=True):
        what = _CLASS_WORDS.get(cls[a], cls[a].replace("_", " "))
        verb = {"damaged": "damaged", "outage": "flooded" if flooded else "out of service",
                "restored": "back in service"}[e]
        out.append(Caption(float(t), f"{what} {a} {verb}"))
    return out


def storm_moments(track_xy: np.ndarray, track_t: np.ndarray, centre: np.ndarray,
                  horizon_h: float) -> list[Caption]:
    """The moment the storm's eye passes closest to the city (within the horizon)."""
    xy, tt = np.asarray(track_xy, float), np.asarray(track_t, float)
    if len(tt) < 2:
        return []
    fine = np.linspace(max(tt[0], 0.0), min(tt[-1], horizon_h), 2000)
    if len(fine) < 2 or fine[-1] <= fine[0]:
        return []
    d = np.hypot(np.interp(fine, tt, xy[:, 0]) - centre[0],
                 np.interp(fine, tt, xy[:, 1]) - centre[1])
    k = int(np.argmin(d))
    return [Caption(float(fine[k]), f"the storm's eye passes closest to the city, "
                                    f"{d[k] / 1000:,.0f} km from its centre")]


def caption_at(moments: list[Caption], t_h: float) -> tuple[Caption, int] | None:
    """The latest caption shown at ``t_h`` and how many others happened with it."""
    if not moments:
        return None
    times = np.array([c.time_h for c in moments])
    k = int(np.searchsorted(times, t_h, side="right")) - 1
    if k < 0 or t_h - times[k] > CAPTION_H:
        return None
    same = int(np.sum(np.abs(times - times[k]) < 0.25)) - 1
    return moments[k], same
