"""Shared fixtures of the engine's tests.

The YAML cases under ``policy/tests/`` and ``tests/fixtures/*/tests/`` are collected by
fupin's pytest plugin (engine/tools/pytest_plugin.py, registered as a ``pytest11``
entry point), not here.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@lru_cache(maxsize=None)
def policy_at(path: str):
    from fupin import load_policy

    return load_policy(path)


@pytest.fixture(scope="session")
def mini():
    """The small fixture policy."""
    return policy_at(str(ROOT / "tests" / "fixtures" / "mini"))


@pytest.fixture(scope="session")
def pack():
    """The real policy pack."""
    return policy_at(str(ROOT / "policy"))
