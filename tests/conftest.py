"""Shared fixtures: the seed policy exactly as users receive it, and an engine built from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.evaluate import Engine
from engine.policy import load_policy

FIXTURES = Path(__file__).parent / "fixtures"
SEED_POLICY = FIXTURES / "seed-policies.json"


@pytest.fixture(scope="session")
def seed_engine() -> Engine:
    return Engine(load_policy(SEED_POLICY))
