"""Errors of the views (a light module: the CLI imports it at start-up)."""

from common.errors import InputError


class RunDirError(InputError):
    """A run directory is missing or lacks a file that a view needs."""
