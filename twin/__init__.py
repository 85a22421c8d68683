"""Digital-twin resilience simulator: lifeline networks, hazards, discrete-event recovery.

``import twin`` stays light; heavy modules (numba kernels, geopandas, pyvista) load
where they are used.
"""

__version__ = "0.1.0"
