"""The typhoon hazard's scenario block, validated once (pydantic, ``extra="forbid"``).

Where each field goes: ``track``, ``forecast`` (:mod:`.ensemble`) and ``transforms`` ->
:mod:`.readers`,
:mod:`.track_transforms` and the :class:`~hazards.typhoon.timeline.StormTimeline`
(with ``start_time_utc``, ``lead_time_h``, ``step_min``, ``city_lonlat``, ``far_km``);
``profile``, ``rmw_model``, ``coriolis`` -> :func:`hazards.typhoon.wind.storm_steps`;
``inflow_deg``, ``max_distance_km`` -> the wind kernel; ``roughness`` ->
:mod:`.exposure`; ``edge_sample_m`` -> :func:`hazards.sampling.sample_sites`;
``grid_max_cells`` -> the gust grid; ``surge``, ``flood``, ``flood_start_h``,
``flood_recession_h`` -> :mod:`.compound`.
"""

from __future__ import annotations

import difflib
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

#: Most time steps one storm may have (a 30-day track every minute is 43,200); a finer
#: step is refused before anything is allocated.
MAX_STEPS = 100_000
#: Most cells of the gust grid shown in the 3D view (the DEM is decimated to this).
MAX_GRID_CELLS = 4_000_000


class TrackSpec(BaseModel):
    """Which best track: a file (relative to the scenario), its format and the storm."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    file: str
    format: Literal["auto", "hurdat2", "jma", "ibtracs", "csv"] = "auto"
    storm: str = Field("", description="ID (IBTrACS SID, AL092008, 1713) or NAME:SEASON; "
                                        "may be empty for a single-storm CSV")
    wind_averaging: Literal["1min", "10min"] | None = Field(
        None, description="averaging period of the file's winds (required for plain CSV)")
    wind_source: Literal["usa", "wmo"] = "usa"


class TransformSpec(BaseModel):
    """One what-if applied to the track; exactly one field. Pivots are the track's
    closest approach to the city."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    shift_km: tuple[float, float] | None = Field(None, description="(east_km, north_km)")
    shift_to_lonlat: tuple[float, float] | None = Field(
        None, description="(lon, lat): move the track so its closest approach passes here")
    rotate_deg: float | None = Field(None, description="clockwise, about the closest approach")
    scale_intensity: float | None = Field(None, gt=0, le=2.5, description="wind multiplier "
                                          "(pressure deficit x factor^2)")
    speed_factor: float | None = Field(None, ge=0.2, le=5.0,
                                       description="forward speed multiplier")

    @field_validator("shift_to_lonlat")
    @classmethod
    def _lonlat(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        return _check_lonlat(v)

    @model_validator(mode="after")
    def _one(self) -> TransformSpec:
        given = [k for k in type(self).model_fields if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a transform has exactly one of shift_km, shift_to_lonlat, "
                             "rotate_deg, scale_intensity, speed_factor")
        return self


class RoughnessSpec(BaseModel):
    """Exposure of the sites: which roughness length z0 each point has.

    ``open_terrain`` (default): z0 = 0.03 m everywhere, the reference exposure of wind
    fragility curves (open terrain, 10 m). ``marine``: open water everywhere.
    ``uniform``: ``z0_m`` everywhere. ``dem_land_mask``: the context's DEM decides land
    (elevation above ``sea_level_m``: ``z0_m``) from water (no data or below: marine).
    ``landuse``: a land-use raster (``landuse_raster``, codes of ``landuse_table`` or
    ``landuse_z0_m``); points outside it get ``z0_m``.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    source: Literal["open_terrain", "marine", "uniform", "dem_land_mask", "landuse"] = (
        "open_terrain")
    z0_m: float = Field(0.03, gt=0, le=3.0)
    sea_level_m: float = 0.0
    landuse_raster: str | None = None
    landuse_table: Literal["esa_worldcover"] = "esa_worldcover"
    landuse_z0_m: dict[int, float] | None = None

    @model_validator(mode="after")
    def _raster(self) -> RoughnessSpec:
        if self.source == "landuse" and not self.landuse_raster:
            raise ValueError("roughness source 'landuse' needs landuse_raster")
        return self


class SurgeSpec(BaseModel):
    """Coastal stage: parametric (point, shore normal, shelf) or a CSV (time_utc, stage_m)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    file: str | None = None
    lonlat: tuple[float, float] | None = None
    shore_normal_deg: float = Field(0.0, description="compass direction from sea onto land")
    shelf_width_km: float = Field(50.0, gt=0)
    shelf_depth_m: float = Field(20.0, gt=0)
    tide_m: float = 0.0
    flood_edge: Literal["N", "E", "S", "W"] | None = Field(
        "S", description="with a 'flood' block: the edge of the flood grid that carries this "
                         "stage (the coast); null: the surge does not force the flood")

    @field_validator("lonlat")
    @classmethod
    def _lonlat(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        return _check_lonlat(v)

    @model_validator(mode="after")
    def _either(self) -> SurgeSpec:
        if (self.file is None) == (self.lonlat is None):
            raise ValueError("surge needs either 'file' or 'lonlat'")
        return self


class ForecastSpec(BaseModel):
    """A forecast ensemble instead of the track itself (see :mod:`hazards.typhoon.ensemble`):
    errors grow from ``issue_time_utc``; members drawn with ``seed``.

    With ``members: N`` the run's Monte Carlo realizations sample the ensemble:
    realization ``r`` meets member ``r mod N`` (every member equally often), so the
    loss and recovery bands carry the forecast's uncertainty as well as the fragility
    and repair draws. Without it the run uses the single member ``member``.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    issue_time_utc: datetime
    member: int = Field(0, ge=0, lt=1000)
    members: int | None = Field(None, ge=1, le=1000)
    seed: int = Field(0, ge=0)


class TyphoonConfig(BaseModel):
    """Scenario block of the typhoon hazard (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    type: Literal["typhoon"] = "typhoon"
    track: TrackSpec
    transforms: list[TransformSpec] = Field(default_factory=list)
    forecast: ForecastSpec | None = None

    step_min: float = Field(30.0, gt=0, le=360, description="time step (minutes); the number "
                            "of steps is bounded by MAX_STEPS before any work")
    start_time_utc: datetime | None = None
    lead_time_h: float = Field(48.0, ge=0)
    city_lonlat: tuple[float, float] | None = None
    profile: Literal["auto", "holland2010_radii", "holland2008", "holland1980"] = Field(
        "auto", description="auto: Holland et al. (2010) fitted to the track's wind radii "
                            "when it has any, else Holland (2008) with a warning")
    rmw_model: Literal["vickery_wadhera_2008", "climada"] = "vickery_wadhera_2008"
    coriolis: bool = True
    inflow_deg: float = Field(0.0, ge=0, le=45)
    max_distance_km: float = Field(500.0, gt=0, le=2000)
    far_km: float = Field(300.0, gt=0)
    roughness: RoughnessSpec = Field(default_factory=RoughnessSpec)
    edge_sample_m: float = Field(250.0, gt=0)
    topography: Literal["none", "as_nzs_1170_2"] = Field(
        "none", description="as_nzs_1170_2: speed-up on hills and ridges from the city's DEM "
                            "(hill-shape multiplier, hazards.typhoon.topography)")
    grid_max_cells: int = Field(40_000, ge=4, le=MAX_GRID_CELLS)
    surge: SurgeSpec | None = None
    flood: dict[str, Any] | None = Field(
        None, description="compound flood: the fields of a flood hazard block (hazards.flood."
                          "FloodConfig) except 'type' and 'rain'; the storm's R-CLIPER rain is "
                          "the forcing, on the city's terrain unless 'dem' is given")
    flood_start_h: float = Field(
        0.0, ge=0, description="scenario hour at which the flood solver starts (its duration_h "
                               "counts from here); rain before it is neglected (see meta)")
    flood_recession_h: float | None = Field(
        None, gt=0, description="after the flood solver's end: None keeps its last depths "
                                "(ponds persist, as for a flood hazard); a number lets every "
                                "depth fall linearly to 0 over that many hours (drainage and "
                                "pumping, which the solver does not model)")

    @field_validator("city_lonlat")
    @classmethod
    def _city(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        return _check_lonlat(v)

    @field_validator("flood", mode="before")
    @classmethod
    def _flood_block(cls, v: object) -> dict[str, Any] | None:
        """Validate the block with the flood module's own model; store its full dump."""
        if v is None:
            return None
        if isinstance(v, BaseModel):
            v = v.model_dump(mode="json")
        if not isinstance(v, dict):
            raise ValueError("'flood' must be a mapping of flood-solver fields")
        for key, why in (("rain", "the storm's R-CLIPER rain is the forcing of the compound "
                                  "flood; remove 'flood.rain' (or use a separate flood hazard)"),
                         ("type", "the compound flood block takes no 'type'")):
            if key in v:
                raise ValueError(why)
        from hazards.flood.config import FloodConfig

        try:
            cfg = FloodConfig.model_validate({**v, "type": "flood"})
        except ValidationError as e:
            raise ValueError(_flood_error(e, FloodConfig)) from None
        return cfg.model_dump(mode="json", exclude={"type", "rain"})

    def forecast_configs(self, issue_time_utc: datetime, members: int, seed: int
                         ) -> list[TyphoonConfig]:
        """The members of a forecast of this storm issued at ``issue_time_utc`` (the hazard
        protocol's optional forecast hook, read by ``twin.warning``): wind and surge only;
        the compound flood is left out, one 2-D flood solve per member being too slow for
        a decision taken at the issue time."""
        forecast = ForecastSpec(issue_time_utc=issue_time_utc, members=members, seed=seed)
        return self.model_copy(update={"flood": None, "forecast": forecast}).member_configs()

    def member_configs(self) -> list[TyphoonConfig]:
        """One configuration per forecast member the realizations sample (the hazard
        protocol's optional ensemble hook; see :func:`twin.run.prepare`)."""
        f = self.forecast
        if f is None or f.members is None:
            return [self]
        return [self.model_copy(update={"forecast": f.model_copy(
            update={"member": m, "members": None})}) for m in range(f.members)]


def _check_lonlat(v: tuple[float, float] | None) -> tuple[float, float] | None:
    """(lon, lat) in degrees: longitude in [-180, 360], latitude in [-90, 90]."""
    if v is not None and not (-180.0 <= v[0] <= 360.0 and -90.0 <= v[1] <= 90.0):
        raise ValueError(f"(lon, lat) {list(v)} is not a place on Earth: lon in [-180, 360], "
                         "lat in [-90, 90]")
    return v


def _flood_error(e: ValidationError, model: type[BaseModel]) -> str:
    """One line for the first error of the flood block, with a suggestion for a misspelling."""
    errs = e.errors()
    err = next((x for x in errs if x["type"] == "extra_forbidden"), errs[0])
    loc = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        bad = str(err["loc"][-1])
        close = difflib.get_close_matches(bad, list(model.model_fields), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close and len(err["loc"]) == 1 else ""
        return f"unknown flood field '{loc}'{hint}"
    if err["type"] == "missing":
        return f"flood field '{loc}' is required"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"flood field '{loc}': {msg}" if loc else f"flood: {msg}"
