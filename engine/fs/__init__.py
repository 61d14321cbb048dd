"""The engine's looks at the disk: `FileSystem` and the values it answers with. It must not
judge what it finds; the facts and the rules do that."""

from engine.fs.filesystem import FileSystem
from engine.fs.model import Expansion, Walk, WalkSpec

__all__ = ["Expansion", "FileSystem", "Walk", "WalkSpec"]
