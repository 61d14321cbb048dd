import shlex

import pytest

from engine.analysis.code import CodeEffects, analyze_code, code_argument, interpreter_language
from engine.evaluate import Engine
from engine.events import ToolEvent
from engine.policy import load_policy
from tests.conftest import SEED_POLICY


def commands(language: str, code: str) -> tuple[str, ...]:
    effects = analyze_code(language, code)
    assert effects.opaque == (), effects.opaque
    return effects.shell_commands


def opaque(language: str, code: str) -> tuple[str, ...]:
    effects = analyze_code(language, code)
    assert effects.opaque, f"expected an opaque reason, got {effects}"
    return effects.opaque


# ---------------------------------------------------------------- interpreter_language


@pytest.mark.parametrize(
    ("name", "language"),
    [
        ("python", "python"),
        ("python3", "python"),
        ("python3.12", "python"),
        ("pypy3", "python"),
        ("/usr/bin/python3", "python"),
        ("node", "node"),
        ("nodejs", "node"),
        ("deno", "node"),
        ("perl", "perl"),
        ("perl5.36", "perl"),
        ("ruby", "ruby"),
        ("ruby3.2", "ruby"),
        ("php", "php"),
        ("php8.2", "php"),
        ("bash", None),
        ("python3-config", None),
        ("perldoc", None),
        ("", None),
    ],
)
def test_interpreter_language(name: str, language: str | None) -> None:
    assert interpreter_language(name) == language


# ---------------------------------------------------------------- code_argument


@pytest.mark.parametrize(
    ("language", "argv", "code"),
    [
        ("python", ["python3", "-u", "-c", "print(1)"], "print(1)"),
        ("python", ["python3", "-B", "-I", "-E", "-O", "-c", "x"], "x"),
        ("python", ["python3", "-Sc", "x"], "x"),
        ("python", ["python3", "-cprint(2)"], "print(2)"),
        ("python", ["python3", "-W", "ignore", "-c", "x"], "x"),
        ("python", ["python", "-m", "pytest"], None),
        ("python", ["python", "script.py", "-c", "x"], None),
        ("python", ["python"], None),
        ("node", ["node", "-e", "1"], "1"),
        ("node", ["node", "--eval", "2"], "2"),
        ("node", ["node", "-p", "1+1"], "1+1"),
        ("node", ["node", "--print=3"], "3"),
        ("node", ["node", "-r", "ts-node/register", "-e", "4"], "4"),
        ("node", ["node", "app.js", "-e", "x"], None),
        ("node", ["deno", "eval", "console.log(1)"], "console.log(1)"),
        ("node", ["deno", "run", "x.ts"], None),
        ("perl", ["perl", "-e", "print 1"], "print 1"),
        ("perl", ["perl", "-E", "say 1"], "say 1"),
        ("perl", ["perl", "-lne", "print if /x/", "file"], "print if /x/"),
        ("perl", ["perl", "-pi", "-e", "s/a/b/", "f"], "s/a/b/"),
        ("perl", ["perl", "-e", "a", "-e", "b"], "a\nb"),
        ("perl", ["perl", "-0777", "-ne", "c"], "c"),
        ("perl", ["perl", "-eprint 1"], "print 1"),
        ("perl", ["perl", "script.pl"], None),
        ("ruby", ["ruby", "-e", "puts 1"], "puts 1"),
        ("ruby", ["ruby", "-r", "json", "-ne", "puts 1"], "puts 1"),
        ("ruby", ["ruby", "app.rb"], None),
        ("php", ["php", "-r", "echo 1;"], "echo 1;"),
        ("php", ["php", "-d", "x=1", "-r", "echo 2;"], "echo 2;"),
        ("php", ["php", "index.php"], None),
        ("php", ["php", "-f", "index.php"], None),
    ],
)
def test_code_argument(language: str, argv: list[str], code: str | None) -> None:
    assert code_argument(language, argv) == code


def test_code_argument_missing_value_and_unknown_language() -> None:
    assert code_argument("python", ["python", "-c"]) is None
    assert code_argument("node", ["node", "-e"]) is None
    assert code_argument("cobol", ["cobc", "-x"]) is None
    assert code_argument("python", []) is None


# ---------------------------------------------------------------- python


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ('import os; os.system("rm -rf /")', ("rm -rf /",)),
        ('import subprocess; subprocess.run(["rm","-rf","/"])', ("rm -rf /",)),
        ('from subprocess import check_output as co; co("cat .env", shell=True)', ("cat .env",)),
        ('import subprocess as sp; sp.Popen("ls | wc -l", shell=True)', ("ls | wc -l",)),
        ("import subprocess as sp; sp.call(['bash', '-c', 'rm -rf ~'])", ("bash -c 'rm -rf ~'",)),
        ("from os import system; system('id')", ("id",)),
        ("import os; print(os.popen('ls').read())", ("ls",)),
        ("import os; os.system('rm ' + '-rf /')", ("rm -rf /",)),
        ("import os; os.system(f'rm -rf /tmp')", ("rm -rf /tmp",)),
        ("import os; os.system(' '.join(['rm', '-rf', '/']))", ("rm -rf /",)),
        ("__import__('os').system('ls')", ("ls",)),
        ("import os; getattr(os, 'sys' + 'tem')('id')", ("id",)),
        ("import os; os.execvp('rm', ['rm', '-rf', '/tmp/x'])", ("rm -rf /tmp/x",)),
        ("import os; os.execl('/bin/sh', 'sh', '-c', 'id')", ("/bin/sh -c id",)),
        ("import os\nf = os.system\nf('whoami')", ("whoami",)),
        ("exec(\"import os; os.system('id')\")", ("id",)),
        ('import shutil; shutil.rmtree("/")', ("rm -rf /",)),
        ("import shutil; shutil.rmtree('/tmp/a b')", ("rm -rf '/tmp/a b'",)),
        ("import os; os.remove('x'); os.unlink('y'); os.rmdir('d')", ("rm x", "rm y", "rmdir d")),
        ("from pathlib import Path; Path('x').unlink()", ("rm x",)),
        ("from pathlib import Path; Path('d').rmdir()", ("rmdir d",)),
        ("from pathlib import Path; p = Path('a') / 'b'; p.write_text('x')", ("tee a/b",)),
        ("import pathlib; print(pathlib.Path('.env').read_text())", ("cat .env",)),
        ('open(".env").read()', ("cat .env",)),
        ("with open('/etc/passwd', 'rb') as f: print(f.read())", ("cat /etc/passwd",)),
        ("open('out.txt', 'w').write('x')", ("tee out.txt",)),
        ("open('log', 'a').write('x')", ("tee log",)),
        ("open('f', 'r+')", ("cat f", "tee f")),
        ("import os; os.chmod('x', 0o777)", ("chmod 777 x",)),
        ("import shutil; shutil.copy('a', 'b'); shutil.move('c', 'd')", ("cp a b", "mv c d")),
        ("import os; os.rename('a', 'b'); os.replace('c', 'd')", ("mv a b", "mv c d")),
        (
            "from pathlib import Path; (Path.home() / '.ssh' / 'id_rsa').read_text()",
            ("cat ~/.ssh/id_rsa",),
        ),  # fmt: skip
        ("import os; open(os.path.expanduser('~/.bashrc'), 'a')", ("tee ~/.bashrc",)),
        (
            "import subprocess, sys; subprocess.run([sys.executable, '-c', 'print(1)'])",
            ("python3 -c 'print(1)'",),
        ),  # fmt: skip
    ],
)
def test_python_effects(code: str, expected: tuple[str, ...]) -> None:
    assert commands("python", code) == expected


@pytest.mark.parametrize(
    "code",
    [
        'print("rm -rf /")',
        "x = 'rm -rf /'.upper(); print(x * 2, 3 ** 4)",
        "import json; print(json.dumps({'cmd': 'rm -rf /'}))",
        "import os; print(os.path.exists('/etc'), os.getcwd())",
        "",
    ],
)
def test_python_data_only(code: str) -> None:
    assert analyze_code("python", code) == CodeEffects((), ())


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("import os; os.system(cmd)", "python -c: os.system() with a computed argument"),
        ("import os; os.system(f'rm {x}')", "os.system() with a computed argument"),
        ("import os; os.system(' '.join(x))", "os.system() with a computed argument"),
        ("import subprocess; subprocess.run(args)", "subprocess.run() with a computed argument"),
        ('import base64; exec(base64.b64decode("aW1wb3J0IG9z"))', "decodes data and runs it"),
        (
            "import base64, os; os.system(base64.b64decode('bHM=').decode())",
            "decodes data and runs it",
        ),  # fmt: skip
        ("eval(input())", "eval() with a computed code argument"),
        ("import importlib; importlib.import_module(name)", "imports a module named at run time"),
        ("import os, sys; os.remove(sys.argv[1])", "os.remove() on a computed path"),
        (
            "from pathlib import Path\nfor p in Path('.').glob('*'): p.unlink()",
            "Path.unlink() on a computed path",
        ),  # fmt: skip
        ("import os; list(map(os.system, cmds))", "os.system is passed around as a value"),
        ("import os; getattr(os, name)('id')", "getattr() on os with a computed name"),
        ("import ctypes; ctypes.CDLL(None).system(b'id')", "ctypes"),
        ("def (", "python -c code does not parse"),
    ],
)
def test_python_opaque(code: str, reason: str) -> None:
    assert any(reason in r for r in opaque("python", code))


def test_python_reassigned_variable_is_not_trusted() -> None:
    effects = analyze_code("python", "x = 'ls'\nx = 'rm -rf /'\nimport os; os.system(x)")
    assert effects.shell_commands == ()
    assert effects.opaque


def test_python_nul_bytes_do_not_parse() -> None:
    assert "does not parse" in opaque("python", "print(1)\x00")[0]


# ---------------------------------------------------------------- node


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("require('child_process').execSync('rm -rf /')", ("rm -rf /",)),
        ("const cp = require('child_process'); cp.exec(\"ls -la\")", ("ls -la",)),
        ("const {execSync} = require('node:child_process'); execSync(`whoami`)", ("whoami",)),
        ("const cp = require('child_process'); cp.spawn('rm', ['-rf', '/'])", ("rm -rf /",)),
        ("require('child_process').spawnSync('ls', ['a b'])", ("ls 'a b'",)),
        ("require('child_process').execFile('git', ['status'], cb)", ("git status",)),
        ("require('child_process').spawn('ls | wc', {shell: true})", ("ls | wc",)),
        ("import('child_process').then(cp => cp.exec('id'))", ("id",)),
        ("require('child_' + 'process').execSync('id')", ("id",)),
        ("require('child_process')['execSync']('whoami')", ("whoami",)),
        ("require('fs').rmSync('/tmp/x', {recursive: true, force: true})", ("rm -rf /tmp/x",)),
        ("const fs = require('fs'); fs.unlinkSync('a.txt')", ("rm a.txt",)),
        (
            "fs.writeFileSync('/etc/hosts', 'x'); fs.readFileSync('.env', 'utf8')",
            ("tee /etc/hosts", "cat .env"),
        ),  # fmt: skip
        ("eval(\"require('child_process').execSync('id')\")", ("id",)),
        ("new Deno.Command('rm', {args: ['-rf', '/tmp/x']}).outputSync()", ("rm -rf /tmp/x",)),
    ],
)
def test_node_effects(code: str, expected: tuple[str, ...]) -> None:
    assert commands("node", code) == expected


@pytest.mark.parametrize(
    "code",
    [
        'console.log("DROP TABLE users; rm -rf /")',
        "const re = /exec('x')/; console.log(re.test('a'))",
        "execSync('ls')",  # no child_process, so this is not the child_process function
        "[1, 2, 3].map(x => x * 2)",
    ],
)
def test_node_data_only(code: str) -> None:
    assert analyze_code("node", code) == CodeEffects((), ())


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (
            "const {execSync} = require('child_process'); execSync(`rm ${dir}`)",
            "execSync() with a computed argument",
        ),  # fmt: skip
        ("require(name).execSync('id')", "loads a module named at run time"),
        ("eval(atob('cmVxdWlyZQ=='))", "decodes data and runs it"),
        ("require('fs').unlinkSync(process.argv[1])", "unlinkSync() with a computed path"),
        ("process.binding('spawn_sync')", "node internals"),
    ],
)
def test_node_opaque(code: str, reason: str) -> None:
    assert any(reason in r for r in opaque("node", code))


# ---------------------------------------------------------------- perl


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ('system("rm -rf /")', ("rm -rf /",)),
        ("system('rm', '-rf', '/tmp/a b')", ("rm -rf '/tmp/a b'",)),
        ('system "ls", "-l"', ("ls -l",)),
        ("system qw(rm -rf /tmp/z)", ("rm -rf /tmp/z",)),
        ("print `id`", ("id",)),
        ("my $u = qx{whoami}; print $u", ("whoami",)),
        ("exec('/bin/sh', '-c', 'id') or die", ("/bin/sh -c id",)),
        ("unlink 'a.txt'", ("rm a.txt",)),
        ("unlink('a', 'b') or die", ("rm a b",)),
        ("use File::Path qw(rmtree); rmtree('/tmp/q')", ("rm -rf /tmp/q",)),
        ("open(my $fh, '>', 'out.txt') or die", ("tee out.txt",)),
        ('open(F, ">out.txt")', ("tee out.txt",)),
        ("open(F, '<', '/etc/shadow')", ("cat /etc/shadow",)),
        ("open(F, 'notes.txt')", ("cat notes.txt",)),
        ("open(F, 'cat /etc/passwd |')", ("cat /etc/passwd",)),
        ("eval { die }; eval 'system(q{id})'", ("id",)),
    ],
)
def test_perl_effects(code: str, expected: tuple[str, ...]) -> None:
    assert commands("perl", code) == expected


@pytest.mark.parametrize(
    "code",
    [
        'print "rm -rf /\\n"',
        "print if /system\\(/",
        "$x =~ s/a/b/g; print $x / 2",
        "my %h = (unlink => 1); print $h{unlink}",
    ],
)
def test_perl_data_only(code: str) -> None:
    assert analyze_code("perl", code) == CodeEffects((), ())


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ('system("rm $dir")', "system() with a computed argument"),
        ("system $cmd", "system() with a computed argument"),
        ("print `ls $dir`", "backtick command with interpolated values"),
        ("unlink", "unlink of $_"),
        ("s/x/system('ls')/e", "s///e"),
    ],
)
def test_perl_opaque(code: str, reason: str) -> None:
    assert any(reason in r for r in opaque("perl", code))


# ---------------------------------------------------------------- ruby


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ('system("rm -rf /")', ("rm -rf /",)),
        ("system 'ls', '-l'\nputs 1", ("ls -l",)),
        ("puts `whoami`", ("whoami",)),
        ("puts %x(id)", ("id",)),
        ("exec('ls', exception: true)", ("ls",)),
        ("IO.popen(['ls', '-l']).read", ("ls -l",)),
        ("require 'open3'; o, s = Open3.capture2('git status')", ("git status",)),
        ("Kernel.send(:system, 'id')", ("id",)),
        ("open('|id').read", ("id",)),
        ("require 'fileutils'; FileUtils.rm_rf('/tmp/x')", ("rm -rf /tmp/x",)),
        ("include FileUtils; rm_rf 'build'", ("rm -rf build",)),
        ("File.delete('a.txt')", ("rm a.txt",)),
        ("File.write('out', 'x')", ("tee out",)),
        ("puts File.read('/etc/passwd')", ("cat /etc/passwd",)),
        ("File.open('x', 'w') { |f| f.puts 'hi' }", ("tee x",)),
    ],
)
def test_ruby_effects(code: str, expected: tuple[str, ...]) -> None:
    assert commands("ruby", code) == expected


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ('system("rm #{path}")', "system() with a computed argument"),
        ("send(m, 'id')", "calls a method named at run time"),
        ("eval(Base64.decode64('cHV0cyAx'))", "decodes data and runs it"),
    ],
)
def test_ruby_opaque(code: str, reason: str) -> None:
    assert any(reason in r for r in opaque("ruby", code))


def test_ruby_data_only() -> None:
    assert analyze_code("ruby", "puts 'system(\"rm -rf /\")'; x = 10 % 3") == CodeEffects((), ())


# ---------------------------------------------------------------- php


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("echo shell_exec('ls -la');", ("ls -la",)),
        ("system('id'); passthru('uname -a'); exec('whoami');", ("id", "uname -a", "whoami")),
        ("SYSTEM('id');", ("id",)),
        ("echo `id`;", ("id",)),
        ("proc_open(['ls', '-l'], [], $pipes);", ("ls -l",)),
        ("call_user_func('system', 'id');", ("id",)),
        ("unlink('a.txt');", ("rm a.txt",)),
        ("file_put_contents('b.txt', 'x');", ("tee b.txt",)),
        ("echo file_get_contents('/etc/passwd');", ("cat /etc/passwd",)),
        ("chmod('/tmp/x', 0777); copy('a', 'b');", ("chmod 777 /tmp/x", "cp a b")),
    ],
)
def test_php_effects(code: str, expected: tuple[str, ...]) -> None:
    assert commands("php", code) == expected


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("system($x);", "system() with a computed argument"),
        ('echo shell_exec("ls $dir");', "shell_exec() with a computed argument"),
        ("$f = 'system'; $f('id');", "calls a function named by the variable $f"),
        ("array_map('system', $argv);", "calls system on values known only at run time"),
        ("eval(base64_decode('ZWNobyAxOw=='));", "decodes data and runs it"),
    ],
)
def test_php_opaque(code: str, reason: str) -> None:
    assert any(reason in r for r in opaque("php", code))


def test_php_data_only() -> None:
    code = "echo \"hello $name\"; $db->exec('DROP TABLE x'); echo 'system(1)';"
    assert analyze_code("php", code) == CodeEffects((), ())


# ---------------------------------------------------------------- robustness


def test_unknown_language_is_opaque() -> None:
    assert analyze_code("cobol", "DISPLAY 'HI'").opaque


def test_unterminated_string_is_opaque() -> None:
    for language in ("node", "perl", "ruby", "php"):
        assert any("unterminated" in r for r in analyze_code(language, "system('ls").opaque)


def test_nested_eval_is_followed_then_stops_as_opaque() -> None:
    code = 'import os; os.system("rm -rf /")'
    for _ in range(2):
        code = f"exec({code!r})"
    assert analyze_code("python", code) == CodeEffects(("rm -rf /",), ())
    for _ in range(10):
        code = f"exec({code!r})"
    effects = analyze_code("python", code)
    assert effects.shell_commands == ()
    assert effects.opaque == ("python -c: exec() code is nested too deeply to follow",)


# Input no interpreter accepts: the analyzer must say it cannot read it, so it is never allowed.
MALFORMED = [
    "(" * 50_000,
    "'" * 100_001,
    "\x00" * 1_000 + "system('ls')",
    "system(" * 20_000,
    "os.system(" * 20_000,
    "eval(" * 20_000,
    "[{" * 20_000,
    "`" * 1_001,
    "q(" * 20_000,
    "%x(" * 20_000,
    "s{" * 20_000,
]
# Odd but valid code in these languages (a long name, a long concatenation): it runs nothing.
ODD_BUT_VALID = ["x" * 100_000, '"a"+' * 30_000 + '"a"']
INLINE = {
    "python": "python3 -c",
    "node": "node -e",
    "perl": "perl -e",
    "ruby": "ruby -e",
    "php": "php -r",
}
_engine = Engine(load_policy(SEED_POLICY))


def _decide(command: str) -> str:
    event = ToolEvent(tool_name="Bash", tool_input={"command": command}, cwd="/srv/app")
    return _engine.evaluate(event).would_be.value


@pytest.mark.parametrize("language", list(INLINE))
def test_malformed_code_is_never_allowed(language: str) -> None:
    for code in MALFORMED:
        assert _decide(f"{INLINE[language]} {shlex.quote(code)}") != "allow", (language, code[:20])


@pytest.mark.parametrize(
    ("language", "kind", "code"),
    [
        (language, kind, code)
        for language in INLINE
        for kind, code in (("heredoc", "<<<EOF\n" * 5_000), ("surrogate", "\ud800 \U0001f600 é"))
    ],
)
def test_syntax_errors_without_brackets_are_never_allowed(
    language: str, kind: str, code: str
) -> None:
    assert _decide(f"{INLINE[language]} {shlex.quote(code)}") != "allow"


@pytest.mark.parametrize("language", list(INLINE))
def test_odd_but_valid_code_runs_nothing(language: str) -> None:
    for code in ODD_BUT_VALID:
        assert analyze_code(language, code).shell_commands == ()


def test_no_inline_code_in_odd_argument_lists() -> None:
    for language in ("python", "node", "perl", "ruby", "php", "other"):
        for argv in (["x"], ["x", "-"], ["x", "--"], ["x", "-\x00"], ["x", "-" * 1000, "-c"]):
            assert code_argument(language, argv) is None, (language, argv)
    # Code the analyzer cannot see at all (it comes from a variable) needs a human.
    assert _decide('python3 -c "$CODE"') == "approve"
