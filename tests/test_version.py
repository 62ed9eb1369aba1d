"""fupin's version is written once, as ``fupin.__version__``: the package metadata takes it
from there (pyproject.toml's dynamic version), and the run records, the cache key of checked
policies and the web API read the constant, not the installed metadata (issue 17: reading
it cost every start-up 30–40 ms)."""
from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import fupin
from fupin.engine.reports.identity import fupin_version

ROOT = Path(__file__).resolve().parent.parent


def test_pyproject_takes_the_version_from_the_package():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "fupin.__version__"}


def test_the_constant_is_the_installed_version_and_the_records_one():
    assert re.fullmatch(r"\d+\.\d+\.\d+([.+-]\w+)*", fupin.__version__)
    assert fupin_version() == fupin.__version__ == version("fupin")
