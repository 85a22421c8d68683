"""A pyvista scene of a run at any time: terrain, flood water, wind, networks, crews.

The static geometry is built once; :meth:`Scene.update` changes only colours, the
water and wind layers, crew positions, the clock and the service gauge, so a
replay renders many frames from one scene. Reads a :class:`viz.rundata.RunData`;
never writes into it.

Colours (RGB):

- components by state (:data:`viz.states.STATES`): working = the network's colour
  (points: green), failed red, cascade_failed orange, outage magenta,
  under_repair yellow, restored blue (shown for ``restored_show_h`` hours);
- terrain: a hypsometric tint (green lowlands, tan hills, brown-grey heights);
- flood water: translucent blue where the depth exceeds ``WET_M``;
- wind: gust speed (m/s) in a translucent layer above the city, the typhoon
  track as a dark line and the eye as a sphere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from viz import states as st
from viz.options import CAMERAS
from viz.rundata import RunData

WET_M = 0.05
WATER_RGB = (25, 95, 235)
WATER_ALPHA = 0.7
CREW_RGB = (15, 15, 15)

STATE_RGB = np.array([
    (60, 170, 70),     # working (points; lines use the network colour)
    (225, 25, 30),     # failed
    (255, 140, 0),     # cascade_failed
    (200, 40, 200),    # outage
    (255, 225, 0),     # under_repair
    (30, 110, 255),    # restored
], dtype=np.uint8)

NETWORK_RGB = {"power": (70, 70, 80), "water": (0, 150, 160), "roads": (150, 150, 150)}

#: major point assets: drawn as large glyphs; other nodes as small points
MAJOR = {"substation", "power_plant", "grid_supply", "treatment_plant", "pump_station", "tank",
         "depot", "bridge"}

SEA_RGB = (70, 120, 185)
EYE_RGB = (150, 40, 160)  # not black: crews are black

# hypsometric tint: elevation (m) -> RGB
_HYPSO = np.array([
    (-50, 150, 175, 190), (0, 160, 185, 195), (0.01, 118, 170, 95), (10, 150, 190, 110),
    (30, 200, 210, 140), (60, 225, 205, 145), (120, 200, 160, 110), (250, 160, 120, 90),
    (500, 140, 130, 125), (1000, 240, 240, 240),
], dtype=float)


def clock_text(t_h: float, t0_utc: object = None) -> str:
    """Scenario time and the wall-clock time it stands for: the real UTC date and time
    when the run knows when t = 0 was (a storm's track), else day and time of day."""
    if t0_utc is not None and str(t0_utc):
        t0 = np.datetime64(str(t0_utc).rstrip("Z"))
        wall = t0 + np.timedelta64(int(round(t_h * 3600)), "s")
        return f"t = {t_h:6.1f} h   {np.datetime_as_string(wall, unit='m').replace('T', ' ')} UTC"
    day, hh = divmod(t_h, 24.0)
    minutes = int(round(hh * 60)) % (24 * 60)
    return f"t = {t_h:6.1f} h   (day {int(day) + 1}, {minutes // 60:02d}:{minutes % 60:02d})"


def hypsometric_rgb(z: np.ndarray) -> np.ndarray:
    """RGB uint8 of a hypsometric tint for elevations ``z`` (m)."""
    z = np.nan_to_num(np.asarray(z, float), nan=0.0)
    out = np.empty((*z.shape, 3), dtype=np.uint8)
    for k in range(3):
        out[..., k] = np.interp(z, _HYPSO[:, 0], _HYPSO[:, k + 1]).astype(np.uint8)
    return out


def _gust_rgba(g: np.ndarray, alpha: float) -> np.ndarray:
    """A wind palette: calm transparent, 15 m/s light blue ... 60 m/s deep purple."""
    stops = np.array([(0, 255, 255, 255, 0.0), (12, 180, 230, 255, 0.0),
                      (20, 120, 200, 255, 0.6), (30, 80, 220, 120, 0.8),
                      (40, 250, 220, 40, 0.9), (50, 240, 90, 30, 1.0), (65, 140, 20, 140, 1.0)])
    g = np.nan_to_num(np.asarray(g, float), nan=0.0)
    out = np.empty((*g.shape, 4), dtype=np.uint8)
    for k in range(3):
        out[..., k] = np.interp(g, stops[:, 0], stops[:, k + 1]).astype(np.uint8)
    out[..., 3] = (np.interp(g, stops[:, 0], stops[:, 4]) * alpha * 255).astype(np.uint8)
    return out


@dataclass(frozen=True)
class SceneOptions:
    """How a scene looks. ``exaggeration`` multiplies heights; sizes are pixels."""

    size: tuple[int, int] = (1280, 720)
    exaggeration: float = 3.0
    camera: str = "oblique"
    realization: int | None = None
    restored_show_h: float = 6.0
    terrain_max_cells: int = 200  # per side; the DEM is strided above this
    #: MSAA samples; 8 (pyvista's default) costs ~2.5x per frame in software rendering
    multi_samples: int = 1
    fxaa: bool = False  # with OSMesa/EGL VTK swaps FXAA for SSAA, which is slow
    show_minor_nodes: bool = True
    line_width: float = 2.0


def _stride(shape: tuple[int, int], max_cells: int) -> int:
    return max(1, int(np.ceil(max(shape) / max_cells)))


def _grid_corners(transform: np.ndarray, ny: int, nx: int, s: int = 1):
    a, b, c, d, e, f = transform
    col, row = np.meshgrid(np.arange(0, nx + 1, s, dtype=float),
                           np.arange(0, ny + 1, s, dtype=float))
    return a * col + b * row + c, d * col + e * row + f


def _fortran(a: np.ndarray) -> np.ndarray:
    """(ny, nx, k) -> (ny*nx, k) in VTK's structured order (first index fastest)."""
    return a.transpose(1, 0, 2).reshape(-1, a.shape[2])


def _corner_max(v: np.ndarray) -> np.ndarray:
    """(ny+1, nx+1) corner values: max of the (up to 4) cells around each corner."""
    p = np.pad(v, 1, mode="edge")
    return np.maximum(np.maximum(p[:-1, :-1], p[1:, :-1]), np.maximum(p[:-1, 1:], p[1:, 1:]))


class Scene:
    """A run's scene; ``update(t)`` then ``screenshot()`` (or ``show()``)."""

    def __init__(self, run: RunData, options: SceneOptions | None = None, *,
                 off_screen: bool = True, plotter=None) -> None:
        import pyvista as pv

        self.pv = pv
        self.run = run
        self.opt = opt = options or SceneOptions()
        if opt.camera not in CAMERAS:
            from viz.rundata import RunDirError

            raise RunDirError(f"unknown camera '{opt.camera}'; use one of {', '.join(CAMERAS)}")
        self.realization = (run.default_realization() if opt.realization is None
                            else opt.realization)
        self.origin = run.origin
        import copy

        theme = copy.deepcopy(pv.global_theme)
        theme.multi_samples = opt.multi_samples
        self.p = plotter or pv.Plotter(off_screen=off_screen, window_size=list(opt.size),
                                       theme=theme)
        if opt.fxaa:
            self.p.enable_anti_aliasing("fxaa")
        self.p.set_background("#dfe8ef", top="#9fb6cc")
        ex = opt.exaggeration
        self._z_lift = 4.0 * ex  # networks sit a little above the ground
        ev = st.realization_events(run.events, self.realization)
        self.transitions = st.state_transitions(ev, run.ids, restored_show_h=opt.restored_show_h)
        self._crew_ev = ev
        self._add_terrain()
        self._add_networks()
        self._add_water()
        self._add_wind()
        self._add_crews()
        self._add_overlays()
        self.set_camera(opt.camera)
        self.t = None

    # ------------------------------------------------------------------ building
    def _local(self, x, y):
        return np.asarray(x, float) - self.origin[0], np.asarray(y, float) - self.origin[1]

    def _add_terrain(self) -> None:
        pv, run, ex = self.pv, self.run, self.opt.exaggeration
        self.terrain = None
        self.z_top = 0.0
        if "terrain_elevation_m" not in run.replay:
            x0, x1, y0, y1 = run.bounds
            lx, ly = self._local(np.array([x0, x1]), np.array([y0, y1]))
            plane = pv.Plane(center=(lx.mean(), ly.mean(), -1.0), i_size=lx[1] - lx[0],
                             j_size=ly[1] - ly[0])
            self.p.add_mesh(plane, color="#c8d8b0", lighting=False)
            return
        z = run.replay["terrain_elevation_m"].astype(float)
        zf = np.where(np.isfinite(z), z, np.nanmin(z) if np.isfinite(z).any() else 0.0)
        s = _stride(z.shape, self.opt.terrain_max_cells)
        zs = zf[::s, ::s]
        a, b, c, d, e, f = run.replay["terrain_transform"]
        rows, cols = np.meshgrid(np.arange(0, z.shape[0], s) + 0.5, np.arange(0, z.shape[1], s)
                                 + 0.5, indexing="ij")
        x, y = self._local(a * cols + b * rows + c, d * cols + e * rows + f)
        grid = pv.StructuredGrid(x, y, zs * ex)
        grid.point_data["rgb"] = _fortran(hypsometric_rgb(zs))
        self.terrain = grid
        self.z_top = float(np.nanmax(zf)) * ex
        self.p.add_mesh(grid, scalars="rgb", rgb=True, smooth_shading=True, ambient=0.35,
                        diffuse=0.7, specular=0.0, show_scalar_bar=False)
        if (zs < 0).any():
            # the sea at mean sea level, so a storm's rain on the sea bed does not read as land
            sea = pv.StructuredGrid(x, y, np.zeros_like(zs))
            sea.point_data["below_sea"] = (zs < 0).astype(float).ravel(order="F")
            sea = sea.threshold(0.5, scalars="below_sea")
            if sea.n_cells:
                self.p.add_mesh(sea, color=SEA_RGB, opacity=0.9, lighting=False,
                                show_scalar_bar=False)

    def _z(self, x, y):
        return self.run.ground_m(x, y) * self.opt.exaggeration + self._z_lift

    def _add_networks(self) -> None:
        pv, run = self.pv, self.run
        rp = run.replay
        o = rp["line_offsets"]
        xy = rp["line_xy"]
        is_edge = rp["is_edge"].astype(bool)
        net = rp["network"].astype(str)
        self.net_rgb = np.array([NETWORK_RGB.get(k, (120, 120, 120)) for k in net], np.uint8)
        # edges -> one polyline per component
        self.edge_idx = np.nonzero(is_edge & (np.diff(o) >= 2))[0]
        counts = (o[self.edge_idx + 1] - o[self.edge_idx]).astype(np.int64)
        vidx = np.concatenate([np.arange(o[i], o[i + 1]) for i in self.edge_idx]) \
            if len(self.edge_idx) else np.zeros(0, np.int64)
        self.lines = None
        if len(vidx):
            lx, ly = self._local(xy[vidx, 0], xy[vidx, 1])
            pts = np.column_stack([lx, ly, self._z(xy[vidx, 0], xy[vidx, 1])])
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            cells = np.concatenate([np.concatenate([[k], np.arange(s0, s0 + k)])
                                    for k, s0 in zip(counts, starts, strict=True)])
            self.lines = pv.PolyData(pts, lines=cells)
            # roads first (drawn under power and water where they overlap)
            self.lines.cell_data["rgb"] = self.net_rgb[self.edge_idx]
            self.p.add_mesh(self.lines, scalars="rgb", rgb=True, line_width=self.opt.line_width,
                            lighting=False, show_scalar_bar=False)
        # nodes
        cls = rp["asset_class"].astype(str)
        nodes = ~is_edge
        major = nodes & np.isin(cls, list(MAJOR))
        self.major_idx = np.nonzero(major)[0]
        # road intersections are left out: the road segments carry the road state
        self.minor_idx = np.nonzero(nodes & ~major & (net != "roads"))[0] \
            if self.opt.show_minor_nodes else np.zeros(0, np.int64)
        self.major = self._points(self.major_idx, 15 * max(1.0, self.opt.size[1] / 720))
        self.minor = self._points(self.minor_idx, 3.5 * max(1.0, self.opt.size[1] / 720))

    def _points(self, idx: np.ndarray, size: float):
        if not len(idx):
            return None
        pv = self.pv
        xy = self.run.comp_xy[idx]
        lx, ly = self._local(xy[:, 0], xy[:, 1])
        pts = pv.PolyData(np.column_stack([lx, ly, self._z(xy[:, 0], xy[:, 1]) + self._z_lift]))
        pts.point_data["rgb"] = np.repeat(STATE_RGB[:1], len(idx), axis=0)
        self.p.add_mesh(pts, scalars="rgb", rgb=True, point_size=size,
                        render_points_as_spheres=True, show_scalar_bar=False, ambient=0.5)
        return pts

    def _surface_grid(self, transform, ny, nx):
        cx, cy = _grid_corners(transform, ny, nx)
        lx, ly = self._local(cx, cy)
        ground = self.run.ground_m(cx.ravel(), cy.ravel()).reshape(cx.shape)
        grid = self.pv.StructuredGrid(lx, ly, ground * self.opt.exaggeration)
        return grid, ground

    def _add_water(self) -> None:
        self.flood = self.run.grid("flood_depth_m")
        self.water = None
        if self.flood is None:
            return
        ny, nx = self.flood.values.shape[1:]
        self.water, self._water_ground = self._surface_grid(self.flood.transform, ny, nx)
        self.water.cell_data["rgba"] = np.zeros((ny * nx, 4), np.uint8)
        self.p.add_mesh(self.water, scalars="rgba", rgba=True, lighting=False,
                        show_scalar_bar=False)

    def _add_wind(self) -> None:
        pv = self.pv
        self.gust = self.run.grid("gust_mps")
        self.wind = None
        self.eye = None
        tr = self.run.track_xy()
        self._wind_z = self.z_top + 400.0 * self.opt.exaggeration / 3.0 + 50.0
        if self.gust is not None:
            ny, nx = self.gust.values.shape[1:]
            cx, cy = _grid_corners(self.gust.transform, ny, nx)
            lx, ly = self._local(cx, cy)
            self.wind = pv.StructuredGrid(lx, ly, np.full(lx.shape, self._wind_z))
            self.wind.cell_data["rgba"] = np.zeros((ny * nx, 4), np.uint8)
            self.p.add_mesh(self.wind, scalars="rgba", rgba=True, lighting=False,
                            show_scalar_bar=False)
        if tr is not None:
            xy, self._track_t = tr
            # keep the track near the city (a best track spans an ocean)
            x0, x1, y0, y1 = self.run.bounds
            span = max(x1 - x0, y1 - y0)
            c = self.run.origin
            near = np.max(np.abs(xy - c), axis=1) < 3 * span
            self._track_xy = xy
            if near.sum() >= 2:
                seg = xy[near]
                lx, ly = self._local(seg[:, 0], seg[:, 1])
                line = pv.lines_from_points(np.column_stack([lx, ly,
                                                             np.full(len(lx), self._wind_z)]))
                self.p.add_mesh(line, color="#202020", line_width=3, lighting=False)
            self.eye = pv.PolyData(np.zeros((1, 3)))
            self.p.add_mesh(self.eye, color=EYE_RGB, point_size=30,
                            render_points_as_spheres=True)

    def _add_crews(self) -> None:
        names, _, _ = st.crew_tracks(self._crew_ev, self.run.ids, self.run.access_xy, [0.0])
        self.crew_names = names
        self.crews = None
        if names:
            self.crews = self.pv.PolyData(np.zeros((len(names), 3)))
            self.p.add_mesh(self.crews, color=CREW_RGB, point_size=11 * max(
                1.0, self.opt.size[1] / 720), render_points_as_spheres=True, ambient=0.6)

    def _add_overlays(self) -> None:
        import vtk

        p = self.p
        fs = max(10, int(self.opt.size[1] / 42))
        self.clock = p.add_text("", position="upper_left", font_size=fs, color="black",
                                name="clock")
        title = self.run.title
        p.add_text(title, position="upper_right", font_size=max(8, fs - 3), color="#202020",
                   name="title")
        labels = [["working", tuple(STATE_RGB[0] / 255)], ["failed", tuple(STATE_RGB[1] / 255)],
                  ["cascade failed", tuple(STATE_RGB[2] / 255)],
                  ["outage", tuple(STATE_RGB[3] / 255)],
                  ["under repair", tuple(STATE_RGB[4] / 255)],
                  ["restored", tuple(STATE_RGB[5] / 255)],
                  ["crew", tuple(np.array(CREW_RGB) / 255)],
                  ["power line", tuple(np.array(NETWORK_RGB["power"]) / 255)],
                  ["water pipe", tuple(np.array(NETWORK_RGB["water"]) / 255)],
                  ["road", tuple(np.array(NETWORK_RGB["roads"]) / 255)]]
        if self.flood is not None:
            labels.append(["flood water", tuple(np.array(WATER_RGB) / 255)])
        if self.gust is not None:
            labels.append(["gust > 20 m/s", (0.47, 0.78, 1.0)])
        if self.eye is not None:
            labels.append(["typhoon eye, track", tuple(np.array(EYE_RGB) / 255)])
        p.add_legend(labels, bcolor="white", border=True, size=(0.16, 0.36),
                     loc="lower right", face="circle", background_opacity=0.8)
        # service gauge: a frame and a fill bar in normalized viewport coordinates
        self._gauge = {}
        for name, rgb, opacity in (("bg", (1, 1, 1), 0.85), ("fill", (0.17, 0.63, 0.17), 1.0),
                                   ("frame", (0.1, 0.1, 0.1), 1.0)):
            pts = vtk.vtkPoints()
            for _ in range(4):
                pts.InsertNextPoint(0, 0, 0)
            poly = vtk.vtkPolyData()
            poly.SetPoints(pts)
            cells = vtk.vtkCellArray()
            if name == "frame":
                ids = [0, 1, 2, 3, 0]
                cells.InsertNextCell(len(ids), ids)
                poly.SetLines(cells)
            else:
                cells.InsertNextCell(4, [0, 1, 2, 3])
                poly.SetPolys(cells)
            coord = vtk.vtkCoordinate()
            coord.SetCoordinateSystemToNormalizedViewport()
            mapper = vtk.vtkPolyDataMapper2D()
            mapper.SetInputData(poly)
            mapper.SetTransformCoordinate(coord)
            actor = vtk.vtkActor2D()
            actor.SetMapper(mapper)
            actor.GetProperty().SetColor(*rgb)
            actor.GetProperty().SetOpacity(opacity)
            actor.GetProperty().SetLineWidth(2)
            p.renderer.AddActor(actor)
            self._gauge[name] = (pts, poly, actor)
        self._gauge_box = (0.02, 0.04, 0.30, 0.075)  # x0, y0, x1, y1
        self._set_rect("bg", *self._gauge_box)
        self._set_rect("frame", *self._gauge_box)
        self.gauge_text = p.add_text("", position=(int(0.02 * self.opt.size[0]),
                                                   int(0.085 * self.opt.size[1])),
                                     font_size=max(8, fs - 3), color="black", name="gauge")

    def _set_rect(self, name, x0, y0, x1, y1) -> None:
        pts, poly, _ = self._gauge[name]
        for k, (x, y) in enumerate(((x0, y0), (x1, y0), (x1, y1), (x0, y1))):
            pts.SetPoint(k, x, y, 0)
        pts.Modified()
        poly.Modified()

    # ------------------------------------------------------------------ camera
    def set_camera(self, preset: str) -> None:
        x0, x1, y0, y1 = self.run.bounds
        lx, ly = self._local(np.array([x0, x1]), np.array([y0, y1]))
        cx, cy = lx.mean(), ly.mean()
        span = max(lx[1] - lx[0], ly[1] - ly[0])
        zc = 0.0
        cam = self.p.camera
        if preset == "top":
            self.p.camera_position = [(cx, cy, span * 2.0), (cx, cy, zc), (0, 1, 0)]
            self.p.enable_parallel_projection()
            cam.parallel_scale = 0.5 * (ly[1] - ly[0]) * 1.02
            aspect = self.opt.size[0] / self.opt.size[1]
            cam.parallel_scale = max(cam.parallel_scale, 0.5 * (lx[1] - lx[0]) / aspect * 1.02)
            return
        d = span * 1.05
        pos = {"oblique": (cx, cy - d, d * 0.85), "south": (cx, cy - d * 1.2, d * 0.45),
               "north": (cx, cy + d, d * 0.85), "iso": (cx + d * 0.75, cy - d * 0.75, d * 0.8)}
        self.p.camera_position = [pos[preset], (cx, cy - 0.05 * span, zc), (0, 0, 1)]

    # ------------------------------------------------------------------ per frame
    def update(self, t: float) -> None:
        """Set everything that changes with time to scenario time ``t`` (hours)."""
        self.t = float(t)
        s = st.states_at(self.transitions, self.run.n, [t])[0]
        self.states = s
        if self.lines is not None:
            se = s[self.edge_idx]
            rgb = np.where((se == st.WORKING)[:, None], self.net_rgb[self.edge_idx],
                           STATE_RGB[se])
            self.lines.cell_data["rgb"][:] = rgb
            self.lines.Modified()
        if self.major is not None:
            self.major.point_data["rgb"][:] = STATE_RGB[s[self.major_idx]]
            self.major.Modified()
        if self.minor is not None:
            sm = s[self.minor_idx]
            self.minor.point_data["rgb"][:] = np.where((sm == st.WORKING)[:, None],
                                                       self.net_rgb[self.minor_idx], STATE_RGB[sm])
            self.minor.Modified()
        if self.water is not None:
            depth = np.nan_to_num(self.flood.at(t), nan=0.0)
            wet = depth > WET_M
            rgba = np.zeros((*depth.shape, 4), np.uint8)
            rgba[wet] = (*WATER_RGB, int(WATER_ALPHA * 255))
            self.water.cell_data["rgba"][:] = _fortran(rgba)
            zc = (self._water_ground + _corner_max(depth)) * self.opt.exaggeration + 0.5
            self.water.points[:, 2] = zc.ravel(order="F")
            self.water.Modified()
        if self.wind is not None:
            g = self.gust.at(t)
            self.wind.cell_data["rgba"][:] = _fortran(_gust_rgba(g, 0.55))
            self.wind.Modified()
        if self.eye is not None:
            tt = self._track_t
            if tt[0] <= t <= tt[-1]:
                x = np.interp(t, tt, self._track_xy[:, 0])
                y = np.interp(t, tt, self._track_xy[:, 1])
                lx, ly = self._local(x, y)
                self.eye.points[:] = [[lx, ly, self._wind_z + 5]]
            else:
                self.eye.points[:] = [[np.nan, np.nan, np.nan]]
            self.eye.Modified()
        if self.crews is not None:
            _, xy, _ = st.crew_tracks(self._crew_ev, self.run.ids, self.run.access_xy, [t])
            xy = xy[0]
            z = np.where(np.isfinite(xy[:, 0]), self._z(np.nan_to_num(xy[:, 0]),
                                                         np.nan_to_num(xy[:, 1])), np.nan)
            lx, ly = self._local(xy[:, 0], xy[:, 1])
            # crews not yet on the map are parked below the ground, out of sight
            park = ~np.isfinite(lx)
            pts = np.column_stack([np.where(park, 0, lx), np.where(park, 0, ly),
                                   np.where(park, -1e5, z + 3 * self._z_lift)])
            self.crews.points[:] = pts
            self.crews.Modified()
        # overlays
        n_bad = int(np.count_nonzero((s != st.WORKING) & (s != st.RESTORED)))
        self.clock.SetText(2, f"{clock_text(t, self.run.replay.get('t0_utc'))}\n"
                              f"realization {self.realization}   out of service: {n_bad}")
        q = self.run.service_at(t, self.opt.realization)
        x0, y0, x1, y1 = self._gauge_box
        self._set_rect("fill", x0, y0, x0 + (x1 - x0) * max(q, 0.0), y1)
        col = (0.17, 0.63, 0.17) if q >= 0.9 else (0.95, 0.6, 0.1) if q >= 0.5 else (0.85, 0.1,
                                                                                       0.1)
        self._gauge["fill"][2].GetProperty().SetColor(*col)
        which = "median" if self.opt.realization is None else f"realization {self.realization}"
        self.gauge_text.SetInput(f"system service {q * 100:5.1f} %  ({which})")

    def screenshot(self) -> np.ndarray:
        """The rendered frame as (h, w, 3) uint8."""
        self.p.render()
        return self.p.screenshot(return_img=True)

    def world_to_pixel(self, x: float, y: float, z: float | None = None) -> tuple[int, int]:
        """Image (row, col) of a city-CRS point (on the network layer when ``z`` is None)."""
        if z is None:
            z = float(self._z(np.array([x]), np.array([y]))[0])
        lx, ly = self._local(x, y)
        r = self.p.renderer
        r.SetWorldPoint(float(lx), float(ly), float(z), 1.0)
        r.WorldToDisplay()
        dx, dy, _ = r.GetDisplayPoint()
        h = self.opt.size[1]
        return int(round(h - 1 - dy)), int(round(dx))

    def close(self) -> None:
        self.p.close()


def render_png(run: RunData, t: float, path, options: SceneOptions | None = None) -> None:
    """Render the scene at ``t`` to a PNG (offscreen)."""
    import imageio.v3 as iio

    scene = Scene(run, options)
    try:
        scene.update(t)
        img = scene.screenshot()
    finally:
        scene.close()
    iio.imwrite(path, img)
