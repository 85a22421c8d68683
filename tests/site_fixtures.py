"""Sites built in code for hazard tests: one vertex is a node, more make an edge."""

from __future__ import annotations

import numpy as np

from hazards.base import Sites


def line_sites(lines: list[list[tuple[float, float]]], *, crs: str = "EPSG:32650",
               asset_class: str = "pipe") -> Sites:
    """Sites from vertex lists (an empty list: a site without vertices, at (0, 0))."""
    counts = [len(v) for v in lines]
    off = np.r_[0, np.cumsum(counts)].astype(np.int64)
    xy = np.array([p for v in lines for p in v], dtype=float).reshape(-1, 2)
    n = len(lines)
    mid = np.array([np.mean(v, axis=0) if v else (0.0, 0.0) for v in lines],
                   dtype=float).reshape(-1, 2)
    return Sites(ids=np.array([f"S{i}" for i in range(n)], dtype=object),
                 asset_class=np.array([asset_class] * n), x_m=mid[:, 0], y_m=mid[:, 1],
                 is_edge=np.array([c > 1 for c in counts]), length_m=np.zeros(n),
                 line_offsets=off, line_x=xy[:, 0], line_y=xy[:, 1], crs=crs)
