"""Path resolution (resolve.py) and gitignore-style matching of paths and shell globs against
policy patterns (patterns.py, over table.py and glob_overlap.py). It never decides anything."""

from engine.paths.patterns import GlobOnDisk, PathPatterns, glob_on_disk
from engine.paths.resolve import resolve_path

__all__ = ["GlobOnDisk", "PathPatterns", "glob_on_disk", "resolve_path"]
