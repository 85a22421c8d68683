"""Lifeline networks (power, water, roads): schema, loaders, builders, dependencies, fragility."""
