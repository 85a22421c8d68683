"""Names the CLI offers before any rendering module loads."""

CAMERAS = ("oblique", "top", "iso", "south", "north")
#: frame pacing of replays: ``event`` slows time where much happens, ``even`` does not
PACES = ("event", "even")
