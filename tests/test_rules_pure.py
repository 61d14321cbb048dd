"""The rules stage is pure logic over the facts: no module under engine/rules/ imports or calls
anything that reads the disk (the facts stage, engine/facts/, does that once per call)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

RULES = sorted((Path(__file__).parent.parent / "engine" / "rules").glob("*.py"))

# Standard library the rules may use: text, patterns and types, nothing that opens a file.
PURE_STDLIB = frozenset({"__future__", "collections.abc", "fnmatch", "posixpath", "re", "typing"})
# posixpath is string work, except these, which look at the disk or the environment.
DISK_LOOKS = frozenset(
    {
        "abspath",
        "exists",
        "expanduser",
        "expandvars",
        "getatime",
        "getctime",
        "getmtime",
        "getsize",
        "isdir",
        "isfile",
        "islink",
        "ismount",
        "lexists",
        "realpath",
        "samefile",
    }
)
# Engine modules whose every name is pure (parsed text, typed facts, findings, configuration).
PURE_ENGINE = ("engine.analysis", "engine.decide", "engine.facts.model", "engine.rules")
PURE_ENGINE_MODULES = frozenset({"engine.git", "engine.self_protection"})
# Modules that also do I/O: only these names (types, compiled matchers) may come from them.
PURE_NAMES = {
    "engine.fs": frozenset({"Walk"}),
    "engine.paths": frozenset({"PathPatterns"}),
    "engine.policy": frozenset({"Policy", "CompiledPattern"}),
}


def _imports(tree: ast.Module) -> list[tuple[str, str | None]]:
    """(module, name) of every import; name None for `import module`."""
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found += [(node.module, alias.name) for alias in node.names]
    return found


def _disk_looks(tree: ast.Module) -> list[str]:
    """Calls of `open` and of the disk-looking path functions, as written."""
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        if isinstance(function, ast.Name) and function.id in {"open", "__import__"}:
            calls.append(function.id)
        elif isinstance(function, ast.Attribute) and function.attr in DISK_LOOKS:
            calls.append(ast.unparse(function))
    return calls


def _allowed(module: str, name: str | None) -> bool:
    if module in PURE_STDLIB or module in PURE_ENGINE_MODULES:
        return True
    if any(module == pure or module.startswith(pure + ".") for pure in PURE_ENGINE):
        return True
    return name is not None and name in PURE_NAMES.get(module, frozenset())


@pytest.mark.parametrize("module", RULES, ids=lambda path: path.name)
def test_rules_import_nothing_that_reads_the_disk(module: Path) -> None:
    tree = ast.parse(module.read_text(), str(module))
    forbidden = [(m, n) for m, n in _imports(tree) if not _allowed(m, n)]
    assert forbidden == [], f"{module.name} imports I/O: {forbidden}"


@pytest.mark.parametrize("module", RULES, ids=lambda path: path.name)
def test_rules_call_no_file_function(module: Path) -> None:
    tree = ast.parse(module.read_text(), str(module))
    assert _disk_looks(tree) == [], f"{module.name} looks at the disk"


def test_the_check_sees_a_disk_look() -> None:
    """The two checks above would catch the I/O the guards used to do themselves."""
    tree = ast.parse(
        "import glob\nfrom engine.paths import resolve_path\n"
        "def f(p):\n    return posixpath.exists(p) or open(p)\n"
    )
    assert [(m, n) for m, n in _imports(tree) if not _allowed(m, n)] == [
        ("glob", None),
        ("engine.paths", "resolve_path"),
    ]
    assert _disk_looks(tree) == ["posixpath.exists", "open"]
