"""Where SQL executes besides a database CLI's own options: driver calls in one-liners, client
escapes (`\\!`, `.shell`, `source`), files written earlier in the line. Pure; judges nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from engine.analysis.commands import SqlSource
from engine.analysis.shell import SimpleCommand, Word

# Interpreter -> the options whose value is code run inline.
_CODE_OPTIONS = {
    "python": ("-c",),
    "node": ("-e", "--eval", "-p", "--print"),
    "bun": ("-e", "--eval"),
    "deno": ("eval",),
    "ruby": ("-e",),
}
_DRIVER_HINT = re.compile(
    r"sqlite3|psycopg|postgres|pymysql|MySQLdb|mysql|sqlalchemy|django\.db|connection|cursor|\bpg\b|"
    r"['\"]pg['\"]|knex|prisma|ActiveRecord|Sequel|better-sqlite3|duckdb|\.connect\(",
    re.I,
)
# The SQL string passed to a driver's or ORM's execute/query/raw/exec call.
_CALL = re.compile(
    r"\bsql\s*`|\.\s*(?P<method>execute|executemany|executescript|exec|query|raw|run|all|"
    r"prepare|sql|\$queryRawUnsafe|\$executeRawUnsafe|\$queryRaw|\$executeRaw|select_all|"
    r"exec_query)\s*(?:\(\s*|`)",
    re.I,
)
# Methods that only ever take SQL: a non-literal argument to them is SQL built at run time
# (`run`, `all`, `exec` also name unrelated calls such as `asyncio.run(main())`).
_SQL_ONLY = frozenset(
    {"execute", "executemany", "executescript", "query", "raw", "exec_query", "select_all"}
)
_LITERAL = re.compile(
    r"""(?:[rbuf]|text\(\s*)?(?P<q>'''|\"\"\"|'|"|`)(?P<body>(?:\\.|(?!(?P=q)).)*?)(?P=q)""",
    re.S,
)

# Client escapes, line by line: (client family, pattern, what the captured part is).
_PSQL = ("psql",)
_SQLITE = ("sqlite3", "duckdb")
_MYSQL = ("mysql", "mariadb")
_ESCAPES: tuple[tuple[tuple[str, ...], re.Pattern[str], str], ...] = (
    (_PSQL, re.compile(r"^\s*\\!\s*(?P<v>.*)$"), "shell"),
    (_PSQL, re.compile(r"^\s*\\(?:o|out|g|gx)\s*\|\s*(?P<v>.*)$"), "pipe"),
    (_PSQL, re.compile(r"^\s*\\(?:i|ir|include|include_relative)\s+(?P<v>\S+)\s*$"), "file"),
    (_SQLITE, re.compile(r"^\s*\.(?:shell|system)\s+(?P<v>.*)$"), "shell"),
    (_SQLITE, re.compile(r"^\s*\.read\s+\|\s*(?P<v>.*)$"), "sql from"),
    (_SQLITE, re.compile(r"^\s*\.(?:once|output)\s+\|\s*(?P<v>.*)$"), "pipe"),
    (_SQLITE, re.compile(r"^\s*\.read\s+(?P<v>\S+)\s*$"), "file"),
    (_MYSQL, re.compile(r"^\s*(?:system|\\!)\s+(?P<v>.*?);?\s*$", re.I), "shell"),
    (_MYSQL, re.compile(r"^\s*(?:source|\\\.)\s+(?P<v>\S+?);?\s*$", re.I), "file"),
    (_MYSQL, re.compile(r"^\s*(?P<v>status|\\s|use\s+\S+|help|quit|exit);?\s*$", re.I), "client"),
)
# Names (prefixes) of the programs that can carry SQL in their arguments: a cheap first test.
_EMBEDDING_PROGRAMS = (
    "python",
    "node",
    "bun",
    "deno",
    "ruby",
    "rails",
    "django-admin",
    "prisma",
    "knex",
    "npx",
    "pnpm",
    "yarn",
)
_RUNNERS = frozenset({"npx", "bunx", "yarn"})
_PRINTF_ESCAPES = {"\\n": "\n", "\\t": "\t", "\\\\": "\\"}


@dataclass(frozen=True, slots=True)
class ClientScript:
    """SQL text split into what the server runs and what the client does itself."""

    sql: str
    commands: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    unseen: str | None = None  # SQL the client gets from a command's output


def family(client: str) -> tuple[str, ...]:
    for members in (_PSQL, _SQLITE, _MYSQL):
        if client in members:
            return members
    return ()


def split_escapes(text: str, client: str) -> ClientScript:
    """Lift the client's own escapes out of SQL text: shell commands and files it would run."""
    members = family(client)
    if not members:
        return ClientScript(text)
    rules = [(pattern, what) for owners, pattern, what in _ESCAPES if owners == members]
    kept: list[str] = []
    commands: list[str] = []
    files: list[str] = []
    unseen: str | None = None
    for line in text.splitlines():
        for pattern, what in rules:
            match = pattern.match(line)
            if match:
                value = match.group("v").strip()
                if what == "file":
                    files.append(value)
                elif what == "client":  # the client's own commands send nothing to the server
                    pass
                elif what == "sql from":
                    commands.append(value)
                    unseen = f"{client} runs the output of `{value}` as SQL"
                else:  # a pipe escape feeds query output to the command's standard input
                    commands.append(value if what == "shell" else f"cat | {value}")
                break
        else:
            kept.append(line)
    return ClientScript("\n".join(kept), tuple(commands), tuple(files), unseen)


def _unescape(body: str) -> str:
    return body.replace("\\'", "'").replace('\\"', '"').replace("\\n", "\n")


def driver_sql(code: str) -> tuple[list[str], bool]:
    """SQL strings passed to driver/ORM calls in `code`, and whether some call's SQL is unseen."""
    if not _DRIVER_HINT.search(code):
        return [], False
    found: list[str] = []
    unseen = False
    for call in _CALL.finditer(code):
        start = call.end()
        if code[call.end() - 1] == "`":  # a tagged template: sql`…`
            start -= 1
        literal = _LITERAL.match(code, start)
        if literal is None:
            method = (call.group("method") or "").lower()
            unseen = unseen or (method in _SQL_ONLY and _argument_present(code, start))
            continue
        if literal.group("q") == "`" and "${" in literal.group("body"):
            unseen = True
        found.append(_unescape(literal.group("body")))
    return found, unseen


def _argument_present(code: str, start: int) -> bool:
    """A call with an argument that is not a string literal: SQL only known at run time."""
    rest = code[start : start + 1]
    return bool(rest) and rest != ")"


def _code(command: SimpleCommand) -> tuple[str, str] | None:
    """(program, code) for an inline one-liner, a `rails runner`, or `manage.py shell -c`."""
    argv = command.argv
    name = command.name
    base = re.sub(r"\d+(\.\d+)?$", "", name)
    options = _CODE_OPTIONS.get(base)
    if options:
        for index, word in enumerate(argv[1:-1], start=1):
            if word in options:
                return name, argv[index + 1]
    if name in {"rails", "rails.rb"} and "runner" in argv[1:3]:
        code = argv[argv.index("runner") + 1 :]
        return (name, code[0]) if code else None
    if (base in {"python", "django-admin"} or name.endswith("manage.py")) and "shell" in argv:
        rest = argv[argv.index("shell") + 1 :]
        for index, word in enumerate(rest[:-1]):
            if word in {"-c", "--command"}:
                return "manage.py shell", rest[index + 1]
    return None


def _without_runner(command: SimpleCommand) -> SimpleCommand:
    """`npx prisma …`, `pnpm exec knex …` run the tool itself."""
    argv = command.argv
    skip = 0
    if command.name in _RUNNERS:
        skip = 1
    elif command.name == "pnpm" and argv[1:2] in (("exec",), ("dlx",)):
        skip = 2
    while 0 < skip < len(argv) and argv[skip].startswith("-"):
        skip += 1
    return replace(command, words=command.words[skip:]) if skip else command


def embedded_sql(command: SimpleCommand) -> list[SqlSource]:
    """SQL that a one-liner's driver calls, `prisma db execute` or `knex raw` would run."""
    if not command.name.startswith(_EMBEDDING_PROGRAMS) and not command.name.endswith("manage.py"):
        return []
    command = _without_runner(command)
    argv = command.argv
    if not argv:
        return []
    if command.name == "prisma" and argv[1:3] == ("db", "execute"):
        return _prisma(command)
    if command.name == "knex" and argv[1:2] == ("raw",) and len(argv) > 2:
        return [SqlSource("knex raw", None, text=argv[2])]
    found = _code(command)
    if found is None:
        return []
    program, code = found
    texts, unseen = driver_sql(code)
    sources = [SqlSource(program, None, text=text) for text in texts]
    if unseen:
        sources.append(
            SqlSource(program, None, unseen=f"{program} passes SQL built at run time to a driver")
        )
    return sources


def _prisma(command: SimpleCommand) -> list[SqlSource]:
    words = command.words
    for index, word in enumerate(words):
        option, _, glued = word.value.partition("=")
        if option == "--file":
            following = words[index + 1] if index + 1 < len(words) else None
            target = Word(glued) if glued else following
            if target is not None:
                return [SqlSource("prisma db execute", None, file=target)]
    if command.stdin_text is not None:
        return [SqlSource("prisma db execute", None, text=command.stdin_text)]
    return [SqlSource("prisma db execute", None, unseen="prisma db execute reads SQL from stdin")]


def written_file(command: SimpleCommand) -> tuple[str, str] | None:
    """(path, content) when `command` writes known text to a file: `cat > f <<EOF`, `echo … > f`."""
    targets = [r.target for r in command.redirects if r.op in {">", ">>", ">|"}]
    name = command.name
    if name == "tee" and len(command.argv) > 1 and command.stdin_text is not None:
        return command.argv[-1], command.stdin_text
    if len(targets) != 1 or targets[0].dynamic:
        return None
    if name == "cat" and len(command.argv) == 1 and command.stdin_text is not None:
        return targets[0].value, command.stdin_text
    words = [w for w in command.words[1:] if w.value not in {"-n", "-e", "-E"}]
    if any(w.dynamic for w in words):
        return None
    if name == "echo":
        return targets[0].value, " ".join(w.value for w in words)
    if name == "printf" and words:
        text = words[0].value
        for escape, char in _PRINTF_ESCAPES.items():
            text = text.replace(escape, char)
        return targets[0].value, text.replace("%s", " ".join(w.value for w in words[1:]))
    return None
