"""How the views draw things: one palette and one set of classes for every view.

The 3D scene, the HTML viewer, the 2D plots and the poster take their colours,
flood-depth classes and gust bands from here, so a legend means the same in all.
"""

from __future__ import annotations

import numpy as np

from common.names import NETWORKS
from networks.kinds import KINDS

#: component states (codes of :data:`viz.states.STATES`): working points green, failed red,
#: cascade orange, outage magenta, under repair yellow, restored lime (not blue: it
#: must not read as flood water; not white: travelling crews are white)
STATE_RGB = np.array([
    (60, 170, 70),     # working (points; lines use the network colour)
    (225, 25, 30),     # failed
    (255, 140, 0),     # cascade_failed
    (200, 40, 200),    # outage
    (255, 225, 0),     # under_repair
    (160, 235, 40),    # restored
], dtype=np.uint8)
STATE_WORDS = ("working", "damaged", "lost a supply", "out (flood, trip)",
               "being repaired", "just restored")

#: line colour and edge word of each network kind (declared in networks.kinds)
NETWORK_RGB = {k.name: k.rgb for k in KINDS}
NETWORK_WORDS = {k.name: k.edge_word for k in KINDS}

#: crews: a dark core with a white halo while repairing; a white core with a dark
#: ring while travelling (the halo keeps both visible on any ground)
CREW_REPAIR_RGB = (20, 20, 20)
CREW_TRAVEL_RGB = (255, 255, 255)
CREW_HALO_RGB = (255, 255, 255)
CREW_IDLE_RGB = (150, 150, 150)  # waiting for the next job
CREW_RGB = CREW_REPAIR_RGB

SEA_RGB = (70, 120, 185)
EYE_RGB = (150, 40, 160)
TRACK_PAST_RGB = (40, 40, 40)
TRACK_FUTURE_RGB = (120, 120, 120)

#: flood depth classes (m): lower bounds and colours, light to dark blue
FLOOD_EDGES_M = (0.05, 0.3, 0.6, 1.0, 2.0)
FLOOD_RGB = np.array([(170, 205, 250), (110, 165, 240), (55, 115, 225), (25, 70, 190),
                      (10, 35, 130)], dtype=np.uint8)
FLOOD_ALPHA = 0.75
WATER_RGB = tuple(int(v) for v in FLOOD_RGB[2])
WET_M = FLOOD_EDGES_M[0]

#: gust bands (m/s, 3-s gust at 10 m) with the wind-force names of the same speeds
#: (Beaufort 8/10/12 and the China Meteorological Administration typhoon grades use
#: these thresholds for sustained winds; gusts are shown against them for reference)
GUST_EDGES_MPS = (17.2, 24.5, 32.7, 41.5, 51.0)
GUST_WORDS = ("gale", "storm", "typhoon", "severe typhoon", "super typhoon")
GUST_RGB = np.array([(215, 200, 240), (175, 145, 225), (135, 90, 200), (95, 40, 160),
                     (55, 0, 105)], dtype=np.uint8)
GUST_ALPHA = (0.2, 0.27, 0.33, 0.38, 0.42)

#: population blocks: what their people lack (drawn only where something is missing)
NO_POWER_RGB = (35, 35, 45)
NO_WATER_RGB = (150, 95, 35)
NO_ROAD_RGB = (120, 120, 120)
NO_GAS_RGB = (215, 150, 0)
NO_TELECOM_RGB = (130, 80, 175)
#: homes without each kind's service, by kind (shading order: NETWORKS, power first)
NO_SERVICE_RGB = {"power": NO_POWER_RGB, "water": NO_WATER_RGB, "roads": NO_ROAD_RGB,
                  "gas": NO_GAS_RGB, "telecom": NO_TELECOM_RGB}
SERVED_RGB = (235, 235, 225)
BLOCK_ALPHA = 0.65

#: point assets drawn as large glyphs; other nodes as small points
MAJOR = {"substation", "power_plant", "grid_supply", "treatment_plant", "pump_station", "tank",
         "depot", "bridge"}


def flood_class(depth_m: np.ndarray) -> np.ndarray:
    """Class index of each depth: -1 dry (below :data:`WET_M`), 0.. the classes."""
    d = np.nan_to_num(np.asarray(depth_m, float), nan=0.0)
    return np.searchsorted(np.asarray(FLOOD_EDGES_M), d, side="right") - 1


def flood_rgba(depth_m: np.ndarray, alpha: float = FLOOD_ALPHA) -> np.ndarray:
    """RGBA uint8 of depths by class; dry cells fully transparent."""
    k = flood_class(depth_m)
    out = np.zeros((*k.shape, 4), np.uint8)
    wet = k >= 0
    out[wet, :3] = FLOOD_RGB[k[wet]]
    out[wet, 3] = int(alpha * 255)
    return out


def gust_class(g: np.ndarray) -> np.ndarray:
    g = np.nan_to_num(np.asarray(g, float), nan=0.0)
    return np.searchsorted(np.asarray(GUST_EDGES_MPS), g, side="right") - 1


def gust_rgba(g: np.ndarray) -> np.ndarray:
    """RGBA uint8 of gusts by band; calmer than a gale fully transparent."""
    k = gust_class(g)
    out = np.zeros((*k.shape, 4), np.uint8)
    on = k >= 0
    out[on, :3] = GUST_RGB[k[on]]
    out[on, 3] = (np.asarray(GUST_ALPHA)[k[on]] * 255).astype(np.uint8)
    return out


def block_rgba(served: np.ndarray, alpha: float = BLOCK_ALPHA) -> np.ndarray:
    """RGBA per block from its (b, k) served fractions, one column per kind of
    ``NETWORKS`` (power, water, roads, gas, telecom).

    A block is shaded by the first service it lacks (below half served), in that
    order; blocks with every service are left clear (a kind that does not serve a
    block reads served).
    """
    s = np.asarray(served) < 0.5
    out = np.zeros((len(s), 4), np.uint8)
    for k in reversed(range(s.shape[1])):  # the first kind is written last: it wins
        rgb = NO_SERVICE_RGB[NETWORKS[k]]
        out[s[:, k], :3] = rgb
        out[s[:, k], 3] = int(alpha * 255)
    return out


def css(rgb) -> str:
    r, g, b = (int(v) for v in rgb[:3])
    return f"#{r:02x}{g:02x}{b:02x}"
