"""The one runner of YAML policy cases: a pytest plugin (as OpenFisca's YAML tests are).

Registered through the ``pytest11`` entry point, so a plain ``pytest`` collects every
YAML file with a top-level ``cases:`` list that lies under a ``tests/`` folder, one
item per case, and evaluates it against the policy folder that holds that ``tests/``
(``--fupin-policy DIR`` names another). ``fupin test`` runs this same plugin through
``pytest.main`` and asks for the coverage report (``--fupin-coverage``) and its
threshold (``--fupin-min-coverage``).

A malformed case file is a collection error showing its located E813 diagnostics; a
policy that does not load fails each of its cases with the checker's diagnostics.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from .cases import Coverage, load_cases, run_case

_CASES = re.compile(rb"^cases\s*:", re.M)
_STATE = pytest.StashKey["_State"]()


class _State:
    """The run's policies (loaded once per folder) and what their cases covered."""

    def __init__(self, config):
        self.lang = config.getoption("fupin_lang")
        forced = config.getoption("fupin_policy")
        self.forced = Path(forced).resolve() if forced else None
        self.policies: dict[Path, object] = {}
        self.coverage: dict[Path, Coverage] = {}

    def policy_dir(self, case_file: Path) -> Path | None:
        if self.forced is not None:
            return self.forced
        for folder in case_file.resolve().parents:
            if folder.name == "tests":
                return folder.parent
        return None

    def policy(self, folder: Path):
        """The loaded policy, or the FupinError that loading it raised (kept, re-raised per case)."""
        if folder not in self.policies:
            from ... import FupinError, load_policy

            try:
                self.policies[folder] = load_policy(folder)
            except FupinError as exc:
                self.policies[folder] = exc
        return self.policies[folder]


def pytest_addoption(parser):
    group = parser.getgroup("fupin", "fupin policy cases")
    group.addoption("--fupin-policy", default=None, help="policy folder of the cases (default: the folder holding tests/)")
    group.addoption("--fupin-lang", default="zh", choices=("zh", "en"), help="language of case messages")
    group.addoption("--fupin-coverage", action="store_true", help="report rules, rows and exceptions never exercised")
    group.addoption("--fupin-min-coverage", type=float, default=None, help="fail below this coverage percentage")


def pytest_configure(config):
    config.stash[_STATE] = _State(config)


def pytest_collect_file(parent, file_path: Path):
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    state = parent.config.stash[_STATE]
    if state.policy_dir(file_path) is None or not _CASES.search(file_path.read_bytes()):
        return None
    return CaseFile.from_parent(parent, path=file_path)


class CaseFile(pytest.File):
    """A YAML file of cases."""

    def collect(self):
        from ...dsl.errors import FupinError, render_all

        state = self.config.stash[_STATE]
        try:
            cases = load_cases(Path(self.path))
        except FupinError as exc:
            raise self.CollectError(render_all(exc.diagnostics, state.lang)) from None
        for case in cases:
            yield CaseItem.from_parent(self, name=f"{case.line}: {case.name}", case=case)


class CaseItem(pytest.Item):
    """One YAML case, judged by :func:`fupin.engine.tools.cases.run_case`."""

    def __init__(self, *, case, **kwargs):
        super().__init__(**kwargs)
        self.case = case

    def runtest(self):
        from ...dsl.errors import FupinError

        state = self.config.stash[_STATE]
        folder = state.policy_dir(Path(self.path))
        policy = state.policy(folder)
        if isinstance(policy, FupinError):
            raise PolicyFailure(policy)
        outcome = run_case(policy, self.case)
        coverage = state.coverage.get(folder)
        if coverage is None:
            coverage = state.coverage[folder] = Coverage(policy)
        coverage.add(outcome.covered)
        if not outcome.ok:
            raise CaseFailure(outcome)

    def repr_failure(self, excinfo):
        err = excinfo.value
        if isinstance(err, CaseFailure):
            out, lang = err.outcome, self.config.stash[_STATE].lang
            return f"{out.case.file}:{out.case.line}: {out.case.name}\n" + "\n".join("  " + f[lang] for f in out.failures)
        if isinstance(err, PolicyFailure):
            from ...dsl.errors import render_all

            return render_all(err.error.diagnostics, self.config.stash[_STATE].lang)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, self.case.line, self.name


class CaseFailure(Exception):
    """A case whose outputs differ from what it expects (``outcome.failures`` says how)."""

    def __init__(self, outcome):
        super().__init__(outcome.case.name)
        self.outcome = outcome


class PolicyFailure(Exception):
    """The cases' policy does not load; ``error`` holds the checker's diagnostics."""

    def __init__(self, error):
        super().__init__(error.code)
        self.error = error


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    config = session.config
    minimum = config.getoption("fupin_min_coverage")
    if minimum is None:
        return
    for coverage in config.stash[_STATE].coverage.values():
        if coverage.percent + 1e-9 < minimum and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not (config.getoption("fupin_coverage") or config.getoption("fupin_min_coverage") is not None):
        return
    state = config.stash[_STATE]
    write = terminalreporter.write_line
    for folder, coverage in sorted(state.coverage.items()):
        if len(state.coverage) > 1:
            write(f"{folder}:")
        for line in coverage.report(state.lang):
            write(line)
    minimum = config.getoption("fupin_min_coverage")
    for coverage in state.coverage.values():
        if minimum is not None and coverage.percent + 1e-9 < minimum:
            write(("覆盖率低于 " if state.lang == "zh" else "coverage below ") + f"{minimum:g}%")
    stats = terminalreporter.stats
    cases = [r for key in ("passed", "failed") for r in stats.get(key, ()) if r.when == "call"
             and isinstance(r.location, tuple) and str(r.nodeid).split("::")[0].endswith((".yaml", ".yml"))]
    passed = sum(1 for r in cases if r.passed)
    write(f"通过 {passed} 个，失败 {len(cases) - passed} 个" if state.lang == "zh" else
          f"{passed} passed, {len(cases) - passed} failed")
