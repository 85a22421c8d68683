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

import contextlib
from dataclasses import dataclass

import numpy as np

from common.names import NETWORKS
from viz import look, overlay, story
from viz import states as st
from viz.look import (  # noqa: F401  (re-exported: the HTML viewer and plots use them)
    CREW_RGB,
    EYE_RGB,
    MAJOR,
    NETWORK_RGB,
    SEA_RGB,
    STATE_RGB,
    WATER_RGB,
    WET_M,
)
from viz.options import CAMERAS
from viz.rundata import RunData
from viz.service import (
    BlockService,
    block_service,
    block_side_m,
    has_blocks,
    warn_if_different,
)

#: share of the window width taken by the side panel (legend, gauge, storm inset)
PANEL = 0.3
#: height (m above mean sea level, before exaggeration) the storm track is drawn at
TRACK_Z_M = 60.0

# hypsometric tint: elevation (m) -> RGB
_HYPSO = np.array([
    (-50, 150, 175, 190), (0, 160, 185, 195), (0.01, 118, 170, 95), (10, 150, 190, 110),
    (30, 200, 210, 140), (60, 225, 205, 145), (120, 200, 160, 110), (250, 160, 120, 90),
    (500, 140, 130, 125), (1000, 240, 240, 240),
], dtype=float)


def clock_text(t_h: float, t0_utc: object = None, timezone: object = None) -> str:
    """Scenario time in plain words (see :func:`viz.story.clock_text`)."""
    return story.clock_text(t_h, t0_utc, timezone)


def hypsometric_rgb(z: np.ndarray) -> np.ndarray:
    """RGB uint8 of a hypsometric tint for elevations ``z`` (m)."""
    z = np.nan_to_num(np.asarray(z, float), nan=0.0)
    out = np.empty((*z.shape, 3), dtype=np.uint8)
    for k in range(3):
        out[..., k] = np.interp(z, _HYPSO[:, 0], _HYPSO[:, k + 1]).astype(np.uint8)
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
    #: a label on top of the map (``twin compare --mp4`` names its panels)
    panel_label: str | None = None
    #: shade population blocks by the services their people lack
    service_layer: bool = True


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


#: switch markers: closed, open
SWITCH_RGB = np.array([(20, 90, 50), (250, 250, 250)], dtype=np.uint8)


class Scene:
    """A run's scene; ``update(t)`` then ``screenshot()`` (or ``show()``)."""

    def __init__(self, run: RunData, options: SceneOptions | None = None, *,
                 off_screen: bool = True, plotter=None) -> None:
        if off_screen and plotter is None:
            from viz.offscreen import use_offscreen

            use_offscreen()
        import pyvista as pv

        self.pv = pv
        self.run = run
        self._kinds = story.city_kinds(run.replay)  # the city's network kinds, in order
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
        if plotter is None:
            from viz.offscreen import headless_windows

            with headless_windows() if off_screen else contextlib.nullcontext():
                plotter = pv.Plotter(off_screen=off_screen, window_size=list(opt.size),
                                     theme=theme)  # its render window is made here
        self.p = plotter
        if opt.fxaa:
            self.p.enable_anti_aliasing("fxaa")
        self.p.set_background("#dfe8ef", top="#9fb6cc")
        # the legend, the gauge and the storm inset sit beside the map, not on it
        self.panel = PANEL if opt.size[0] >= 480 else 0.0
        self.p.renderer.SetViewport(0.0, 0.0, 1.0 - self.panel, 1.0)
        ex = opt.exaggeration
        self._z_lift = 4.0 * ex  # networks sit a little above the ground
        ev = st.realization_events(run.events, self.realization)
        self.transitions = st.state_transitions(ev, run.ids, restored_show_h=opt.restored_show_h)
        self._crew_ev = ev
        self.services: BlockService | None = None
        self._spark_marker = None
        self._crew_frames: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.people_out: float | None = None
        self._add_terrain()
        self._add_blocks()
        self._add_networks()
        self._add_switches()
        self._add_water()
        self._add_wind()
        self._add_crews()
        self._moments = story.key_moments(ev, run.ids, run.replay["asset_class"],
                                          flooded=self.flood is not None)
        if self.eye is not None:
            self._moments = sorted(self._moments + story.storm_moments(
                self._track_xy, self._track_t, run.origin, run.horizon_h),
                key=lambda c: c.time_h)
        self._add_overlays()
        self._add_scale_and_north()
        self.set_camera(opt.camera)
        self.t = None

    def prepare(self, times_h) -> None:
        """Compute who has service and where the crews are at a replay's frame times
        (once for all frames, instead of once per frame)."""
        times = np.asarray(times_h, dtype=float)
        if self.crews is not None:
            _, xy, act = st.crew_tracks(self._crew_ev, self.run.ids, self.run.access_xy,
                                        times, realization=self.realization)
            self._crew_frames = (times, xy, act)
        if self.opt.service_layer and has_blocks(self.run):
            self.services = block_service(self.run, self.realization, np.asarray(times_h),
                                          transitions=st.state_transitions(
                                              self._crew_ev, self.run.ids))
            warn_if_different(self.run, self.services, self.realization)

    def _crews_at(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        cf = self._crew_frames
        if cf is not None:
            k = np.nonzero(np.abs(cf[0] - t) < 1e-9)[0]
            if len(k):
                return cf[1][k[0]], cf[2][k[0]]
        _, xy, act = st.crew_tracks(self._crew_ev, self.run.ids, self.run.access_xy, [t],
                                    realization=self.realization)
        return xy[0], act[0]

    def _services_at(self, t: float) -> np.ndarray | None:
        """(b, 3) served fractions at ``t``: a prepared frame, or computed for ``t``."""
        if not (self.opt.service_layer and has_blocks(self.run)):
            return None
        bs = self.services
        if bs is not None:
            k = np.nonzero(np.abs(bs.times_h - t) < 1e-9)[0]
            if len(k):
                return bs.served[k[0]]
        one = block_service(self.run, self.realization, np.array([t]))
        return one.served[0]

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

    def _add_switches(self) -> None:
        """Switches (twin.flisr) as small squares on their lines: dark green closed,
        white open (their states from the ``switched`` events)."""
        rp = self.run.replay
        self.switches = None
        edge = np.asarray(rp.get("switch_edge", np.zeros(0, np.int64)), dtype=np.int64)
        if not len(edge):
            return
        xy = self.run.comp_xy[edge]
        lx, ly = self._local(xy[:, 0], xy[:, 1])
        pts = self.pv.PolyData(np.column_stack(
            [lx, ly, self._z(xy[:, 0], xy[:, 1]) + 2.0 * self._z_lift]))
        pts.point_data["rgb"] = np.repeat(SWITCH_RGB[:1], len(edge), axis=0)
        self.p.add_mesh(pts, scalars="rgb", rgb=True,
                        point_size=6 * max(1.0, self.opt.size[1] / 720),
                        render_points_as_spheres=False, show_scalar_bar=False)
        self.switches = pts
        self._switch_edge = edge

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
        self.water_shown = self._cells_layer()
        # below mean sea level is the sea (drawn with the terrain), not a flood
        cx, cy = self.flood.cell_centres()
        self._sea_cells = self.run.ground_m(cx.ravel(), cy.ravel()).reshape(cx.shape) < 0

    def _cells_layer(self):
        """A translucent layer showing only the coloured cells of a grid (set per frame):
        clear cells are left out, not drawn transparent, so they hide nothing below."""
        layer = self._empty_layer()
        self.p.add_mesh(layer, scalars="rgba", rgba=True, lighting=False,
                        show_scalar_bar=False)
        return layer

    def _show_cells(self, layer, grid) -> None:
        on = np.nonzero(grid.cell_data["rgba"][:, 3] > 0)[0]
        if len(on):
            part = grid.extract_cells(on).extract_surface(algorithm="dataset_surface")
        else:
            part = self._empty_layer()
        layer.copy_from(part)

    def _empty_layer(self):
        empty = self.pv.PolyData(np.zeros((3, 3)) - 1e5, faces=[3, 0, 1, 2])
        empty.cell_data["rgba"] = np.zeros((1, 4), np.uint8)
        return empty

    def _add_blocks(self) -> None:
        """Population blocks: flat squares on the ground, shaded by what their people lack."""
        self.blocks = None
        if not (self.opt.service_layer and has_blocks(self.run)):
            return
        xy = np.asarray(self.run.replay["block_xy"], float)
        side = block_side_m(xy)
        h = side / 2
        lx, ly = self._local(xy[:, 0], xy[:, 1])
        z = self.run.ground_m(xy[:, 0], xy[:, 1]) * self.opt.exaggeration + 0.8 * self._z_lift
        corners = np.stack([np.column_stack([lx + dx, ly + dy, z])
                            for dx, dy in ((-h, -h), (h, -h), (h, h), (-h, h))], axis=1)
        pts = corners.reshape(-1, 3)
        faces = np.column_stack([np.full(len(xy), 4), np.arange(len(xy) * 4).reshape(-1, 4)])
        self.blocks = self.pv.PolyData(pts, faces=faces.ravel())
        self.blocks.cell_data["rgba"] = np.zeros((len(xy), 4), np.uint8)
        self.p.add_mesh(self.blocks, scalars="rgba", rgba=True, lighting=False,
                        show_scalar_bar=False)

    def _add_wind(self) -> None:
        pv = self.pv
        self.gust = self.run.grid("gust_mps")
        self.wind = None
        self.eye = None
        self.track_past = self.track_future = None
        tr = self.run.track_xy()
        # the track lies low over the sea where storms come from (hills may hide it, as
        # they would): floating it above the highest peak misplaces it in perspective
        self._wind_z = TRACK_Z_M * self.opt.exaggeration
        if self.gust is not None:
            # draped on the terrain a little above the water, translucent
            ny, nx = self.gust.values.shape[1:]
            self.wind, _ = self._surface_grid(self.gust.transform, ny, nx)
            self.wind.points[:, 2] += 2.5 * self._z_lift
            self.wind.cell_data["rgba"] = np.zeros((ny * nx, 4), np.uint8)
            self.wind_shown = self._cells_layer()
        if tr is not None:
            xy, self._track_t = tr
            self._track_xy = xy
            self.track_past = pv.PolyData(np.zeros((2, 3)), lines=[2, 0, 1])
            self.track_future = pv.PolyData(np.zeros((2, 3)), lines=[2, 0, 1])
            self.p.add_mesh(self.track_past, color=look.TRACK_PAST_RGB, line_width=4,
                            lighting=False)
            self.p.add_mesh(self.track_future, color=look.TRACK_FUTURE_RGB, line_width=2,
                            lighting=False)
            self.eye = pv.PolyData(np.zeros((1, 3)))
            self.p.add_mesh(self.eye, color=EYE_RGB, point_size=26,
                            render_points_as_spheres=True)

    def _track_split(self, t: float) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Past and future parts of the track (city CRS) and the eye at ``t`` (or None)."""
        xy, tt = self._track_xy, self._track_t
        if t <= tt[0]:
            return xy[:1], xy, None
        if t >= tt[-1]:
            return xy, xy[-1:], None
        eye = np.array([np.interp(t, tt, xy[:, 0]), np.interp(t, tt, xy[:, 1])])
        k = int(np.searchsorted(tt, t, side="right"))
        return np.vstack([xy[:k], eye]), np.vstack([eye, xy[k:]]), eye

    def _set_polyline(self, poly, xy: np.ndarray, z: float) -> None:
        if len(xy) < 2:
            xy = np.vstack([xy, xy])
        lx, ly = self._local(xy[:, 0], xy[:, 1])
        pts = np.column_stack([lx, ly, np.full(len(lx), z)])
        line = self.pv.lines_from_points(pts)
        poly.copy_from(line)

    def _add_crews(self) -> None:
        names, _, _ = st.crew_tracks(self._crew_ev, self.run.ids, self.run.access_xy, [0.0],
                                     realization=self.realization)
        self.crew_names = names
        self.crews = self.crew_halo = None
        if names:
            k = max(1.0, self.opt.size[1] / 720)
            self.crew_halo = self.pv.PolyData(np.zeros((len(names), 3)))
            self.crew_halo.point_data["rgb"] = np.zeros((len(names), 3), np.uint8)
            self.crews = self.pv.PolyData(np.zeros((len(names), 3)))
            self.crews.point_data["rgb"] = np.zeros((len(names), 3), np.uint8)
            self.p.add_mesh(self.crew_halo, scalars="rgb", rgb=True, point_size=19 * k,
                            render_points_as_spheres=True, lighting=False,
                            show_scalar_bar=False)
            self.p.add_mesh(self.crews, scalars="rgb", rgb=True, point_size=11 * k,
                            render_points_as_spheres=True, lighting=False,
                            show_scalar_bar=False)

    # ------------------------------------------------------------------ 2D overlays
    def _add_overlays(self) -> None:
        import vtk

        p, run = self.p, self.run
        w, h = self.opt.size
        fs = max(9, int(h / 52))
        main = p.renderer
        # on the map: who is without service (top), the clock, a caption (bottom)
        self.top_line = overlay.text(main, "", 0.012, 0.985, fs + 2, bold=True, valign="top")
        self.clock = overlay.text(main, "", 0.012, 0.985 - 1.6 * (fs + 2) / h, fs, valign="top")
        self.caption = overlay.text(main, "", 0.5, 0.02, fs + 1, bold=True, align="center")
        self.caption.GetTextProperty().SetBackgroundColor(1, 1, 1)
        self.caption.GetTextProperty().SetBackgroundOpacity(0.85)
        if self.opt.panel_label:
            overlay.text(main, self.opt.panel_label, 0.5, 0.985 - 3.3 * (fs + 2) / h, fs + 4,
                       bold=True, align="center", valign="top", color=(0.1, 0.1, 0.4))
        self.note = overlay.text(main, "", 0.5, 0.06 + 1.4 * fs / h, fs, align="center")
        # the side panel (or, on narrow panes, the gauge alone on the map)
        self.side = main
        gx0, gx1 = 0.02, 0.30
        if self.panel:
            side = vtk.vtkRenderer()
            side.SetViewport(1.0 - self.panel, 0.0, 1.0, 1.0)
            side.SetBackground(1.0, 1.0, 1.0)
            p.ren_win.AddRenderer(side)
            self.side = side
            gx0, gx1 = 0.06, 0.94
        ren = self.side
        pw = max(1.0, self.panel * w) if self.panel else w
        lh = 1.45 * fs / h  # one line, in normalized viewport height
        y = 0.985
        if self.panel:
            for line in _wrap(run.title, max(12, int(pw / (0.55 * fs)))):
                overlay.text(ren, line, 0.06, y, fs, bold=True, valign="top")
                y -= lh
            chosen = self.opt.realization is not None
            for line in _wrap(story.outcome_words(run, self.realization, chosen=chosen),
                              max(12, int(pw / (0.5 * fs)))):
                overlay.text(ren, line, 0.06, y, fs - 1, valign="top", color=(0.3, 0.3, 0.3))
                y -= lh
            y -= 0.5 * lh
        # the gauge: everyone with every service, in the outcome shown
        self.gauge_text = overlay.text(ren, "", gx0, y, fs - 1, valign="top")
        y -= 1.2 * lh
        self._gauge_box = (gx0, y - 0.6 * lh, gx1, y)
        self._gauge = {"bg": overlay.rect(ren, *self._gauge_box, (1, 1, 1), 0.85),
                       "fill": overlay.rect(ren, *self._gauge_box, (0.17, 0.63, 0.17)),
                       "frame": overlay.rect(ren, *self._gauge_box, (0.1, 0.1, 0.1),
                                           outline=True)}
        y -= 1.6 * lh
        if not self.panel:
            return
        y = self._add_sparkline(ren, y, lh, fs)
        entries: list[tuple[str, str | None, object]] = [("Components", None, None)]
        for k, word in enumerate(look.STATE_WORDS):
            entries.append((word, "dot", STATE_RGB[k]))
        present = set(self.run.replay["network"].astype(str))
        for net in NETWORKS:  # the city's kinds, in the declared order
            if net in present:
                entries.append((look.NETWORK_WORDS[net], "line", NETWORK_RGB[net]))
        if self.switches is not None:
            entries += [("Switches", None, None), ("closed", "box", SWITCH_RGB[0]),
                        ("open", "box", SWITCH_RGB[1])]
        if self.crews is not None:
            entries += [("Repair crews", None, None),
                        ("repairing", "crew", (look.CREW_REPAIR_RGB, look.CREW_HALO_RGB)),
                        ("on the way", "crew", (look.CREW_TRAVEL_RGB, (40, 40, 40))),
                        ("waiting", "crew", (look.CREW_IDLE_RGB, look.CREW_HALO_RGB))]
        if self.blocks is not None:
            entries += [("Homes without", None, None)]
            entries += [(story.SERVICE_WORDS[k], "box", look.NO_SERVICE_RGB[k])
                        for k in self._kinds]
        if self.flood is not None:
            entries.append(("Flood depth", None, None))
            edges = look.FLOOD_EDGES_M
            for k in range(len(edges)):
                lab = (f"{edges[k]:g}–{edges[k + 1]:g} m" if k + 1 < len(edges)
                       else f"over {edges[k]:g} m")
                entries.append((lab, "box", look.FLOOD_RGB[k]))
        if self.gust is not None:
            entries.append(("Gusts (m/s)", None, None))
            edges = look.GUST_EDGES_MPS
            for k in range(len(edges)):
                lab = (f"{edges[k]:g}–{edges[k + 1]:g}" if k + 1 < len(edges)
                       else f"≥ {edges[k]:g}") + f"  {look.GUST_WORDS[k]}"
                entries.append((lab, "box", look.GUST_RGB[k]))
        if self.eye is not None:
            entries += [("Storm", None, None), ("eye", "dot", EYE_RGB),
                        ("track so far", "line", look.TRACK_PAST_RGB),
                        ("track to come", "line", look.TRACK_FUTURE_RGB)]
        inset_top = 0.24 if self.eye is not None else 0.0
        overlay.legend(ren, entries, top=y, bottom=inset_top + 0.01, line=lh, font=fs,
                       aspect=pw / h, height_px=h)
        if self.eye is not None:
            self._add_inset(inset_top)

    def _add_sparkline(self, ren, y: float, lh: float, fs: int) -> float:
        """People with every service over time: the outcome shown (green) and the
        median of the outcomes (grey), with a marker at the frame's time."""
        h = 4.5 * lh
        x0, x1, y0, y1 = 0.06, 0.94, y - h, y
        self._spark = (x0, x1, y0, y1)
        overlay.rect(ren, x0, y0, x1, y1, (0.75, 0.75, 0.75), outline=True)
        horizon = max(self.run.horizon_h, 1e-9)
        for r, rgb, width in ((None, (150, 150, 150), 1.5), (self.realization, (44, 160, 44),
                                                              2.0)):
            t, q = self.run.service(r, "system")
            # a step curve: each value holds until the next time
            ts = np.repeat(t, 2)[1:]
            qs = np.repeat(q, 2)[:-1]
            overlay.polyline(ren, x0 + (x1 - x0) * ts / horizon, y0 + (y1 - y0) * qs, rgb, width)
        self._spark_marker = overlay.polyline(ren, [x0, x0], [y0, y1], (20, 20, 20), 1.5)
        overlay.text(ren, "with every service over time: this outcome (green), median (grey)", x0,
                   y0 - 0.2 * lh, max(7, fs - 3), valign="top", color=(0.35, 0.35, 0.35))
        return y0 - 1.6 * lh

    def _add_inset(self, top: float) -> None:
        """A wide map of the storm's track around the city, bottom of the side panel."""
        import vtk

        x0p = 1.0 - self.panel
        ren = vtk.vtkRenderer()
        ren.SetViewport(x0p + 0.01, 0.01, 0.99, top)
        ren.SetBackground(0.86, 0.91, 0.96)
        self.p.ren_win.AddRenderer(ren)
        xy = self._track_xy
        c = self.run.origin
        x0, x1, y0, y1 = self.run.bounds
        span = max(x1 - x0, y1 - y0)
        near = np.max(np.abs(xy - c), axis=1) < 12 * span
        sel = xy[near] if near.sum() >= 2 else xy
        ext = max(np.abs(sel - c).max(), 2 * span) * 1.1

        def actor(points, rgb, width=2.0, pts=False):
            poly = self.pv.PolyData(np.column_stack([points - c, np.zeros(len(points))]))
            if not pts:
                poly = self.pv.lines_from_points(poly.points)
            m = vtk.vtkPolyDataMapper()
            m.SetInputData(poly)
            a = vtk.vtkActor()
            a.SetMapper(m)
            a.GetProperty().SetColor(*(np.asarray(rgb, float) / 255))
            a.GetProperty().SetLineWidth(width)
            a.GetProperty().SetPointSize(9)
            a.GetProperty().SetRenderPointsAsSpheres(True)
            ren.AddActor(a)
            return poly

        box = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]])
        actor(box, (200, 30, 30), 2.5)
        self._inset = {"past": actor(xy[:2], look.TRACK_PAST_RGB, 3.0),
                       "future": actor(xy[:2], look.TRACK_FUTURE_RGB, 1.5),
                       "eye": actor(xy[:1], EYE_RGB, pts=True), "c": c}
        cam = ren.GetActiveCamera()
        cam.ParallelProjectionOn()
        cam.SetPosition(0, 0, 10 * ext)
        cam.SetFocalPoint(0, 0, 0)
        cam.SetViewUp(0, 1, 0)
        cam.SetParallelScale(ext)
        ren.ResetCameraClippingRange()
        self._inset_ren = ren
        fs = max(8, int(self.opt.size[1] / 62))
        overlay.text(ren, f"storm track, {2 * ext / 1000:,.0f} km across (city in red)", 0.03,
                   0.97, fs, valign="top")

    def _add_scale_and_north(self) -> None:
        """A scale bar and a north arrow on the ground in the map's south-west corner."""
        pv = self.pv
        x0, x1, y0, y1 = self.run.bounds
        span = x1 - x0
        nice = np.array([100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000], float)
        length = float(nice[np.searchsorted(nice, span / 5) - 1]) if span / 5 > 100 else 100.0
        bx, by = x1 - 0.16 * span - length, y0 + 0.12 * (y1 - y0)
        z = self.z_top + 3 * self._z_lift
        lx, ly = self._local(np.array([bx, bx + length]), np.array([by, by]))
        bar = pv.lines_from_points(np.column_stack([lx, ly, [z, z]]))
        self.p.add_mesh(bar, color="black", line_width=5, lighting=False)
        words = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
        self.p.add_point_labels(np.array([[lx.mean(), ly[0], z]]), [words], font_size=12,
                                text_color="black", shape_color="white", shape_opacity=0.8,
                                show_points=False, always_visible=True, margin=2)
        ax, ay = self._local(np.array([bx + 0.5 * length]), np.array([by + 0.06 * span]))
        # a flat arrowhead on the ground, pointing north (reads the same from any camera)
        L, W = 0.06 * span, 0.022 * span
        head = np.array([[ax[0] - W, ay[0], z], [ax[0], ay[0] + L, z], [ax[0] + W, ay[0], z],
                         [ax[0], ay[0] + 0.3 * L, z]])
        self.p.add_mesh(pv.PolyData(head, faces=[3, 0, 1, 3, 3, 3, 1, 2]), color="black",
                        lighting=False)
        self.p.add_point_labels(np.array([[ax[0], ay[0] + 0.085 * span, z]]), ["N"],
                                font_size=14, bold=True, text_color="black",
                                shape_color="white", shape_opacity=0.8, show_points=False,
                                always_visible=True, margin=2)

    def _set_rect(self, name, x0, y0, x1, y1) -> None:
        pts, poly, _ = self._gauge[name]
        for k, (x, y) in enumerate(((x0, y0), (x1, y0), (x1, y1), (x0, y1))):
            pts.SetPoint(k, x, y, 0)
        pts.Modified()
        poly.Modified()

    def set_panel_note(self, text: str) -> None:
        """A line under the map's caption (``twin compare --mp4``: the difference)."""
        self.note.SetInput(text)

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
        self.t = t = float(t)
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
        if self.switches is not None:
            is_open = st.switches_open_at(self._crew_ev, self.run.ids, self._switch_edge,
                                          self.run.replay["switch_normally_open"], [t])[0]
            self.switches.point_data["rgb"][:] = SWITCH_RGB[is_open.astype(np.int64)]
            self.switches.Modified()
        served = self._services_at(t)
        without = None
        if served is not None:
            pop = np.asarray(self.run.replay["block_population"], float)
            without = (1.0 - served).T @ pop
            self.people_out = float((1.0 - served.prod(axis=1)) @ pop)
            if self.blocks is not None:
                self.blocks.cell_data["rgba"][:] = look.block_rgba(served)
                self.blocks.Modified()
        if self.water is not None:
            depth = self.flood.at(t)
            depth = np.zeros(self.flood.values.shape[1:]) if depth is None else \
                np.where(self._sea_cells, 0.0, np.nan_to_num(depth, nan=0.0))
            self.water.cell_data["rgba"][:] = _fortran(look.flood_rgba(depth))
            zc = (self._water_ground + _corner_max(depth)) * self.opt.exaggeration + 0.5
            self.water.points[:, 2] = zc.ravel(order="F")
            self._show_cells(self.water_shown, self.water)
        if self.wind is not None:
            g = self.gust.at(t)
            g = np.zeros(self.gust.values.shape[1:]) if g is None else g
            self.wind.cell_data["rgba"][:] = _fortran(look.gust_rgba(g))
            self._show_cells(self.wind_shown, self.wind)
        if self.eye is not None:
            past, future, eye = self._track_split(t)
            self._set_polyline(self.track_past, past, self._wind_z)
            self._set_polyline(self.track_future, future, self._wind_z)
            if eye is not None:
                lx, ly = self._local(eye[0], eye[1])
                self.eye.points[:] = [[lx, ly, self._wind_z + 5]]
            else:
                self.eye.points[:] = [[np.nan, np.nan, np.nan]]
            self.eye.Modified()
            if getattr(self, "_inset", None):
                c = self._inset["c"]
                for key, part in (("past", past), ("future", future)):
                    pp = part if len(part) >= 2 else np.vstack([part, part])
                    self._inset[key].copy_from(self.pv.lines_from_points(
                        np.column_stack([pp - c, np.full(len(pp), 1.0)])))
                e = eye if eye is not None else np.array([np.nan, np.nan])
                self._inset["eye"].points[:] = [[e[0] - c[0], e[1] - c[1], 2.0]]
                self._inset["eye"].Modified()
        if self.crews is not None:
            xy, act = self._crews_at(t)
            z = np.where(np.isfinite(xy[:, 0]), self._z(np.nan_to_num(xy[:, 0]),
                                                         np.nan_to_num(xy[:, 1])), np.nan)
            lx, ly = self._local(xy[:, 0], xy[:, 1])
            # crews not yet on the map are parked below the ground, out of sight
            park = ~np.isfinite(lx)
            pts = np.column_stack([np.where(park, 0, lx), np.where(park, 0, ly),
                                   np.where(park, -1e5, z + 3 * self._z_lift)])
            travel = act == st.CREW_TRAVELLING
            # the core sits in front of the halo on the crew's line of sight (sphere
            # sprites bulge towards the camera by their radius, a few pixels' worth of
            # metres at the camera's distance: 4 % of it is well clear), so both stay
            # centred on the crew from any camera and nothing on the ground hides either
            cam = self.p.camera
            if cam.parallel_projection:
                ray = np.broadcast_to(np.asarray(cam.focal_point) - np.asarray(cam.position),
                                      pts.shape)
            else:
                ray = pts - np.asarray(cam.position)
            self.crews.points[:] = pts - ray * 0.04
            idle = act == st.CREW_IDLE
            self.crews.point_data["rgb"][:] = np.where(
                travel[:, None], look.CREW_TRAVEL_RGB,
                np.where(idle[:, None], look.CREW_IDLE_RGB, look.CREW_REPAIR_RGB))
            self.crews.Modified()
            self.crew_halo.points[:] = pts
            self.crew_halo.point_data["rgb"][:] = np.where(travel[:, None], (40, 40, 40),
                                                           look.CREW_HALO_RGB)
            self.crew_halo.Modified()
        # words
        rp = self.run.replay
        tz, t0 = rp.get("timezone"), rp.get("t0_utc")
        if without is not None:
            self.top_line.SetInput(story.people_line(without, self._kinds))
        else:
            n_bad = int(np.count_nonzero((s != st.WORKING) & (s != st.RESTORED)))
            self.top_line.SetInput(f"components out of service: {n_bad:,}")
        clock = story.clock_text(t, t0, tz)
        if t0 is not None:
            clock += f"   ·   {t:.1f} h after the start"
        held = story.held_water_note(self.flood, t)
        if held:
            clock += f"   ·   {held}"
        self.clock.SetInput(clock)
        cap = story.caption_at(self._moments, t)
        if cap is not None:
            c, more = cap
            text = f"{story.short_time(c.time_h, t0, tz)}  {c.text}"
            if more:
                text += f" (and {more} more)"
            if without is not None:
                text += f" · {story.people(without[0])} people without power"
            self.caption.SetInput(text)
            self.caption.SetVisibility(True)
        else:
            self.caption.SetInput("")
            self.caption.SetVisibility(False)
        q = self.run.service_at(t, self.realization)
        x0, y0, x1, y1 = self._gauge_box
        self._set_rect("fill", x0, y0, x0 + (x1 - x0) * max(q, 0.0), y1)
        col = (0.17, 0.63, 0.17) if q >= 0.9 else (0.95, 0.6, 0.1) if q >= 0.5 else (0.85, 0.1,
                                                                                       0.1)
        self._gauge["fill"][2].GetProperty().SetColor(*col)
        self.gauge_text.SetInput(f"people with {story.services_phrase(self._kinds)}: "
                                 f"{q * 100:.0f} %")
        if getattr(self, "_spark_marker", None) is not None:
            x0, x1, y0, y1 = self._spark
            x = x0 + (x1 - x0) * min(max(t / max(self.run.horizon_h, 1e-9), 0.0), 1.0)
            pts, poly = self._spark_marker
            pts.SetPoint(0, x, y0, 0)
            pts.SetPoint(1, x, y1, 0)
            pts.Modified()
            poly.Modified()

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


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=width)[:3] or [""]


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
