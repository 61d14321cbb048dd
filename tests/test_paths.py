import os

import pytest

from engine.evaluate import Engine
from engine.events import ToolEvent
from engine.paths import PathPatterns, resolve_path
from engine.policy import load_policy
from tests.conftest import SEED_POLICY

ROOT = "/srv/app"
SECRETS = PathPatterns([".env*", "secrets.json", "*.pem", "*.key"])
_ENGINE = Engine(load_policy(SEED_POLICY))


def real(path) -> str:
    return os.path.realpath(path)


# -- resolve_path -------------------------------------------------------------------------


def test_absolute_path_is_kept():
    assert resolve_path("/srv/app/.env", "/elsewhere") == "/srv/app/.env"


def test_relative_path_joins_cwd():
    assert resolve_path("config/.env", ROOT) == "/srv/app/config/.env"


def test_relative_path_without_cwd_joins_root():
    assert resolve_path("etc/passwd", None) == "/etc/passwd"


def test_dot_dot_collapses():
    assert resolve_path("/srv/app/src/../.env", None) == "/srv/app/.env"
    assert resolve_path("src/../../app/./.env", ROOT) == "/srv/app/.env"


def test_tilde_uses_given_home():
    assert resolve_path("~", ROOT, home="/home/dev") == "/home/dev"
    assert resolve_path("~/.ssh/id_rsa", ROOT, home="/home/dev") == "/home/dev/.ssh/id_rsa"


def test_tilde_without_home_uses_the_users_home():
    expected = real(os.path.expanduser("~/.ssh/id_rsa"))
    assert resolve_path("~/.ssh/id_rsa", ROOT) == expected


def test_symlink_to_protected_file_resolves_to_target(tmp_path):
    (tmp_path / ".env").write_text("SECRET=1")
    (tmp_path / "innocent.txt").symlink_to(".env")
    resolved = resolve_path("innocent.txt", str(tmp_path))
    assert resolved == real(tmp_path / ".env")
    assert SECRETS.match(resolved, real(tmp_path)) == ".env*"


def test_symlinked_directory_resolves_to_target(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "docs").symlink_to(".git")
    resolved = resolve_path("docs/config", str(tmp_path))
    assert resolved == real(tmp_path / ".git" / "config")
    assert PathPatterns([".git/**"]).match(resolved, real(tmp_path)) == ".git/**"


def test_empty_path_is_cwd():
    assert resolve_path("", ROOT) == ROOT


@pytest.mark.parametrize(
    ("garbage", "expected"),
    [
        ("a\x00b", "/srv/app/a\x00b"),
        ("/srv/\x00/../x", "/srv/x"),
        ("\udcff", "/srv/app/\udcff"),
        ("x" * 10000, "/srv/app/" + "x" * 10000),
        ("//..//./", "/"),
        (b"/a\x00", "/a\x00"),
    ],
)
def test_odd_paths_resolve_as_the_os_would_read_them(garbage, expected):
    assert resolve_path(garbage, ROOT) == expected


@pytest.mark.parametrize("tool", ["Read", "Write", "Edit"])
@pytest.mark.parametrize("path", ["a\x00b", "/srv/\x00/../.env", None, b"/a", 42, ""])
def test_malformed_file_paths_are_never_allowed(tool, path):
    event = ToolEvent(
        tool_name=tool,
        tool_input={"file_path": path, "content": "x", "old_string": "a", "new_string": "b"},
        cwd=ROOT,
    )
    decision = _ENGINE.evaluate(event)
    assert (decision.would_be.value, decision.rule) == ("deny", "input.malformed")


def test_nul_bytes_come_back_normalised():
    assert resolve_path("src/../a\x00b", ROOT) == "/srv/app/a\x00b"


# -- match --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "path"),
    [
        (".env*", "/srv/app/config/.env.production"),
        ("*.pem", "/srv/app/certs/server.pem"),
        ("secrets.json", "/x/y/secrets.json"),
        (".git/**", "/srv/app/.git/hooks/pre-commit"),
        (".claude/governance/**", "/srv/app/.claude/governance/policy.json"),
        ("config/**/*.key", "/srv/app/config/a/b/c.key"),
        ("config/**/*.key", "/srv/app/config/c.key"),
    ],
)
def test_spec_examples_match(pattern, path):
    assert PathPatterns([pattern]).match(path, ROOT) == pattern


def test_name_pattern_matches_by_prefix_not_by_substring():
    patterns = PathPatterns([".env*"])
    assert patterns.match("/srv/app/.envrc", ROOT) == ".env*"
    assert patterns.match("/srv/app/my.env", ROOT) is None
    assert patterns.match("/srv/app/.ENV", ROOT) is None  # case-sensitive


def test_pattern_without_slash_matches_at_every_depth():
    patterns = PathPatterns(["package-lock.json"])
    assert patterns.match("/srv/app/package-lock.json", ROOT) == "package-lock.json"
    assert patterns.match("/srv/app/sub/package-lock.json", ROOT) == "package-lock.json"
    assert patterns.match("/srv/app/package-lock.json.bak", ROOT) is None


def test_name_pattern_matches_outside_project_root():
    assert SECRETS.match("/home/dev/other/server.key", ROOT) == "*.key"


def test_name_pattern_ignores_folders_above_project_root():
    # A checkout at /home/dev/.envs/app must not make every file in it look like `.env*`.
    root = "/home/dev/.envs/app"
    assert SECRETS.match("/home/dev/.envs/app/src/main.py", root) is None
    assert SECRETS.match("/home/dev/.envs/app/.env", root) == ".env*"


def test_rooted_pattern_is_anchored_at_project_root():
    patterns = PathPatterns([".claude/governance/**", ".git/**"])
    assert patterns.match("/srv/app/docs/.claude/governance/x", ROOT) is None
    assert patterns.match("/srv/app/src/.git/config", ROOT) is None
    assert patterns.match("/srv/app/.github/workflows/ci.yml", ROOT) is None
    assert patterns.match("/other/.git/config", ROOT) is None


def test_git_directory_itself_matches_its_contents_pattern():
    patterns = PathPatterns([".git/**", ".claude/governance/**"])
    assert patterns.match("/srv/app/.git", ROOT) == ".git/**"
    assert patterns.match("/srv/app/.claude/governance", ROOT) == ".claude/governance/**"
    assert patterns.match("/srv/app/.claude", ROOT) is None


def test_directory_pattern_matches_directory_and_contents():
    patterns = PathPatterns(["secrets/"])
    assert patterns.match("/srv/app/deploy/secrets/prod.yml", ROOT) == "secrets/"
    assert patterns.match("/srv/app/secrets", ROOT) == "secrets/"
    assert patterns.match("/srv/app/secrets.txt", ROOT) is None


def test_directory_contents_star_pattern_covers_subfolders_and_the_folder():
    patterns = PathPatterns(["config/*"])
    assert patterns.match("/srv/app/config/prod/db.yml", ROOT) == "config/*"
    assert patterns.match("/srv/app/config", ROOT) == "config/*"


def test_negation_re_includes_and_later_patterns_win():
    patterns = PathPatterns(["*.pem", "!keep.pem"])
    assert patterns.match("/srv/app/certs/server.pem", ROOT) == "*.pem"
    assert patterns.match("/srv/app/certs/keep.pem", ROOT) is None
    again = PathPatterns(["*.pem", "!keep.pem", "certs/keep.pem"])
    assert again.match("/srv/app/certs/keep.pem", ROOT) == "certs/keep.pem"
    assert again.match("/srv/app/keep.pem", ROOT) is None


def test_first_pattern_in_policy_order_is_reported():
    patterns = PathPatterns(["*.json", "secrets.json"])
    assert patterns.match("/srv/app/secrets.json", ROOT) == "*.json"


def test_absolute_pattern_matches_wherever_the_project_is():
    patterns = PathPatterns(["/etc/**", "/etc/shadow"])
    assert patterns.match("/etc/shadow", ROOT) == "/etc/**"
    assert patterns.match("/etc", ROOT) == "/etc/**"
    assert patterns.match("/srv/app/etc/shadow", ROOT) is None
    assert PathPatterns(["/etc/shadow"]).match("/etc/shadow", "/home/dev/proj") == "/etc/shadow"


def test_leading_slash_with_unknown_top_folder_is_anchored_at_project_root():
    top = "not-a-top-level-dir-7f3a"
    if os.path.lexists("/" + top):
        pytest.skip(f"/{top} exists on this machine, so it is not an unknown top folder here")
    patterns = PathPatterns([f"/{top}/**"])
    assert patterns.match(f"/srv/app/{top}/x", ROOT) == f"/{top}/**"
    assert patterns.match(f"/{top}/x", ROOT) is None
    assert patterns.match(f"/srv/app/sub/{top}/x", ROOT) is None


def test_home_pattern_is_absolute():
    patterns = PathPatterns(["~/.ssh/**"])
    ssh = os.path.join(os.path.expanduser("~"), ".ssh")
    assert patterns.match(ssh + "/id_rsa", ROOT) == "~/.ssh/**"
    assert patterns.match(ssh, ROOT) == "~/.ssh/**"
    assert patterns.match("/srv/app/.ssh/id_rsa", ROOT) is None


def test_no_project_root_means_filesystem_root():
    patterns = PathPatterns([".git/**", "*.pem"])
    assert patterns.match("/.git/config", None) == ".git/**"
    assert patterns.match("/srv/app/.git/config", None) is None
    assert patterns.match("/srv/app/a.pem", None) == "*.pem"


def test_unnormalised_input_is_normalised():
    patterns = PathPatterns([".git/**"])
    assert patterns.match("/srv/app/src/../.git/config", ROOT) == ".git/**"
    assert patterns.match("/srv/app//.git/", ROOT) == ".git/**"
    assert patterns.match("/srv/app/.git/config", "/srv/app/") == ".git/**"


def test_project_root_itself_matches_nothing_rooted():
    assert PathPatterns([".git/**", "*.pem"]).match(ROOT, ROOT) is None


def test_comments_and_blank_patterns_are_ignored():
    patterns = PathPatterns(["# comment", "", "  *.pem  "])
    assert patterns.match("/srv/app/a.pem", ROOT) == "  *.pem  "
    assert PathPatterns([]).match("/srv/app/a.pem", ROOT) is None


@pytest.mark.parametrize(
    ("garbage", "expected"),
    [("", None), ("\x00", None), ("relative/.env", ".env*"), ("\udcff", None), (None, None)],
)
def test_odd_paths_match_only_what_they_name(garbage, expected):
    assert SECRETS.match(garbage, ROOT) == expected  # type: ignore[arg-type]


# -- could_match_glob ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        (".e*", ".env*"),
        (".env*", ".env*"),
        (".en?", ".env*"),
        ("*.pem", "*.pem"),
        ("*.pe?", "*.pem"),
        ("certs/*.pem", "*.pem"),
        ("secret?.json", "secrets.json"),
        ("secret[s].json", "secrets.json"),
        ("s*.json", "secrets.json"),
        (".[e]nv", ".env*"),
        ("*.key", "*.key"),
        ("a*.pem", "*.pem"),  # a probe built from the pattern (`x.pem`) would miss this
        ("/etc/*.key", "*.key"),
        (".*", ".env*"),
    ],
)
def test_glob_that_could_reach_a_protected_file(word, expected):
    assert SECRETS.could_match_glob(word, "/nonexistent/app", "/nonexistent/app") == expected


def test_glob_reports_the_first_pattern_in_policy_order():
    # `*.k*` also covers `a.k.pem`, and `*.pem` comes first in the policy.
    assert SECRETS.could_match_glob("*.k*", "/nonexistent/app", None) == "*.pem"


@pytest.mark.parametrize(
    "word", ["*.py", "*.txt", "docs/*.md", "src/*.py", "*env", "?env", "[.]env", "*.p"]
)
def test_glob_that_cannot_reach_a_protected_file(word):
    assert SECRETS.could_match_glob(word, "/nonexistent/app", "/nonexistent/app") is None


def test_bare_star_is_conservative():
    # bash `*` skips dotfiles, so `.env` is safe, but `cat *` or `cat src/*` may read a
    # secrets.json or server.pem.
    assert SECRETS.could_match_glob("*", ROOT, ROOT) == "secrets.json"
    assert SECRETS.could_match_glob("src/*", ROOT, ROOT) == "secrets.json"
    assert PathPatterns([".env*"]).could_match_glob("*", ROOT, ROOT) is None


def test_glob_against_rooted_patterns():
    patterns = PathPatterns([".claude/governance/**"])
    protected = ".claude/governance/**"
    assert patterns.could_match_glob(".claude/governance/*", ROOT, ROOT) == protected
    assert patterns.could_match_glob(".claude/*/policy.json", ROOT, ROOT) == protected
    assert patterns.could_match_glob("/srv/*/.claude/governance/x", "/tmp", ROOT) == protected
    assert patterns.could_match_glob("docs/*", ROOT, ROOT) is None
    assert patterns.could_match_glob(".claude/governance/*", "/srv/app/docs", ROOT) is None


def test_glob_expanding_to_a_symlink_on_disk(tmp_path):
    (tmp_path / "vault").mkdir()
    (tmp_path / "vault" / "token.txt").write_text("t")
    (tmp_path / "notes.md").symlink_to("vault/token.txt")
    patterns = PathPatterns(["vault/**"])
    root = real(tmp_path)
    assert patterns.could_match_glob("*.md", str(tmp_path), root) == "vault/**"
    assert patterns.could_match_glob("*.txt", str(tmp_path), root) is None


def test_glob_on_disk_respects_bash_dotfile_rule(tmp_path):
    (tmp_path / "data").symlink_to(".env")
    (tmp_path / ".env").write_text("SECRET=1")
    root = real(tmp_path)
    patterns = PathPatterns([".env"])
    assert patterns.could_match_glob("d*", str(tmp_path), root) == ".env"
    assert patterns.could_match_glob("[!d]*", str(tmp_path), root) is None


def test_literal_word_is_matched_as_a_path(tmp_path):
    (tmp_path / ".env").write_text("SECRET=1")
    (tmp_path / "innocent.txt").symlink_to(".env")
    assert SECRETS.could_match_glob("innocent.txt", str(tmp_path), real(tmp_path)) == ".env*"
    assert SECRETS.could_match_glob("README.md", str(tmp_path), real(tmp_path)) is None


def test_negation_is_not_credited_for_globs():
    patterns = PathPatterns([".env*", "!.env.example"])
    # `.env.exam*` also expands to `.env.example.local`, which no negation covers.
    assert patterns.could_match_glob(".env.exam*", ROOT, ROOT) == ".env*"
    assert patterns.match("/srv/app/.env.example", ROOT) is None


@pytest.mark.parametrize(
    ("garbage", "expected"),
    [
        ("", None),
        ("[", None),
        ("[!", None),
        ("\\", None),
        ("*\x00", None),
        (None, None),
        # These can expand outside the project, where the patterns' files may well be.
        ("a/../../*", "secrets.json"),
        ("~nobody*/x", "*.pem"),
    ],
)
def test_odd_globs_are_judged_by_what_they_could_expand_to(garbage, expected):
    assert SECRETS.could_match_glob(garbage, ROOT, ROOT) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("command", ["cat a/../../*", "cat ~nobody*/x", "cat *\x00", "rm -f '['"])
def test_odd_globs_in_commands_are_never_allowed(command):
    event = ToolEvent(tool_name="Bash", tool_input={"command": command}, cwd=ROOT)
    assert _ENGINE.evaluate(event).would_be.value in {"approve", "deny"}
