"""Collect YAML test cases as pytest items (as OpenFisca does for its YAML tests).

Every ``cases:`` file under ``policy/tests/`` and ``tests/fixtures/*/tests/`` becomes
one pytest item per case, run through the same runner as ``fupin test``.
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


def _policy_dir(case_file: Path) -> Path | None:
    tests_dir = case_file.parent
    while tests_dir.name != "tests" and tests_dir != ROOT:
        tests_dir = tests_dir.parent
    return tests_dir.parent if tests_dir.name == "tests" else None


def pytest_collect_file(parent, file_path: Path):
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    rel = file_path.resolve().relative_to(ROOT) if file_path.resolve().is_relative_to(ROOT) else None
    if rel is None:
        return None
    parts = rel.parts
    if parts[:2] == ("policy", "tests") or (parts[:2] == ("tests", "fixtures") and "tests" in parts[3:]):
        return CaseFile.from_parent(parent, path=file_path)
    return None


class CaseFile(pytest.File):
    """A YAML file of cases."""

    def collect(self):
        from fupin.engine.tools.cases import load_cases

        for case in load_cases(Path(self.path)):
            yield CaseItem.from_parent(self, name=f"{case.line}: {case.name}", case=case)


class CaseItem(pytest.Item):
    """One YAML case."""

    def __init__(self, *, case, **kwargs):
        super().__init__(**kwargs)
        self.case = case

    def runtest(self):
        from fupin.engine.tools.cases import run_case

        policy = policy_at(str(_policy_dir(Path(self.path))))
        outcome = run_case(policy, self.case)
        if not outcome.ok:
            raise CaseFailure(outcome)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, CaseFailure):
            out = excinfo.value.outcome
            return f"{out.case.file}:{out.case.line}: {out.case.name}\n" + "\n".join("  " + f for f in out.failures)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, self.case.line, self.name


class CaseFailure(Exception):
    def __init__(self, outcome):
        super().__init__(outcome.case.name)
        self.outcome = outcome


@pytest.fixture(scope="session")
def mini():
    """The small fixture policy."""
    return policy_at(str(ROOT / "tests" / "fixtures" / "mini"))


@pytest.fixture(scope="session")
def pack():
    """The real policy pack."""
    return policy_at(str(ROOT / "policy"))
