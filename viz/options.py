"""Names the CLI offers before any rendering module loads."""

CAMERAS = ("oblique", "top", "iso", "south", "north")
