"""The policy case suites: evasions a regex misses and look-alikes a regex wrongly blocks,
each judged against the seed policy exactly as `governance policy test` does."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from engine.cases import load_cases, run_cases
from engine.evaluate import Engine
from tests.conftest import FIXTURES

CASES = Path(__file__).parent / "policy_cases" / "seed.jsonl"
SUITES = [CASES, FIXTURES / "sample-cases.jsonl", CASES.parent / "intents.jsonl"]


@pytest.mark.parametrize("suite", SUITES, ids=lambda p: p.name)
def test_every_case_passes(seed_engine: Engine, suite: Path) -> None:
    failures = [
        f"{r.case.id}: expected {r.case.expected}, got {r.decision.would_be} "
        f"({r.decision.rule}: {r.decision.reason})"
        for r in run_cases(seed_engine, load_cases(suite))
        if not r.passed
    ]
    assert failures == []


def test_the_suite_is_broad_and_balanced() -> None:
    cases = [json.loads(line) for line in CASES.read_text().splitlines() if line.strip()]
    kinds = Counter(case["kind"] for case in cases)
    categories = Counter(case["category"] for case in cases)
    assert len(cases) >= 200
    assert kinds["evasion"] >= 100 and kinds["lookalike"] >= 100
    assert min(categories.values()) >= 15
    assert len({case["id"] for case in cases}) == len(cases)
