"""The wheel installs everything under `fupin/`: no top-level engine, dsl or cli."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_file_list(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps",
                    "-q", "-w", str(tmp_path)], check=True, cwd=tmp_path)
    wheel = next(tmp_path.glob("fupin-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"fupin", next(t for t in tops if t.endswith(".dist-info"))}
    for expected in ("fupin/__init__.py", "fupin/dsl/grammar.lark", "fupin/dsl/parser.py",
                     "fupin/dsl/checker/resolve.py", "fupin/engine/program.py", "fupin/cli/main.py"):
        assert expected in names
    assert not any(n.startswith(("engine/", "dsl/", "cli/", "tests/", "policy/")) for n in names)


def test_public_api_imports():
    import fupin

    assert callable(fupin.load_policy)
    assert fupin.FupinError.__name__ == "FupinError"
