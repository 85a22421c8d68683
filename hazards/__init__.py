"""Hazard modules: data generators of intensity over time (see :mod:`hazards.base`)."""
