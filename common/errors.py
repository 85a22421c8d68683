"""User-input errors.

Every problem a user can fix (a wrong scenario, a broken network file, a DEM with
holes, a track outside the domain) raises a subclass of :class:`InputError` whose
message is one line naming *what* is wrong and *where* (file, field, asset id).
The CLI prints that line on stderr and exits with code 2, never a traceback.

A message may be a :class:`~common.i18n.Message` (a catalogue key with its
arguments) instead of a string: ``str(err)`` is then its English text, and
:meth:`InputError.render` gives it in another language (the drill console's
``--lang zh``). Wrap an error in another with :attr:`InputError.text`, which
keeps the translation, never with ``str(err)``.
"""

from __future__ import annotations

from common.i18n import Message


class InputError(ValueError):
    """A problem with user input; ``str(err)`` is a one-line message for the user (English).

    ``message`` is a string (the same in every language) or a
    :class:`~common.i18n.Message`; ``where`` (a file, a field, an asset id) is
    never translated.
    """

    def __init__(self, message: str | Message, *, where: str | None = None) -> None:
        self.where = where
        self.message = message
        super().__init__(self.render("en"))

    @property
    def text(self) -> str | Message:
        """The message with its ``where``: what a wrapping error takes as its message."""
        if self.where is None:
            return self.message
        return Message("located", where=self.where, text=self.message)

    def render(self, lang: str = "en") -> str:
        """The one-line message in ``lang`` (``en``: the same as ``str(err)``)."""
        m = self.message
        text = m.render(lang) if isinstance(m, Message) else str(m)
        if self.where:
            text = f"{self.where}: {text}"
        return " ".join(text.split())  # always one line


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
