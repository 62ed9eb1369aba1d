"""The wheel installs everything under `fupin/`: no top-level engine, dsl or cli."""
from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_file_list(tmp_path):
    # Built from a clean copy: pip builds in the source tree, and a build/ left there by an
    # earlier build would put files into the wheel that the current layout no longer has.
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__",
                                                                 "data", "out", ".hypothesis", ".pytest_cache"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps",
                    "-q", "-w", str(tmp_path)], check=True, cwd=tmp_path)
    wheel = next(tmp_path.glob("fupin-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"fupin", next(t for t in tops if t.endswith(".dist-info"))}
    # Every module of the stage folders ships (a package missing from pyproject.toml's
    # list would leave its folder out of the wheel while an editable install still works).
    sources = [p.relative_to(ROOT).as_posix() for folder in ("dsl", "engine", "cli", "web") for p in (ROOT / folder).rglob("*.py")]
    missing = sorted(f for f in ["__init__.py", "dsl/grammar.lark", *sources] if f"fupin/{f}" not in names)
    assert not missing
    assert not any(n.startswith(("engine/", "dsl/", "cli/", "tests/", "policy/")) for n in names)


def test_public_api_imports():
    import fupin

    assert callable(fupin.load_policy)
    assert fupin.FupinError.__name__ == "FupinError"
