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


def test_fupin_version_prints_the_constant_not_the_metadata():
    """``fupin --version`` says what the run records say, even where the installed
    metadata is stale (an edited constant not yet reinstalled): here the metadata is made
    to answer another version, and the constant is printed (click's package_name= read
    the metadata)."""
    import subprocess
    import sys

    code = ("import importlib.metadata as m; m.version = lambda name: '0.0.0-stale'; "
            "from fupin.cli.main import main; main(['--version'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout == f"fupin, version {fupin.__version__}\n", out.stderr
