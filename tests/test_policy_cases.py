"""The policy case suites: evasions a regex misses and look-alikes a regex wrongly blocks,
each judged against the seed policy exactly as `governance policy test` does."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from engine.cases import load_cases, run_cases
from engine.evaluate import Engine
from tests.conftest import FIXTURES
from tests.harness import GOVERNANCE

CASES = Path(__file__).parent / "policy_cases" / "seed.jsonl"
SUITES = [CASES, FIXTURES / "sample-cases.jsonl"]


@pytest.mark.parametrize("suite", SUITES, ids=lambda p: p.name)
def test_every_case_passes(seed_engine: Engine, suite: Path) -> None:
    failures = [
        f"{r.case.id}: expected {r.case.expected}, got {r.decision.would_be} "
        f"({r.decision.rule}: {r.decision.reason})"
        for r in run_cases(seed_engine, load_cases(suite))
        if not r.passed
    ]
    assert failures == []


def test_policy_test_command_judges_every_case_of_the_suite(tmp_path: Path) -> None:
    # The suite is what users run against their own policy: both kinds, in every category.
    cases = [json.loads(line) for line in CASES.read_text().splitlines() if line.strip()]
    kinds = Counter(case["kind"] for case in cases)
    assert kinds["evasion"] >= 100 and kinds["lookalike"] >= 100
    result = subprocess.run(
        [GOVERNANCE, "policy", "test", str(FIXTURES / "seed-policies.json"), str(CASES)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(cases)} passed, 0 failed" in result.stdout
