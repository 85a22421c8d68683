"""Importers of real networks: EPANET water (WNTR), pandapower grids, and city assembly.

>>> from networks.importers import from_epanet, from_pandapower, city_from_parts
>>> water = from_epanet("data/networks/Net3.inp", crs="EPSG:32632", scale="auto")
>>> power = from_pandapower("data/networks/mv_oberrhein.json")
>>> city = city_from_parts(power=power, water=water)       # roads: a documented grid proxy

The conversion rules are in the docstrings of :mod:`networks.importers.epanet`,
:mod:`networks.importers.power` and :mod:`networks.importers.city`; every result
records its rules and parameters in ``meta``. wntr and pandapower are imported
only when used.
"""

from networks.importers._common import ImportedPart
from networks.importers.city import city_from_parts, road_grid_proxy
from networks.importers.epanet import from_epanet
from networks.importers.power import from_pandapower

__all__ = ["ImportedPart", "city_from_parts", "from_epanet", "from_pandapower",
           "road_grid_proxy"]
