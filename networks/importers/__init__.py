"""Importers of real networks: EPANET water (WNTR), pandapower grids, OpenStreetMap,
Shelby County's INDP CSVs (:func:`from_shelby`), and city assembly.

>>> from networks.importers import from_epanet, from_pandapower, city_from_parts
>>> water = from_epanet("data/networks/Net3.inp", crs="EPSG:32632", scale="auto")
>>> power = from_pandapower("data/networks/mv_oberrhein.json")
>>> city = city_from_parts(power=power, water=water)       # roads: a documented grid proxy

The conversion rules are in the docstrings of :mod:`networks.importers.epanet`,
:mod:`networks.importers.power` and :mod:`networks.importers.city`; every result
records its rules and parameters in ``meta``. wntr and pandapower are imported
only when used.
"""

from __future__ import annotations

from common.lazy import lazy_getattr

_WHERE = {
    "ImportedPart": "networks.importers._common",
    "city_from_parts": "networks.importers.city",
    "road_grid_proxy": "networks.importers.city",
    "from_epanet": "networks.importers.epanet",
    "from_pandapower": "networks.importers.power",
    "from_shelby": "networks.importers.shelby",
    "probabilities_by_csv_id": "networks.importers.shelby_tables",
    "read_failure_probabilities": "networks.importers.shelby_tables",
    "read_shelby_tables": "networks.importers.shelby_tables",
}
__all__ = sorted(_WHERE)
__getattr__ = lazy_getattr(__name__, _WHERE)
