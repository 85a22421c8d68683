"""The ground floor: vocabulary every package of the twin shares.

Modules here import nothing of the project (only the standard library and
numpy), so every import arrow points down: ``networks`` and ``hazards`` stand on
this floor, the engine (``twin``) on them, and the CLI, batches and views on top.

- :mod:`common.errors`: user-input errors (one line, exit code 2 at the CLI)
- :mod:`common.lazy`: lazy package exports
- :mod:`common.names`: network, series and damage-state names
- :mod:`common.intensity`: intensity measures
- :mod:`common.terrain`: the DEM record shared by networks, hazards and views
- :mod:`common.stats`: the one median (and quantile) and the one t90 of every table
- :mod:`common.replay_layout`: the keys of a run's ``replay.npz`` (written by the run,
  read by the views)
"""
