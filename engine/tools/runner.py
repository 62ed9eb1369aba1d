"""``fupin test``: pytest with the fupin plugin, on a policy's cases only.

The command and a plain ``pytest`` share one runner (engine/tools/pytest_plugin.py);
this module only chooses the arguments: the cases' folder, no Python tests, no
conftest files, no cache, and the coverage report.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest


def cases_path(path: str | Path) -> Path:
    """The folder (or file) of cases for ``fupin test PATH``: PATH/tests if it has one."""
    path = Path(path)
    return path / "tests" if (path / "tests").is_dir() else path


def pytest_args(path, policy_dir=None, min_coverage=None, verbose=False, lang="zh") -> list[str]:
    """The pytest arguments of ``fupin test``."""
    target = cases_path(path)
    args = [str(target), "-p", "no:cacheprovider", "-p", "no:python", "--noconftest",
            "-c", os.devnull, "--rootdir", str(target if target.is_dir() else target.parent),
            "--fupin-coverage", "--fupin-lang", lang, "-v" if verbose else "-q"]
    if policy_dir is not None:
        args += ["--fupin-policy", str(policy_dir)]
    if min_coverage is not None:
        args += ["--fupin-min-coverage", str(min_coverage)]
    return args


def run_cases(path, policy_dir=None, min_coverage=None, verbose=False, lang="zh") -> int:
    """Run the cases; 0 when every case passed and coverage is met, else 1."""
    code = pytest.main(pytest_args(path, policy_dir, min_coverage, verbose, lang))
    return 0 if code == pytest.ExitCode.OK else 1
