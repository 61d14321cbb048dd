"""The files a shell word really names on this machine: globs expanded, paths resolved, trees
walked within the budget. The only disk look of the facts stage; it judges nothing."""

from __future__ import annotations

import os

from engine.analysis.commands import Access, FileAccess
from engine.analysis.shell import SimpleCommand
from engine.analysis.substitutions import listing_walks
from engine.facts.guarded import PathLooker
from engine.facts.model import FileFact, SeenFile, Where
from engine.fs import FileSystem
from engine.paths import resolve_path
from engine.walks import GIT_TOP, XARGS_INPUT


class FileFinder:
    """Expands file accesses against one filesystem cache; real cwds are looked up once a call."""

    def __init__(self, filesystem: FileSystem, looker: PathLooker) -> None:
        self.filesystem = filesystem
        self.looker = looker
        self._call_cwds: dict[str, str] = {}

    def new_call(self) -> None:
        self._call_cwds.clear()
        self.looker.new_call()

    def fact(self, access: FileAccess, where: Where, globstar: bool = False) -> FileFact:
        word = access.word
        if word.dynamic:
            return FileFact(access, where)
        shown_words = [word.value]
        resolved: tuple[str, ...] = ()
        named = None
        if word.glob:
            named = self.looker.glob(word, where.cwd, access.access, access.by)
            expansion = self.filesystem.expand_glob(word.value, self._real_cwd(where), globstar)
            if expansion is None:
                # The glob starts in a directory that is not here: reason without the disk.
                return FileFact(access, where, unseen_glob=True, named=named)
            shown_words, resolved = list(expansion.matches), expansion.paths
        files = []
        for position, shown in enumerate(shown_words):
            if resolved:
                path = resolved[position]
            elif shown == GIT_TOP:
                path = self.filesystem.git_top(resolve_path("", where.cwd)) or where.root
                shown = os.path.relpath(path, resolve_path("", where.cwd))
            else:
                path = self.resolve(shown, where)
            files.append(self._seen(access, shown, path, where))
        return FileFact(access, where, tuple(files), named=named)

    def _seen(self, access: FileAccess, shown: str, path: str, where: Where) -> SeenFile:
        settings = self.looker.held(path, access.access, access.by)
        if access.walk is None or not self.filesystem.is_dir(path):
            return SeenFile(shown, path, settings=settings)
        if access.access is Access.DELETE and where.is_catastrophic(path):
            # Judged by builtin.rm_root; walking `/` would only spend the budget.
            return SeenFile(shown, path, walkable=True, settings=settings)
        walk = self.filesystem.walk(path, access.walk)
        return SeenFile(shown, path, walk, walkable=True, settings=settings)

    def git_config(self, where: Where) -> tuple[tuple[str, str], ...]:
        """The settings of the repository the call runs in, as `git push` reads them."""
        top = self.filesystem.git_top(self._real_cwd(where))
        return self.filesystem.git_config(top) if top else ()

    def _real_cwd(self, where: Where) -> str:
        real = self._call_cwds.get(where.cwd)
        if real is None:
            # realpath, not the cached listings: the directories above a project (/tmp,
            # /home) change all the time, and re-reading them costs more than a few lstat.
            real = self._call_cwds[where.cwd] = resolve_path("", where.cwd, where.home)
        return real

    def resolve(self, shown: str, where: Where) -> str:
        """resolve_path, answered from the directory listings fs.py keeps when it can: for a
        relative path, and for an absolute one inside the call's cwd (a Read of the project's
        own files), which would otherwise cost an lstat per component on every call."""
        relative = shown
        if shown.startswith("/"):
            cwd = where.cwd.rstrip("/") if where.cwd else ""
            if not cwd or not shown.startswith(cwd + "/"):
                return resolve_path(shown, where.cwd, where.home)
            relative = shown[len(cwd) + 1 :]
        elif shown.startswith("~"):
            return resolve_path(shown, where.cwd, where.home)
        found = self.filesystem.resolve(self._real_cwd(where), relative)
        return found if found is not None else resolve_path(shown, where.cwd, where.home)


def fed_by_find(
    access: FileAccess, command: SimpleCommand, upstream: SimpleCommand | None
) -> list[FileAccess]:
    """`find DIR … | xargs cat` reads what find prints: the walk of DIR with find's tests
    (also `grep -rl …`, `rg -l`, `git ls-files`: the files those listings print)."""
    word = access.word
    fed = word.dynamic and word.value == XARGS_INPUT and command.piped_input
    if not fed or upstream is None or upstream.prefix:
        return [access]
    walks = listing_walks(upstream.name, upstream.words)
    if walks is None:
        return [access]
    by = f"{upstream.name} | xargs {access.by}"
    hint = (
        "narrow find's -name test or its start path"
        if upstream.name == "find"
        else f"narrow the {upstream.name} listing"
    )
    return [FileAccess(access.access, w, by, spec, hint) for w, spec in walks]
