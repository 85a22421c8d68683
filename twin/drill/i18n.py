"""The console's and the report's strings: the one catalogue, :mod:`common.i18n`.

The catalogue lives on the ground floor because the engine's action notes and
refusals (:mod:`twin.actions`, :mod:`twin.action_handlers`) are in it too, and
the engine sits below the drill. ``CATALOGUE[key] = (English, Simplified
Chinese)``; :func:`tr` picks the language (``en`` or ``zh``) and formats the
arguments; :class:`Message` is a key with arguments, rendered later.
"""

from __future__ import annotations

from common.i18n import CATALOGUE, LANGS, Message, render, table, tr

__all__ = ["CATALOGUE", "LANGS", "Message", "render", "table", "tr"]
