"""The scalar path stays light: checking a pack, evaluating and explaining a household
load neither numpy, pyarrow nor the web stack (issue 17: `import fupin` < 0.3 s, check +
compile < 0.2 s; benchmarks/check_compile.py measures them). A module that imports one of
them at its top, on this path, fails here rather than slowing every `fupin check`."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("numpy", "pyarrow", "pandas", "fastapi", "dask")

SCRIPT = """
import json, sys, yaml
from fupin import load_policy
policy = load_policy(sys.argv[1])
household = yaml.safe_load(open(sys.argv[2], encoding="utf-8"))[0]
policy.evaluate(household)
policy.explain(household, "monitoring_tier")
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in sys.argv[3].split(","))))
"""


def test_check_evaluate_and_explain_import_no_heavy_library():
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(ROOT / "policy"), str(ROOT / "examples" / "households.yaml"),
                          ",".join(HEAVY)], capture_output=True, text=True, check=True, cwd=ROOT)
    assert json.loads(out.stdout) == []


def test_fupin_check_imports_no_heavy_library():
    script = ("import sys, json\nfrom click.testing import CliRunner\nfrom fupin.cli.main import main\n"
              "r = CliRunner().invoke(main, ['check', sys.argv[1]])\n"
              "print(json.dumps([r.exit_code, r.output.splitlines()[-1],"
              " sorted(m for m in sys.modules if m.split('.')[0] in sys.argv[2].split(','))]))")
    out = subprocess.run([sys.executable, "-c", script, str(ROOT / "policy"), ",".join(HEAVY)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    code, last, heavy = json.loads(out.stdout)
    assert (code, heavy) == (0, []) and last.startswith("0 个错误"), last
