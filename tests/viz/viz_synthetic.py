"""Builder of a tiny synthetic run directory (see tests/viz/conftest.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

X0, Y0, CELL = 500_000.0, 4_000_000.0, 30.0
NY, NX = 30, 40
WET_ROWS, WET_COLS = (5, 15), (22, 36)


def xy_of(row: float, col: float) -> tuple[float, float]:
    return X0 + CELL * col, Y0 - CELL * row


def make_run(path, *, horizon_h: float = 12.0, realizations: int = 2):
    path.mkdir(parents=True, exist_ok=True)
    ids = np.array(["R-1", "P-LINE", "SUB", "TANK", "PUMP", "R-N1", "R-N2"])
    cls = np.array(["road_segment", "feeder_segment", "substation", "tank", "pump_station",
                    "intersection", "intersection"])
    net = np.array(["roads", "power", "power", "water", "water", "roads", "roads"])
    is_edge = np.array([True, True, False, False, False, False, False])
    road = [xy_of(15, 2), xy_of(15, 20), xy_of(15, 38)]
    line = [xy_of(2, 30), xy_of(28, 30)]
    sub, tank, pump = xy_of(24, 8), xy_of(24, 14), xy_of(8, 8)
    verts = [road, line, [sub], [tank], [pump], [road[0]], [road[-1]]]
    offsets = np.concatenate([[0], np.cumsum([len(v) for v in verts])]).astype(np.int64)
    line_xy = np.array([p for v in verts for p in v], dtype=float)
    # a gentle slope west -> east, 5 .. 25 m
    dem = np.tile(np.linspace(5, 25, NX, dtype=np.float32), (NY, 1))
    tf = np.array([CELL, 0.0, X0, 0.0, -CELL, Y0])
    times = np.array([0.0, 2.0, 6.0])
    depth = np.zeros((3, NY, NX), np.float32)
    for k in (1, 2):
        depth[k, WET_ROWS[0]:WET_ROWS[1], WET_COLS[0]:WET_COLS[1]] = 0.8
    np.savez_compressed(path / "replay.npz", ids=ids, asset_class=cls, network=net,
                        is_edge=is_edge, line_offsets=offsets, line_xy=line_xy,
                        access_node=np.array([5, 5, 5, 6, 5, 5, 6], np.int32),
                        crs=np.asarray("EPSG:32650"), terrain_elevation_m=dem,
                        terrain_transform=tf, grid__flood_depth_m__values=depth,
                        grid__flood_depth_m__times_h=times,
                        grid__flood_depth_m__transform=tf)
    ev, cur, loss, met = [], [], [], []
    grid = np.arange(0.0, horizon_h + 1e-9, 1.0)
    for r in range(realizations):
        ev += [(r, 1.0, "SUB", "power", "damaged", ""),
               (r, 1.0, "PUMP", "water", "cascade_failed", ""),
               (r, 3.0, "SUB", "power", "crew_dispatched", "power-crew-01"),
               (r, 5.0, "SUB", "power", "repair_started", "power-crew-01"),
               (r, 8.0, "SUB", "power", "restored", "power-crew-01"),
               (r, 8.0, "PUMP", "water", "restored", "")]
        q = np.where((grid >= 1) & (grid < 8), 0.4 + 0.1 * r, 1.0)
        for n in ("power", "water", "roads", "system"):
            cur.append(pd.DataFrame({"realization": np.int32(r), "time_h": grid, "network": n,
                                     "served_fraction": q}))
            met.append({"realization": r, "network": n, "min_service": q.min(),
                        "resilience_loss_h": float((1 - q).sum()),
                        "customer_hours_lost": float((1 - q).sum() * 100),
                        "time_to_50_h": 0.0, "time_to_90_h": 7.0, "time_to_99_h": 7.0,
                        "repair_cost_usd": 1e5 * (r + 1)})
        chl = np.cumsum(1 - q) * 100
        loss.append(pd.DataFrame({"realization": np.int32(r), "time_h": grid,
                                  "customer_hours_lost": chl,
                                  "repair_cost": np.where(grid >= 1, 1e5 * (r + 1), 0.0),
                                  "customer_hours_lost_power": chl,
                                  "customer_hours_lost_water": chl * 0,
                                  "customer_hours_lost_roads": chl * 0}))
    pd.DataFrame(ev, columns=["realization", "time_h", "asset_id", "network", "event",
                              "crew_id"]).to_parquet(path / "events.parquet", index=False)
    pd.concat(cur).to_parquet(path / "curves.parquet", index=False)
    pd.concat(loss).to_parquet(path / "loss.parquet", index=False)
    pd.DataFrame(met).to_parquet(path / "metrics.parquet", index=False)
    (path / "summary.json").write_text(json.dumps({"scenario": "tiny synthetic",
                                                    "horizon_h": horizon_h}))
    return path
