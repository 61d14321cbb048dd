"""What the engine knows of common commands: which print, read, edit or delete files, which
options take a value, which words are data. Read once from engine/clis/effects.json (data a
reader can extend) into frozensets; the regexes stay here. Tables only; command.py reads them."""

from __future__ import annotations

import json
import re
from importlib import resources

from engine.analysis.shell import SSH_VALUE_OPTIONS

_EFFECTS = json.loads(
    resources.files("engine.clis").joinpath("effects.json").read_text(encoding="utf-8")
)["effects"]


def _names(key: str) -> frozenset[str]:
    return frozenset(_EFFECTS[key])


def _options(key: str) -> dict[str, frozenset[str]]:
    return {program: frozenset(options) for program, options in _EFFECTS[key].items()}


_PRINTERS = _names("printers")
_METADATA_ONLY = _names("metadata_only") | _PRINTERS
_READERS = _names("readers")
_EDITORS = _names("editors")
_DELETERS = _names("deleters")
_TOUCHERS = _names("touchers")
_PERMISSIONS = _names("permissions")
_GREPS = _names("greps")
_SCRIPTED = _names("scripted")

# Options that take a value, so the value is not mistaken for a file; ssh's are the shell
# stage's own list (it reads `ssh … CMD` too), extended by the data's.
_OPTION_VALUES = _options("option_values")
_OPTION_VALUES["ssh"] = _OPTION_VALUES.get("ssh", frozenset()) | SSH_VALUE_OPTIONS
_DATA_OPTIONS = _options("data_options")

_NETWORK_URL_TOOLS = _names("network_url_tools")
_NETWORK_HOST_TOOLS = _names("network_host_tools")

_HOST_PATH = re.compile(r"^(?:[\w.+-]+@)?([A-Za-z0-9][\w.-]*):(?!//)")

_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
