"""Drills for planners: a session that steps a scenario, takes injects and decisions,
branches, and saves its decision log as a scenario; scripted drills; the
after-action report; the browser console; the English/Chinese catalogue.

This package sits on the top floor (with the CLI): it uses the engine, the run
driver and the results, and nothing below imports it.

- :mod:`twin.drill.session`: :class:`~twin.drill.session.DrillSession` (branches,
  clock, decisions, ``drill.yaml``)
- :mod:`twin.drill.steps`: steps files (``--script``)
- :mod:`twin.drill.outputs`: ``DIR/drill.yaml``, ``run/``, ``baseline/``, ``report.html``
- :mod:`twin.drill.report`: the after-action report and the N-1 weak points
- :mod:`twin.drill.server`: the browser console
- :mod:`twin.drill.i18n`: every user-facing string, in English and Simplified Chinese
"""
