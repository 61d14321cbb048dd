"""Loading policies: the seed verbatim (JSON and YAML), extensions, errors naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from engine.decide import Mode, Risk
from engine.policy import PolicyError, builtin_policy, load_policy
from tests.conftest import SEED_POLICY


def _write(tmp_path: Path, name: str, document: dict | str) -> Path:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def _seed() -> dict:
    return json.loads(SEED_POLICY.read_text())


def test_the_seed_loads_verbatim() -> None:
    policy = load_policy(SEED_POLICY)
    assert policy.mode is Mode.ENFORCE
    assert policy.policies.git_operations.blocked_branches == ["main", "production", "staging"]
    assert policy.approval_rules["high_risk_actions"].require_mfa is True
    assert policy.audit.retention_days == 365


def test_the_seed_loads_from_yaml_too(tmp_path: Path) -> None:
    path = _write(tmp_path, "policies.yaml", yaml.safe_dump(_seed()))
    assert load_policy(path) == load_policy(SEED_POLICY)


def test_the_builtin_policy_extends_the_seed() -> None:
    policy = builtin_policy()
    seed = load_policy(SEED_POLICY)
    assert set(seed.policies.file_operations.protected_paths) <= set(
        policy.policies.file_operations.protected_paths
    )
    assert (
        policy.policies.bash_commands.blocked_patterns
        == seed.policies.bash_commands.blocked_patterns
    )


def test_extensions_are_optional_keys(tmp_path: Path) -> None:
    document = _seed()
    document["mode"] = "soft"
    document["approver_pools"] = {"team-lead": ["U012ABC", "S0TEAM"]}
    document["policies"]["bash_commands"]["requires_approval"].append(
        {"pattern": "terraform apply", "id": "tf", "risk": "high", "reason": "infra change"}
    )
    document["approval_rules"]["high_risk_actions"]["requiredApprovers"] = 2
    policy = load_policy(_write(tmp_path, "p.json", document))
    assert policy.mode is Mode.SOFT
    assert policy.approval_rules["high_risk_actions"].required_approvers == 2
    (compiled,) = [
        p for p in policy.policies.bash_commands.compiled("requires_approval") if p.rule == "tf"
    ]
    assert compiled.risk is Risk.HIGH


def test_an_invalid_regex_is_a_load_error_naming_the_field(tmp_path: Path) -> None:
    document = _seed()
    document["policies"]["bash_commands"]["blocked_patterns"].append("rm -rf (")
    with pytest.raises(PolicyError) as error:
        load_policy(_write(tmp_path, "bad.json", document))
    message = str(error.value)
    assert "bad.json" in message
    assert "policies.bash_commands.blocked_patterns" in message
    assert "not a valid regex" in message


def test_an_unknown_key_is_a_load_error(tmp_path: Path) -> None:
    document = _seed()
    document["policies"]["bash_commands"]["blocked_patern"] = ["x"]
    with pytest.raises(PolicyError, match=r"bash_commands\.blocked_patern: unknown key"):
        load_policy(_write(tmp_path, "typo.json", document))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "mapping at the top level"),
        ('{"mode": "strict"}', "mode"),
        ('{"approval_rules": {"x": {"threshold": "extreme", "approvers": ["a"]}}}', "threshold"),
    ],
)
def test_bad_documents_get_clear_errors(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(PolicyError, match=expected):
        load_policy(_write(tmp_path, "p.json", text))


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy"):
        load_policy(tmp_path / "nope.json")
