"""Intensity measures: what a hazard reports and a fragility curve reads."""

from __future__ import annotations

from enum import StrEnum


class IntensityMeasure(StrEnum):
    """Intensity measures; the value is the spelling used in data files and scenarios."""

    FLOOD_DEPTH_M = "flood_depth_m"  # water depth above ground
    GUST_MPS = "gust_mps"  # 3-s gust at 10 m
    SUSTAINED_WIND_MPS = "sustained_wind_mps"  # 1-min sustained at 10 m
    GENERIC = "intensity"  # unit-free intensity of a user-given damage-map raster
