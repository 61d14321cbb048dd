"""The table of execution vectors: programs, options, variables and config keys that run code.
Data only; `vectors.py` reads it, and tests/test_vectors.py runs every row's example."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Find(StrEnum):
    """How the payload of a vector is found."""

    CODE = "code"  # the value is shell code (or a program line run through a shell)
    WORDS = "words"  # the words after the program's options are a command it runs
    STDIN = "stdin"  # the program reads the commands it runs from standard input
    FILE = "file"  # the value names a file of code: unseen
    UNSEEN = "unseen"  # using it at all runs code the engine cannot see
    SSH_OPTION = "ssh-option"  # `-o Key=command`
    GIT_CONFIG = "git-config"  # `key=value` where the key names a program git runs
    EXT_URL = "ext-url"  # git's `ext::cmd% arg` transport
    SOCAT = "socat"  # `EXEC:cmd,opts` / `SYSTEM:cmd` addresses
    AWK = "awk"  # awk program text: system(), `| "cmd"`, `"cmd" | getline`
    SED = "sed"  # sed script: the `e` command and the `s///e` flag
    VIM = "vim"  # ex command text: `:!cmd`, `system()`, embedded languages
    CRONTAB = "crontab"  # crontab lines on stdin
    PROMPT = "prompt"  # a string that is expanded like a prompt (`$(…)` runs)
    FUNCTION = "function"  # `BASH_FUNC_f%%=() { … }`: a function imported by child shells
    LANGUAGE = "language"  # code in a language the engine has no parser for


@dataclass(frozen=True, slots=True)
class Vector:
    """One way to run code. `example` is a command line whose payload has a known verdict."""

    programs: tuple[str, ...]
    trigger: str  # the option, `-o` key, config key or variable; "" for the program itself
    runs: str
    find: Find
    example: str
    verdict: str  # "deny" when the payload is found and judged, "approve" when it is unseen
    options: tuple[str, ...] = ()  # spellings of the trigger option
    subcommand: str = ""  # only after this subcommand (`npx -c`, `docker run`)


# Options that take a value, for programs whose trailing words are the command they run.
WRAPPER_OPTIONS: dict[str, tuple[frozenset[str], int]] = {
    # program: (options consuming the next word, positional words before the command)
    "busybox": (frozenset(), 0),
    "coproc": (frozenset(), 0),
    "systemd-run": (
        frozenset(
            "-u --unit -p --property -E --setenv --on-active --on-boot --on-startup "
            "--on-unit-active --on-unit-inactive --on-calendar --on-clock-change "
            "--description --slice --uid --gid --nice --service-type -M --machine -H --host "
            "--working-directory -D --timer-property --path-property --socket-property".split()
        ),
        0,
    ),
    "nsenter": (frozenset("-t --target -S --setuid -G --setgid --wd -w --root".split()), 0),
    "unshare": (
        frozenset(
            "--map-user --map-group -S --setuid -G --setgid -R --root -w --wd "
            "--propagation --setgroups".split()
        ),
        0,
    ),
    "strace": (frozenset("-e -o -p -s -u -E -a -b -I -O -P -S -X".split()), 0),
    "ltrace": (frozenset("-e -o -p -s -u -a -n -l".split()), 0),
    "valgrind": (frozenset(), 0),
    "firejail": (frozenset(), 0),
    "fakeroot": (frozenset("-l --lib -s -i --faked".split()), 0),
    "xvfb-run": (frozenset("-n --server-num -s --server-args -e --error-file -f".split()), 0),
    "dbus-run-session": (frozenset("--config-file --dbus-daemon".split()), 0),
    "pkexec": (frozenset("--user".split()), 0),
    "setpriv": (frozenset("--reuid --regid --groups --inh-caps --bounding-set".split()), 0),
    "taskset": (frozenset(), 1),
    "chrt": (frozenset(), 1),
    "prlimit": (frozenset("-p --pid".split()), 0),
    "catchsegv": (frozenset(), 0),
    "systemd-nspawn": (frozenset("-D --directory -M --machine -u --user --bind".split()), 0),
    "parallel": (frozenset("-j --jobs -S --sshlogin --joblog --results -I".split()), 0),
}

_R = "rm -rf ~"  # a payload whose verdict is known: deny
_RQ = f"'{_R}'"

VECTORS: tuple[Vector, ...] = (
    # ---- remote shells and file transfer
    Vector(("ssh", "scp", "sftp"), "-o ProxyCommand", "a local command that carries the connection", Find.SSH_OPTION, f"ssh -o ProxyCommand={_RQ} host", "deny", ("-o",)),
    Vector(("ssh",), "-o LocalCommand", "a local command after connecting", Find.SSH_OPTION, f"ssh -o PermitLocalCommand=yes -o LocalCommand={_RQ} host", "deny", ("-o",)),
    Vector(("ssh", "scp", "sftp"), "-o KnownHostsCommand", "a command that prints host keys", Find.SSH_OPTION, f"ssh -o 'KnownHostsCommand {_R}' host", "deny", ("-o",)),
    Vector(("ssh",), "-o RemoteCommand", "a command on the remote host", Find.SSH_OPTION, f"ssh -oRemoteCommand={_RQ} host", "deny", ("-o",)),
    Vector(("ssh", "scp", "sftp"), "-F", "a config file, which can name any of the commands above", Find.FILE, "ssh -F ./evil_config host", "approve", ("-F",)),
    Vector(("scp", "sftp"), "-S", "a program used in place of ssh", Find.CODE, f"scp -S {_RQ} a host:b", "deny", ("-S",)),
    Vector(("rsync",), "-e", "the remote shell program", Find.CODE, f"rsync -e {_RQ} a host:b", "deny", ("-e", "--rsh")),
    Vector(("rsync",), "--rsync-path", "a command on the remote side", Find.CODE, f"rsync --rsync-path={_RQ} a host:b", "deny", ("--rsync-path",)),
    # ---- git
    Vector(("git",), "core.sshCommand", "the ssh command of fetch and push", Find.GIT_CONFIG, f"git -c core.sshCommand={_RQ} fetch", "deny", ("-c",)),
    Vector(("git",), "core.fsmonitor", "a hook run by every status", Find.GIT_CONFIG, f"git -c core.fsmonitor={_RQ} status", "deny", ("-c",)),
    Vector(("git",), "core.pager", "the pager", Find.GIT_CONFIG, f"git -c core.pager={_RQ} log", "deny", ("-c",)),
    Vector(("git",), "core.editor", "the editor", Find.GIT_CONFIG, f"git -c core.editor={_RQ} commit", "deny", ("-c",)),
    Vector(("git",), "core.hooksPath", "hooks from another folder", Find.GIT_CONFIG, "git -c core.hooksPath=/tmp/hooks commit -m x", "approve", ("-c",)),
    Vector(("git",), "alias.NAME=!cmd", "a shell alias", Find.GIT_CONFIG, f"git config alias.st '!{_R}'", "deny"),
    Vector(("git",), "config KEY VALUE", "a program stored for later runs", Find.GIT_CONFIG, f"git config --global core.pager {_RQ}", "deny"),
    Vector(("git",), "--upload-pack", "a command that serves the fetch", Find.CODE, f"git ls-remote --upload-pack={_RQ} origin", "deny", ("--upload-pack", "-u")),
    Vector(("git",), "--receive-pack", "a command that receives the push", Find.CODE, f"git push --receive-pack={_RQ} origin feature", "deny", ("--receive-pack", "--exec")),
    Vector(("git",), "ext::", "a command used as transport", Find.EXT_URL, "git clone 'ext::sh -c rm% -rf% ~' dest", "deny"),
    Vector(("git",), "rebase --exec", "a command after each commit", Find.CODE, f"git rebase --exec {_RQ} HEAD~3", "deny", ("--exec", "-x"), "rebase"),
    Vector(("git",), "submodule foreach", "a command in every submodule", Find.WORDS, f"git submodule foreach {_RQ}", "deny", (), "foreach"),
    Vector(("git",), "bisect run", "a command on each step", Find.WORDS, f"git bisect run {_R}", "deny", (), "run"),
    Vector(("git",), "difftool --extcmd", "a diff program", Find.CODE, f"git difftool --extcmd={_RQ}", "deny", ("--extcmd", "-x"), "difftool"),
    Vector(("git",), "filter-branch --*-filter", "shell code on every commit", Find.CODE, f"git filter-branch --tree-filter {_RQ} HEAD", "deny", ("--tree-filter", "--index-filter", "--msg-filter", "--env-filter", "--commit-filter", "--parent-filter", "--tag-name-filter"), "filter-branch"),
    # ---- archivers
    Vector(("tar",), "--to-command", "a command fed each extracted file", Find.CODE, f"tar --to-command={_RQ} -xf a.tar", "deny", ("--to-command",)),
    Vector(("tar",), "--checkpoint-action=exec", "a command at each checkpoint", Find.CODE, f"tar -cf a.tar --checkpoint=1 --checkpoint-action=exec={_RQ} src", "deny", ("--checkpoint-action",)),
    Vector(("tar",), "--use-compress-program", "a compressor program", Find.CODE, f"tar --use-compress-program={_RQ} -cf a.tar src", "deny", ("--use-compress-program", "-I")),
    Vector(("tar",), "--info-script", "a script at the end of each volume", Find.CODE, f"tar -cf a.tar -M --info-script={_RQ} src", "deny", ("--info-script", "--new-volume-script", "-F")),
    Vector(("tar",), "--rsh-command", "the remote shell", Find.CODE, f"tar --rsh-command={_RQ} -cf host:a.tar src", "deny", ("--rsh-command",)),
    Vector(("zip",), "-TT", "the command that tests the archive", Find.CODE, f"zip a.zip f -T -TT {_RQ}", "deny", ("-TT", "--unzip-command")),
    # ---- editors, pagers, manuals
    Vector(("vim", "vi", "nvim", "ex", "view", "vimdiff", "rvim"), "-c / +cmd", "an ex command, `:!` runs the shell", Find.VIM, f"vim -c ':!{_R}' file", "deny", ("-c", "--cmd")),
    Vector(("less", "more"), "+cmd", "a less command, `!` runs the shell", Find.VIM, f"less '+!{_R}' file", "deny"),
    Vector(("man",), "-P / --pager", "the pager program", Find.CODE, f"man -P {_RQ} ls", "deny", ("-P", "--pager")),
    Vector(("man",), "-H / --html", "a browser", Find.CODE, f"man --html={_RQ} ls", "deny", ("-H", "--html")),
    # ---- text tools with an escape hatch
    Vector(("awk", "gawk", "mawk", "nawk"), "system() / pipes", "shell commands from the awk program", Find.AWK, f"awk 'BEGIN {{ system(\"{_R}\") }}'", "deny"),
    Vector(("sed", "gsed"), "e / s///e", "the e command runs shell code", Find.SED, f"sed 'e {_R}' file", "deny"),
    Vector(("script",), "-c", "a command in a recorded terminal", Find.CODE, f"script -q -c {_RQ} /dev/null", "deny", ("-c", "--command")),
    Vector(("expect",), "-c", "Tcl code, which can spawn anything", Find.LANGUAGE, "expect -c 'spawn sh'", "approve", ("-c",)),
    Vector(("socat",), "EXEC: / SYSTEM:", "a program wired to the connection", Find.SOCAT, f"socat TCP-LISTEN:9000 'SYSTEM:{_R}'", "deny"),
    Vector(("nc", "ncat", "netcat"), "-e / -c", "a program wired to the connection", Find.CODE, f"nc -l 9000 -c {_RQ}", "deny", ("-e", "-c", "--exec", "--sh-exec")),
    Vector(("ncat",), "--lua-exec", "Lua code wired to the connection", Find.FILE, "ncat -l 9000 --lua-exec x.lua", "approve", ("--lua-exec",)),
    Vector(("make", "gmake"), "--eval", "makefile text, whose recipes run", Find.LANGUAGE, "make --eval='all:; @echo hi'", "approve", ("--eval", "-E")),
    Vector(("npx",), "-c", "a shell command", Find.CODE, f"npx -c {_RQ}", "deny", ("-c", "--call")),
    Vector(("npm",), "exec -c", "a shell command", Find.CODE, f"npm exec -c {_RQ}", "deny", ("-c", "--call"), "exec"),
    Vector(("npm",), "pkg set scripts.NAME", "a script run by `npm run NAME`", Find.CODE, f"npm pkg set 'scripts.x={_R}'", "deny", (), "pkg"),
    Vector(("npm", "pnpm", "yarn"), "--script-shell", "the shell of every script", Find.CODE, f"npm run build --script-shell={_RQ}", "deny", ("--script-shell",)),
    Vector(("gdb",), "-ex", "a gdb command, `shell` runs the shell", Find.LANGUAGE, "gdb -batch -ex 'shell id'", "approve", ("-ex", "--eval-command", "-x", "--command")),
    Vector(("dc",), "-e", "dc code, `!` runs the shell", Find.LANGUAGE, "dc -e '!id'", "approve", ("-e", "--expression")),
    # ---- deferred execution
    Vector(("at", "batch"), "stdin", "the commands it schedules", Find.STDIN, f"echo {_RQ} | at now + 1 minute", "deny"),
    Vector(("at", "batch"), "-f", "a file of commands it schedules", Find.FILE, "at -f job.sh now", "approve", ("-f",)),
    Vector(("crontab",), "stdin / -", "the crontab it installs", Find.CRONTAB, f"echo '* * * * * {_R}' | crontab -", "deny"),
    Vector(("crontab",), "FILE", "a crontab file it installs", Find.FILE, "crontab jobs.txt", "approve"),
    Vector(tuple(WRAPPER_OPTIONS), "COMMAND", "the command after its options", Find.WORDS, f"systemd-run --on-active=60 {_R}", "deny"),
    # ---- interpreters without a parser here
    Vector(("lua", "luajit", "texlua"), "-e / stdin", "Lua code", Find.LANGUAGE, "lua -e 'os.execute(\"id\")'", "approve", ("-e",)),
    Vector(("tclsh", "wish", "jimsh"), "stdin", "Tcl code", Find.LANGUAGE, "echo 'exec id' | tclsh", "approve"),
    Vector(("R", "Rscript"), "-e", "R code", Find.LANGUAGE, "Rscript -e 'system(\"id\")'", "approve", ("-e", "--expr")),
    Vector(("julia",), "-e / -E", "Julia code", Find.LANGUAGE, "julia -e 'run(`id`)'", "approve", ("-e", "-E", "--eval", "--print")),
    Vector(("osascript",), "-e", "AppleScript, `do shell script` runs the shell", Find.LANGUAGE, "osascript -e 'do shell script \"id\"'", "approve", ("-e",)),
    Vector(("pwsh", "powershell"), "-c", "PowerShell code", Find.LANGUAGE, "pwsh -c 'Remove-Item -Recurse ~'", "approve", ("-c", "-Command", "-command", "-EncodedCommand", "-e")),
    Vector(("groovy", "scala", "kotlin", "kotlinc", "elixir", "erl", "escript", "guile", "racket", "sbcl", "clisp", "ocaml", "swift", "jshell", "gnuplot", "runghc", "ghc"), "-e / stdin", "code given on the command line", Find.LANGUAGE, "elixir -e 'System.cmd(\"id\", [])'", "approve", ("-e", "--eval", "-c", "--command", "--script")),
)


# Variables whose value a program or a child shell runs. `export`, `env`, `declare -x`, a plain
# assignment under `set -a` or a `VAR=… cmd` prefix all put them in a child's environment.
ENV_VECTORS: tuple[Vector, ...] = (
    Vector((), "BASH_ENV", "a file every non-interactive bash sources first", Find.FILE, "BASH_ENV=/tmp/x.sh bash -c true", "approve"),
    Vector((), "ENV", "a file sh and interactive shells source first", Find.FILE, "ENV=/tmp/x.sh sh -i", "approve"),
    Vector((), "PROMPT_COMMAND", "code before every prompt", Find.CODE, f"PROMPT_COMMAND={_RQ} bash -i", "deny"),
    Vector((), "PS0", "a prompt string, expanded with `$(…)`", Find.PROMPT, f"PS0='$({_R})' bash -i", "deny"),
    Vector((), "PS1", "a prompt string, expanded with `$(…)`", Find.PROMPT, f"export PS1='$({_R}) $ '", "deny"),
    Vector((), "PS4", "the trace prefix of `set -x`, expanded with `$(…)`", Find.PROMPT, f"PS4='$({_R})' bash -xc true", "deny"),
    Vector((), "SHELLOPTS", "shell options a child bash starts with", Find.UNSEEN, "SHELLOPTS=xtrace bash -c true", "approve"),
    Vector((), "BASHOPTS", "shell options a child bash starts with", Find.UNSEEN, "BASHOPTS=extdebug bash -c true", "approve"),
    Vector((), "BASH_FUNC_*", "a function child shells import", Find.FUNCTION, f"env 'BASH_FUNC_ls%%=() {{ {_R}; }}' bash -c ls", "deny"),
    Vector((), "LD_PRELOAD", "a library loaded into every program", Find.UNSEEN, "LD_PRELOAD=/tmp/x.so ls", "approve"),
    Vector((), "LD_AUDIT", "a library loaded into every program", Find.UNSEEN, "LD_AUDIT=/tmp/x.so ls", "approve"),
    Vector((), "GIT_SSH_COMMAND", "the ssh command of git", Find.CODE, f"GIT_SSH_COMMAND={_RQ} git fetch", "deny"),
    Vector((), "GIT_SSH", "the ssh program of git", Find.CODE, f"GIT_SSH={_RQ} git fetch", "deny"),
    Vector((), "GIT_EDITOR", "git's editor", Find.CODE, f"GIT_EDITOR={_RQ} git commit", "deny"),
    Vector((), "GIT_SEQUENCE_EDITOR", "git's rebase editor", Find.CODE, f"GIT_SEQUENCE_EDITOR={_RQ} git rebase -i HEAD~2", "deny"),
    Vector((), "GIT_PAGER", "git's pager", Find.CODE, f"GIT_PAGER={_RQ} git log", "deny"),
    Vector((), "GIT_EXTERNAL_DIFF", "git's diff program", Find.CODE, f"GIT_EXTERNAL_DIFF={_RQ} git diff", "deny"),
    Vector((), "GIT_ASKPASS", "git's password program", Find.CODE, f"GIT_ASKPASS={_RQ} git fetch", "deny"),
    Vector((), "GIT_PROXY_COMMAND", "git's proxy program", Find.CODE, f"GIT_PROXY_COMMAND={_RQ} git fetch", "deny"),
    Vector((), "GIT_CONFIG_PARAMETERS", "config given in the environment", Find.GIT_CONFIG, f"GIT_CONFIG_PARAMETERS=\"'core.pager={_R}'\" git log", "deny"),
    Vector((), "GIT_CONFIG_VALUE_N", "config given in the environment", Find.GIT_CONFIG, f"GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=core.pager GIT_CONFIG_VALUE_0={_RQ} git log", "deny"),
    Vector((), "GIT_CONFIG_GLOBAL", "a config file, which can name programs", Find.FILE, "GIT_CONFIG_GLOBAL=/tmp/cfg git status", "approve"),
    Vector((), "EDITOR", "the editor programs start", Find.CODE, f"EDITOR={_RQ} crontab -e", "deny"),
    Vector((), "VISUAL", "the editor programs start", Find.CODE, f"VISUAL={_RQ} crontab -e", "deny"),
    Vector((), "PAGER", "the pager programs start", Find.CODE, f"PAGER={_RQ} man ls", "deny"),
    Vector((), "MANPAGER", "man's pager", Find.CODE, f"MANPAGER={_RQ} man ls", "deny"),
    Vector((), "LESSOPEN", "less's input filter, a command line", Find.CODE, f"LESSOPEN='| {_R} %s' less f", "deny"),
    Vector((), "SSH_ASKPASS", "ssh's password program", Find.CODE, f"SSH_ASKPASS={_RQ} ssh host", "deny"),
    Vector((), "BROWSER", "the browser programs start", Find.CODE, f"BROWSER={_RQ} python -m webbrowser x", "deny"),
    Vector((), "NODE_OPTIONS", "node options, `--require` loads code", Find.UNSEEN, "NODE_OPTIONS='--require /tmp/x.js' node app.js", "approve"),
    Vector((), "PERL5OPT", "perl options, `-M` loads code", Find.UNSEEN, "PERL5OPT=-Mevil perl x.pl", "approve"),
    Vector((), "RUBYOPT", "ruby options, `-r` loads code", Find.UNSEEN, "RUBYOPT=-revil ruby x.rb", "approve"),
    Vector((), "PYTHONSTARTUP", "a file python runs first", Find.FILE, "PYTHONSTARTUP=/tmp/x.py python", "approve"),
)

# Git config keys whose value is a program git runs (`*` stands for any name).
GIT_CODE_KEYS: tuple[str, ...] = (
    "core.sshcommand", "core.fsmonitor", "core.pager", "core.editor", "core.askpass",
    "sequence.editor", "diff.external", "diff.*.textconv", "diff.*.command", "merge.*.driver",
    "filter.*.clean", "filter.*.smudge", "filter.*.process", "credential.helper",
    "credential.*.helper", "gpg.program", "gpg.*.program", "pager.*", "uploadpack.packobjectshook",
    "remote.*.uploadpack", "remote.*.receivepack", "remote.*.proxy", "core.gitproxy",
    "sendemail.smtpserver", "sendemail.tocmd", "sendemail.cccmd", "difftool.*.cmd",
    "mergetool.*.cmd", "web.browser", "browser.*.cmd", "man.*.cmd", "alias.*",
)
# Git config keys that point at files or folders of code.
GIT_FILE_KEYS: tuple[str, ...] = ("core.hookspath", "include.path", "includeif.*.path")
