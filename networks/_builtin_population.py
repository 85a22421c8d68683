"""Population blocks of the built-in city (private helper of :mod:`networks.builtin`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from networks._builtin_geo import CityFrame, TerrainGrid
from networks._builtin_roads import RoadArrays

BLOCK_M = 200.0
#: people at scale 1 (the total scales with the city's area)
POPULATION_SCALE_1 = 450_000.0
#: a block holds at most this many people (~45,000 per km2)
MAX_BLOCK_POP = 1800.0
#: people per hospital (critical power load and water junction)
PEOPLE_PER_HOSPITAL = 50_000.0


@dataclass(frozen=True, eq=False)
class Blocks:
    xy: np.ndarray  # (b, 2) local coordinates
    population: np.ndarray  # (b,) float, whole numbers
    road_node: np.ndarray  # (b,) index into RoadArrays
    hospital: np.ndarray  # (b,) bool: the block holds a hospital


def build_blocks(frame: CityFrame, terrain: TerrainGrid, roads: RoadArrays,
                 rng: np.random.Generator) -> Blocks:
    nbx = int(np.ceil(frame.width_m / BLOCK_M))
    nby = int(np.ceil(frame.height_m / BLOCK_M))
    gx, gy = np.meshgrid((np.arange(nbx) + 0.5) * BLOCK_M, (np.arange(nby) + 0.5) * BLOCK_M)
    x, y = gx.ravel(), gy.ravel()
    z = terrain.z(x, y)
    dist_road, road = cKDTree(roads.xy).query(np.column_stack([x, y]))
    keep = ((z > 0.8) & (z < 120.0) & ~frame.in_channel(x, y, pad_m=40.0)
            & (frame.coast_distance(x, y) > 50.0) & (dist_road < 200.0))
    x, y, z, road = x[keep], y[keep], z[keep], road[keep]

    # density: a main centre by the river, sub-centres elsewhere, thinning on hills
    cx, cy = frame.centre
    rho = 1.0 * np.exp(-np.hypot(x - cx, y - cy) / 2600.0)
    n_sub = max(2, int(round(3 * frame.scale ** 2)))
    for k in rng.choice(len(x), size=min(n_sub, len(x)), replace=False):
        rho += rng.uniform(0.3, 0.6) * np.exp(-np.hypot(x - x[k], y - y[k])
                                              / rng.uniform(1500.0, 2500.0))
    rho += 0.06
    rho *= np.exp(-np.maximum(z - 15.0, 0.0) / 45.0)
    rho *= rng.lognormal(0.0, 0.35, len(x))
    target = POPULATION_SCALE_1 * frame.scale ** 2
    pop = rho / rho.sum() * target
    for _ in range(3):  # cap dense blocks and hand the excess to the others
        pop = np.minimum(pop, MAX_BLOCK_POP)
        pop *= target / pop.sum()
    pop = np.minimum(np.round(pop), MAX_BLOCK_POP)
    ok = pop > 0
    x, y, pop, road = x[ok], y[ok], pop[ok], road[ok]

    n_hosp = max(1, int(round(pop.sum() / PEOPLE_PER_HOSPITAL)))
    hosp = np.zeros(len(x), bool)
    hosp[rng.choice(len(x), size=min(n_hosp, len(x)), replace=False, p=pop / pop.sum())] = True
    return Blocks(xy=np.column_stack([x, y]), population=pop.astype(float),
                  road_node=road.astype(np.int64), hospital=hosp)
