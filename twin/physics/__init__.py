"""Service by physics: AC power flow (pandapower) and pressure-driven hydraulics (WNTR).

The engine computes service topologically (:mod:`twin.kernels.service`); a scenario's
``service`` block can ask for physics instead. :func:`twin.physics.backend.make_backend`
builds the backend the engine calls where it computes service: it runs the topological
kernel (reach, dependencies, island capacity) and then, per energised island, refines
the served fractions with a power flow or a hydraulic solution. Backends read the
compiled :class:`~twin.compile.Twin` (its :class:`~twin.compile.PhysicsArrays`) and the
run's state; nothing is stored on the network model. pandapower and WNTR are imported
only when a backend is built.
"""
