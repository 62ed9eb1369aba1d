"""Shared fixtures of the engine's tests.

The YAML cases under ``policy/tests/`` and ``tests/fixtures/*/tests/`` are collected by
fupin's pytest plugin (engine/tools/pytest_plugin.py, registered as a ``pytest11``
entry point), not here.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config):
    """The tests' cache of checked policies (engine/cache.py) is their own: a folder made
    for this session (inherited by the subprocesses they start), never the developer's."""
    config.fupin_cache = tempfile.mkdtemp(prefix="fupin-test-cache-")
    os.environ["FUPIN_CACHE_DIR"] = config.fupin_cache
    os.environ.pop("FUPIN_NO_CACHE", None)


def pytest_unconfigure(config):
    """Remove the session's cache folder (made by :func:`pytest_configure`)."""
    shutil.rmtree(getattr(config, "fupin_cache", ""), ignore_errors=True)


@lru_cache(maxsize=None)
def as_installed(text: str) -> str:
    """Expected explanation text of the *pack* as this checkout renders it. The pack's
    documents live beside the repository (``../shared/seeds``, policy/documents.yaml); in a
    clone without them a cited line is not quoted and its citation stands alone (the
    renderer's fallback, docs/explanations.md), so the golden's quotes ``「…」`` are
    dropped. (The test fixtures ship their own documents: not for them.)"""
    import re

    if (Path(__file__).resolve().parent.parent.parent / "shared" / "seeds").is_dir():
        return text
    return re.sub(r"「[^」]*」", "", text)


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


def generated_parquet(folder: Path, n: int, seed: int) -> Path:
    """``fupin generate N`` households (5 % malformed) into ``folder/households.parquet``."""
    from click.testing import CliRunner

    from fupin.cli.main import main

    out = folder / "households.parquet"
    r = CliRunner().invoke(main, ["generate", str(n), "-o", str(out), "--malformed-rate", "0.05", "--seed", str(seed)])
    assert r.exit_code == 0, r.output
    return out
