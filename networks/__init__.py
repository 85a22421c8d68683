"""Lifeline networks (power, water, roads): schema, loaders, builders, interdependencies, fragility."""
