"""User-input errors.

Every problem a user can fix (a wrong scenario, a broken network file, a DEM with
holes, a track outside the domain) raises a subclass of :class:`InputError` whose
message is one line naming *what* is wrong and *where* (file, field, asset id).
The CLI prints that line on stderr and exits with code 2, never a traceback.
"""

from __future__ import annotations


class InputError(ValueError):
    """A problem with user input; ``str(err)`` is a one-line message for the user."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        text = f"{where}: {message}" if where else message
        super().__init__(" ".join(str(text).split()))  # always one line


class ScenarioError(InputError):
    """A scenario file is malformed or refers to something that does not exist."""


class NetworkError(InputError):
    """A lifeline network violates its schema (dangling edge, duplicate id, ...)."""


class HazardError(InputError):
    """A hazard's inputs are unusable (DEM without CRS, track outside domain, ...)."""


class DataFileError(InputError):
    """A packaged or user-supplied data table (fragility, restoration, costs) is invalid."""


class InputWarning(UserWarning):
    """Input that runs but probably not as the user meant (the CLI prints one line)."""
