"""Git configuration given through the environment (`GIT_CONFIG_COUNT`/`_KEY_n`/`_VALUE_n`,
`GIT_CONFIG_PARAMETERS`), as the `-c key=value` words git reads it as. Pure: variables in."""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from engine.analysis.shell.words import Word

_PREFIX = "GIT_CONFIG_"
_MAX_COUNT = 64


def git_env_options(variables: Mapping[str, str | None]) -> tuple[list[Word], str | None]:
    """The `-c key=value` words the environment gives git (in git's order: the parameters,
    then the counted pairs), and why they cannot be known when a value is only known at run
    time. Variables that are not git's configuration are ignored."""
    if not any(name.startswith(_PREFIX) for name in variables):
        return [], None
    pairs: list[str] = []
    if "GIT_CONFIG_PARAMETERS" in variables:
        parameters = variables["GIT_CONFIG_PARAMETERS"]
        if parameters is None:
            return [], "GIT_CONFIG_PARAMETERS is only known at run time"
        try:
            pairs.extend(shlex.split(parameters))
        except ValueError:
            return [], "GIT_CONFIG_PARAMETERS cannot be read"
    if "GIT_CONFIG_COUNT" in variables:
        count = variables["GIT_CONFIG_COUNT"]
        if count is None or not count.strip().isdigit():
            return [], "GIT_CONFIG_COUNT is only known at run time"
        for index in range(min(int(count), _MAX_COUNT)):
            key = variables.get(f"GIT_CONFIG_KEY_{index}")
            value = variables.get(f"GIT_CONFIG_VALUE_{index}", "")
            if key is None or value is None:
                return [], f"GIT_CONFIG_KEY_{index} or _VALUE_{index} is only known at run time"
            pairs.append(f"{key}={value}")
    return [word for pair in pairs for word in (Word("-c"), Word(pair))], None
