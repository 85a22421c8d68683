"""Physical constants and empirical coefficients of the typhoon hazard.

Every number lives in ``hazards/typhoon/data/wind_constants.yaml`` beside its
source; this module loads that file once into a frozen :class:`WindConstants`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from common.errors import DataFileError

CONSTANTS_PATH = Path(__file__).with_name("data") / "wind_constants.yaml"


@dataclass(frozen=True)
class WindConstants:
    """The numbers of ``wind_constants.yaml`` (SI units unless the name says otherwise)."""

    rho_air_kgm3: float
    omega_rads: float
    earth_radius_m: float
    knot_mps: float
    nautical_mile_m: float
    gradient_to_surface: float
    b_clip_gradient: tuple[float, float]
    h08: dict[str, float]
    vt_cap_mps: float
    rmw_vw08: dict[str, Any]
    rmw_climada: dict[str, list[float]]
    wp_climada: dict[str, dict[str, float]]
    env_pressure_by_basin_hpa: dict[str, float]
    env_pressure_default_hpa: float
    one_to_ten_minute: float
    sixty_to_ten_minute: float
    forecast_errors: dict[str, Any]
    z0_sea_m: float
    blending_height_m: float
    reference_height_m: float
    gust_z0_m: tuple[float, ...]
    gust_factor: tuple[float, ...]
    landuse_z0_m: dict[str, dict[int, float]]
    rcliper: dict[str, float]
    surge: dict[str, Any]

    def b_clip_surface(self) -> tuple[float, float]:
        """Clip interval of the surface Holland b_s: the gradient range times G**2."""
        g2 = self.gradient_to_surface**2
        return self.b_clip_gradient[0] * g2, self.b_clip_gradient[1] * g2

    def env_pressure_hpa(self, basin: str) -> float:
        return float(self.env_pressure_by_basin_hpa.get(basin, self.env_pressure_default_hpa))

    def sustained_roughness_factor(self, z0_m: np.ndarray | float) -> np.ndarray:
        """1-min wind at 10 m over roughness ``z0_m`` relative to the marine value.

        Two logarithmic profiles (marine z0 and local z0) that meet at the blending
        height carry the same wind there (see the YAML for the source and status).
        """
        z0 = np.clip(np.asarray(z0_m, dtype=float), 1e-5, 0.5 * self.reference_height_m)
        zr, zb, zs = self.reference_height_m, self.blending_height_m, self.z0_sea_m
        marine = math.log(zr / zs) / math.log(zb / zs)
        return (np.log(zr / z0) / np.log(zb / z0)) / marine

    def gust_factor_for(self, z0_m: np.ndarray | float) -> np.ndarray:
        """3-s gust / 1-min sustained at 10 m for roughness ``z0_m`` (log-linear in z0)."""
        z0 = np.clip(np.asarray(z0_m, dtype=float), 1e-5, 10.0)
        return np.interp(np.log(z0), np.log(np.asarray(self.gust_z0_m)),
                         np.asarray(self.gust_factor))


def _value(d: dict[str, Any], key: str) -> Any:
    try:
        entry = d[key]
    except KeyError:
        raise DataFileError(f"missing entry '{key}'", where=str(CONSTANTS_PATH)) from None
    return entry["value"] if isinstance(entry, dict) and "value" in entry else entry


@lru_cache(maxsize=1)
def load_constants() -> WindConstants:
    """Read ``wind_constants.yaml`` (cached; the file is part of the package)."""
    try:
        raw = yaml.safe_load(CONSTANTS_PATH.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as ex:
        raise DataFileError(f"cannot read constants: {ex}", where=str(CONSTANTS_PATH)) from None
    rough = _value(raw, "roughness")
    gust = _value(raw, "gust_factor_3s_1min")
    env = _value(raw, "env_pressure_hpa")
    land = _value(raw, "landuse_z0_m")
    return WindConstants(
        rho_air_kgm3=float(_value(raw, "air_density_kgm3")),
        omega_rads=float(_value(raw, "earth_angular_velocity_rads")),
        earth_radius_m=float(_value(raw, "earth_radius_m")),
        knot_mps=float(_value(raw, "knot_mps")),
        nautical_mile_m=float(_value(raw, "nautical_mile_m")),
        gradient_to_surface=float(_value(raw, "gradient_to_surface")),
        b_clip_gradient=tuple(float(v) for v in _value(raw, "holland_b_clip_gradient")),
        h08={k: float(v) for k, v in _value(raw, "holland2008_bs").items() if k != "source"},
        vt_cap_mps=float(_value(raw, "translation_speed_cap_mps")),
        rmw_vw08={k: v for k, v in _value(raw, "rmw_vickery_wadhera_2008").items()
                  if k != "source"},
        rmw_climada={k: [float(x) for x in v]
                     for k, v in _value(raw, "rmw_climada_ibtracs").items() if k != "source"},
        wp_climada={k: {kk: float(vv) for kk, vv in v.items()}
                    for k, v in _value(raw, "wind_pressure_climada_ibtracs").items()
                    if k != "source"},
        env_pressure_by_basin_hpa={k: float(v) for k, v in env["by_basin"].items()},
        env_pressure_default_hpa=float(env["default"]),
        one_to_ten_minute=float(_value(raw, "one_to_ten_minute")),
        sixty_to_ten_minute=float(_value(raw, "sixty_to_ten_minute")),
        forecast_errors={k: v for k, v in _value(raw, "forecast_errors").items()
                         if k != "source"},
        z0_sea_m=float(rough["z0_sea_m"]),
        blending_height_m=float(rough["blending_height_m"]),
        reference_height_m=float(rough["reference_height_m"]),
        gust_z0_m=tuple(float(v) for v in gust["z0_m"]),
        gust_factor=tuple(float(v) for v in gust["factor"]),
        landuse_z0_m={name: {int(k): float(v) for k, v in table.items()}
                      for name, table in land.items() if name != "source"},
        rcliper={k: float(v) for k, v in _value(raw, "rain_rcliper").items() if k != "source"},
        surge={k: v for k, v in _value(raw, "surge").items() if k != "source"},
    )
