"""What the engine knows of common commands: which print, read, edit or delete files, which
options take a value, which words are data. Tables only; effects.py reads them."""

from __future__ import annotations

import re

from engine.analysis.shell import SSH_VALUE_OPTIONS

_PRINTERS = frozenset(
    [
        ":",
        "true",
        "false",
        "test",
        "[",
        "[[",
        "echo",
        "printf",
        "logger",
        "wall",
        "notify-send",
        "say",
        "cowsay",
        "figlet",
        "banner",
        "toilet",
    ]
)

_METADATA_ONLY = frozenset(
    [
        "ls",
        "ll",
        "dir",
        "stat",
        "test",
        "[",
        "[[",
        "which",
        "type",
        "whereis",
        "basename",
        "dirname",
        "realpath",
        "readlink",
        "du",
        "df",
        "command",
        "hash",
        "alias",
        "true",
        "false",
        "pwd",
        "cd",
        "pushd",
        "popd",
        "exit",
        "return",
        "export",
        "unset",
        "set",
        "declare",
        "local",
        "readonly",
        "shift",
        "wait",
        "jobs",
        "sleep",
        "date",
        "id",
        "whoami",
        "hostname",
        "uname",
        "tty",
        "history",
    ]
    + list(_PRINTERS)
)

_READERS = frozenset(
    [
        "cat",
        "tac",
        "less",
        "more",
        "head",
        "tail",
        "bat",
        "batcat",
        "nl",
        "od",
        "xxd",
        "hexdump",
        "strings",
        "wc",
        "sort",
        "uniq",
        "cut",
        "paste",
        "column",
        "fold",
        "fmt",
        "diff",
        "cmp",
        "comm",
        "md5sum",
        "sha1sum",
        "sha224sum",
        "sha256sum",
        "sha384sum",
        "sha512sum",
        "b2sum",
        "cksum",
        "base64",
        "base32",
        "file",
        "view",
        "zcat",
        "bzcat",
        "xzcat",
        "zless",
        "iconv",
        "source",
        ".",
        "expand",
        "unexpand",
        "split",
        "csplit",
        "look",
        "pr",
        "tsort",
        "xmllint",
        "jsonlint",
        "yamllint",
    ]
)

_EDITORS = frozenset(
    ["vi", "vim", "nvim", "nano", "emacs", "pico", "ed", "ex", "code", "subl", "micro", "joe"]
)

_DELETERS = frozenset({"rm", "unlink", "rmdir", "shred", "srm", "trash", "trash-put"})

_TOUCHERS = frozenset({"touch", "truncate", "mkdir", "mkfifo", "mknod"})

_PERMISSIONS = frozenset({"chmod", "chown", "chgrp", "chattr", "setfacl"})

_GREPS = frozenset(["grep", "egrep", "fgrep", "zgrep", "rg", "ag", "ack"])

_SCRIPTED = {"sed": "e", "awk": "f", "gawk": "f", "mawk": "f", "nawk": "f", "jq": "f", "yq": "f"}

# curl's request payload options: they take a value, and that value is data, not a command.
_CURL_PAYLOAD = frozenset(
    [
        "-d",
        "-H",
        "-F",
        "-A",
        "--data",
        "--data-raw",
        "--data-binary",
        "--data-urlencode",
        "--json",
        "--header",
        "--form",
        "--user-agent",
    ]
)

# Options that take a value, so the value is not mistaken for a file.
_OPTION_VALUES: dict[str, frozenset[str]] = {
    "head": frozenset({"-n", "-c", "--lines", "--bytes"}),
    "tail": frozenset({"-n", "-c", "--lines", "--bytes", "-s", "--pid"}),
    "cut": frozenset({"-d", "-f", "-c", "-b", "--delimiter", "--fields"}),
    "sort": frozenset({"-k", "-t", "-o", "-S", "-T", "--key", "--output"}),
    "diff": frozenset({"-U", "-C", "-x", "-X", "--label", "-L", "-I"}),
    "split": frozenset({"-l", "-b", "-n", "-C", "-a"}),
    "truncate": frozenset({"-s", "--size", "-r", "--reference"}),
    "grep": frozenset(
        [
            "-e",
            "-f",
            "-m",
            "-A",
            "-B",
            "-C",
            "-d",
            "-D",
            "--regexp",
            "--file",
            "--max-count",
            "--context",
            "--exclude",
            "--include",
            "--exclude-dir",
        ]
    ),
    "tar": frozenset({"--exclude", "-C", "--directory", "-X", "--exclude-from", "-T"}),
    "rsync": frozenset({"--exclude", "--include", "--filter", "-e", "--rsh", "-f"}),
    "rg": frozenset(
        [
            "-e",
            "-f",
            "-g",
            "-t",
            "-T",
            "-m",
            "-A",
            "-B",
            "-C",
            "-M",
            "-j",
            "--glob",
            "--iglob",
            "--type",
            "--max-count",
        ]
    ),
    "ag": frozenset({"-G", "-A", "-B", "-C", "-m", "--ignore"}),
    "sed": frozenset({"-e", "-f", "-l", "--expression", "--file"}),
    "awk": frozenset({"-f", "-v", "-F", "--assign", "--field-separator"}),
    "jq": frozenset({"--arg", "--argjson", "--slurpfile", "--rawfile", "-L", "--indent"}),
    "cp": frozenset({"-t", "-S", "--target-directory", "--suffix"}),
    "mv": frozenset({"-t", "-S", "--target-directory", "--suffix"}),
    "ln": frozenset({"-t", "-S", "--target-directory", "--suffix"}),
    "install": frozenset({"-m", "-o", "-g", "-t", "--mode", "--owner", "--group"}),
    "tee": frozenset(),
    "chown": frozenset({"--reference"}),
    "chmod": frozenset({"--reference"}),
    "xxd": frozenset({"-c", "-g", "-l", "-s", "-o"}),
    "od": frozenset({"-A", "-j", "-N", "-t", "-w"}),
    # `ssh -o ProxyCommand=… host`: the host is the first positional after option values.
    "ssh": SSH_VALUE_OPTIONS,
    "sftp": frozenset(
        ["-B", "-b", "-c", "-D", "-F", "-i", "-J", "-l", "-o", "-P", "-R", "-S", "-s"]
    ),
    "curl": _CURL_PAYLOAD
    | frozenset(
        [
            "-u",
            "-X",
            "-o",
            "-e",
            "-b",
            "-c",
            "-T",
            "-x",
            "-w",
            "-K",
            "-m",
            "-E",
            "--user",
            "--request",
            "--output",
            "--referer",
            "--cookie",
            "--cookie-jar",
            "--upload-file",
            "--proxy",
            "--write-out",
            "--config",
            "--max-time",
            "--connect-timeout",
            "--cert",
            "--key",
            "--cacert",
            "--retry",
            "--resolve",
        ]
    ),
    "wget": frozenset(
        [
            "-O",
            "-o",
            "-a",
            "-P",
            "-U",
            "-e",
            "--output-document",
            "--output-file",
            "--directory-prefix",
            "--user-agent",
            "--header",
            "--post-data",
            "--post-file",
            "--body-data",
            "--user",
            "--password",
        ]
    ),
}

_DATA_OPTIONS: dict[str, frozenset[str]] = {
    # The values of these options are messages, search strings or payloads, not commands.
    "gh": frozenset(
        ["-t", "-b", "-m", "--title", "--body", "--message", "--notes", "--subject", "-q", "--jq"]
    ),
    "glab": frozenset(["-t", "-d", "--title", "--description", "--message"]),
    "curl": _CURL_PAYLOAD,
    "wget": frozenset({"--post-data", "--body-data", "--header", "-U", "--user-agent"}),
    "jira": frozenset({"-m", "--message", "--summary", "--body"}),
}

_NETWORK_URL_TOOLS = frozenset({"curl", "wget", "http", "https", "xh", "httpie", "aria2c", "lynx"})

_NETWORK_HOST_TOOLS = frozenset({"nc", "ncat", "netcat", "telnet", "ftp", "sftp", "ssh", "mosh"})

_HOST_PATH = re.compile(r"^(?:[\w.+-]+@)?([A-Za-z0-9][\w.-]*):(?!//)")

_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
