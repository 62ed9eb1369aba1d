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
# imported by the calls that use them (engine/api.py, scalar/program.py): pydantic models, the
# what-if search and the code generators, which loading a policy, a first evaluation and
# `fupin batch` never need
ON_DEMAND = ("fupin.engine.reports.record", "fupin.engine.reports.result", "fupin.engine.reports.whatif",
             "fupin.engine.reports.reasons", "fupin.engine.scalar.codegen", "fupin.engine.scalar.tracegen")
# also spared by `fupin batch` (session 15): the trace's pydantic models, built only when a
# trace is read (reports/trace.py imports tracemodel.py on first use), the modules of the
# other commands (cli/main.py imports a command's module when it is run or listed), and
# those of CSV input and of worker processes (source.py, pipeline.py import them when used)
BATCH_SPARED = ON_DEMAND + ("fupin.engine.reports.tracemodel", "fupin.cli.serve", "fupin.cli.diff",
                            "fupin.cli.generate", "fupin.cli.compile",
                            # a Parquet input in one process: no CSV reader, no worker processes
                            "fupin.engine.batch.csvjoin", "fupin.engine.batch.workers", "multiprocessing")

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


BATCH = """
import json, sys
from click.testing import CliRunner
from fupin.cli.main import main
r = CliRunner().invoke(main, ["batch", sys.argv[1], sys.argv[2], "-o", sys.argv[3], "--lang", "en"])
print(json.dumps([r.exit_code, r.output.splitlines()[-1], "pandas" in sys.modules,
                  sorted(m for m in sys.modules if m in sys.argv[4].split(","))]))
"""


def test_local_batch_spares_pandas_and_pyarrow_still_converts_it(tmp_path):
    """`fupin batch` (local) does not import pandas, which pyarrow would load (0.15–0.2 s) on its
    first array conversion only to ask whether an array is a pandas one (readers.spare_pandas);
    the rows are still all accounted for, and pyarrow converts pandas afterwards when asked."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    member = pa.struct([("age", pa.int64())])
    pq.write_table(pa.table({"id": ["H1", "H2"], "registered": [True, True], "status": ["poor", "bogus"],
                             "income_per_capita": pa.array([3000, 4500], pa.decimal128(14, 2)),
                             "members": pa.array([[{"age": 30}], []], pa.list_(member))}), tmp_path / "in.parquet")
    out = subprocess.run([sys.executable, "-c", BATCH, str(ROOT / "benchmarks" / "small_policy"),
                          str(tmp_path / "in.parquet"), str(tmp_path / "out.parquet"), ",".join(BATCH_SPARED)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    code, last, pandas_loaded, on_demand = json.loads(out.stdout)
    assert (code, last, pandas_loaded, on_demand) == (0, "rows in 2 = rows out 1 + rows quarantined 1", False, [])
    assert pq.read_table(tmp_path / "out.parquet").column("id").to_pylist() == ["H1"]
    after = ("import pandas as pd, pyarrow as pa\nfrom fupin.engine.batch import spare_pandas\nspare_pandas()\n"
             "print(pa.Table.from_pandas(pd.DataFrame({'a': [1]})).num_rows, pa.array(pd.Series([7])).to_pylist())")
    assert subprocess.run([sys.executable, "-c", after], capture_output=True, text=True, check=True,
                          cwd=ROOT).stdout.split() == ["1", "[7]"]


LOAD = """
import json, sys
from fupin import load_policy
policy = load_policy(sys.argv[1])
policy.program()
before = sorted(m for m in sys.modules if m in sys.argv[2].split(","))
result = policy.evaluate({"id": "H1", "registered": True, "status": "poor", "income_per_capita": 3000, "members": []})
print(json.dumps([before, sorted(m for m in sys.modules if m in sys.argv[2].split(",")), result.record.decision_id[:2]]))
"""


def test_loading_a_policy_leaves_the_record_models_and_what_if_for_later():
    """Loading and compiling import none of the on-demand modules; the first evaluation
    imports those it needs (record, result, reasons) and still carries its record."""
    out = subprocess.run([sys.executable, "-c", LOAD, str(ROOT / "benchmarks" / "small_policy"), ",".join(ON_DEMAND)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    before, after, prefix = json.loads(out.stdout)
    assert (before, prefix) == ([], "d-")
    assert after == ["fupin.engine.reports.reasons", "fupin.engine.reports.record", "fupin.engine.reports.result"]


def test_loading_and_compiling_build_no_trace_model():
    """The trace's pydantic models wait for a trace: loading and compiling a policy do not
    import tracemodel.py; a traced evaluation does, and its trace reads as before."""
    script = LOAD.replace("print(json.dumps([before,", "t = policy.evaluate({'id': 'H2', 'registered': True, 'status': 'poor', "
                          "'income_per_capita': 3000, 'members': []}, trace=True).trace\nprint(json.dumps([before, "
                          "type(t).__name__, t.schema_,")
    out = subprocess.run([sys.executable, "-c", script, str(ROOT / "benchmarks" / "small_policy"),
                          "fupin.engine.reports.tracemodel"], capture_output=True, text=True, check=True, cwd=ROOT)
    before, kind, schema, after, prefix = json.loads(out.stdout)
    assert (before, kind, schema, after, prefix) == ([], "Trace", "fupin.trace/1", ["fupin.engine.reports.tracemodel"], "d-")


def test_cli_commands_listed_and_run_from_their_modules():
    """`fupin --help` lists every command, those imported on demand included."""
    from click.testing import CliRunner

    from fupin.cli.main import main

    out = CliRunner().invoke(main, ["--help"]).output
    assert [line.split()[0] for line in out.split("Commands:")[1].strip().splitlines()] == \
        ["batch", "cache", "check", "compile", "diff", "eval", "explain", "generate", "schema", "serve", "test"]
    assert CliRunner().invoke(main, ["compile", "--help"]).exit_code == 0


# what checking a policy needs and a policy read from the cache of checked policies
# (engine/cache.py) does not: the YAML parser, the schema's pydantic models, the expression
# parser (Lark's or the hand-written one) and the checker's stages
CHECKING = ("pydantic", "yaml", "lark", "fupin.dsl.model", "fupin.dsl.loader", "fupin.dsl.yamlsrc", "fupin.dsl.parser",
            "fupin.dsl.ast", "fupin.dsl.checker.views", "fupin.dsl.checker.stages", "fupin.dsl.checker.tables")
# what no cached batch imports, checking or not: fupin's version is a constant (fupin.__version__),
# not the installed package's metadata (session 17: 30–40 ms of every start-up); pydantic,
# when checking, imports importlib.metadata itself
CACHED_SPARED = ("importlib.metadata",)


def test_a_cached_batch_imports_neither_pydantic_yaml_lark_nor_the_checker(tmp_path):
    """`fupin batch` of a Parquet file twice: the first run checks the policy (and imports what
    checking needs), the second reads it from the cache and imports none of it, and writes the
    same file."""
    import os

    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"id": ["H1"], "registered": [True], "status": ["poor"],
                             "income_per_capita": pa.array([3000], pa.decimal128(14, 2)),
                             "members": pa.array([[]], pa.list_(pa.struct([("age", pa.int64())])))}),
                   tmp_path / "in.parquet")
    env = dict(os.environ, FUPIN_CACHE_DIR=str(tmp_path / "cache"))
    runs = []
    for n in range(2):
        out = subprocess.run([sys.executable, "-c", BATCH, str(ROOT / "benchmarks" / "small_policy"),
                              str(tmp_path / "in.parquet"), str(tmp_path / f"out{n}.parquet"),
                              ",".join(CHECKING + CACHED_SPARED)],
                             capture_output=True, text=True, check=True, cwd=ROOT, env=env)
        runs.append(json.loads(out.stdout))
    assert [run[:2] for run in runs] == [[0, "rows in 1 = rows out 1 + rows quarantined 0"]] * 2
    assert set(runs[0][3]) - set(CACHED_SPARED) == set(CHECKING) - {"lark"} and runs[1][3] == []  # Lark: only for what fastparse leaves
    assert (tmp_path / "out0.parquet").read_bytes() == (tmp_path / "out1.parquet").read_bytes()


ENTRY = """
import atexit, gc, sys
from fupin.cli.main import main
from click.testing import CliRunner
CliRunner().invoke(main, ["check", sys.argv[1]])
print("runner", gc.get_freeze_count(), flush=True)  # a test's runner never freezes its process
atexit.register(lambda: print("at exit", gc.get_freeze_count() > 0, flush=True))
main(["check", sys.argv[1]] + sys.argv[2:])
"""


def test_the_process_entry_spares_the_teardown_collections_and_keeps_exit_codes():
    """The `fupin` script's entry moves every object out of the cyclic collector's reach when
    the command is done (gc.freeze: the interpreter's teardown skips its full collections,
    40–100 ms of a batch run); CliRunner, as in these tests, goes around it; the command's
    output and exit code are as before, a failing one included."""
    runs = [subprocess.run([sys.executable, "-c", ENTRY, str(ROOT / path), *extra], capture_output=True, text=True,
                           cwd=ROOT) for path, extra in (("policy", []), ("no-such-folder", ["--lang", "en"]))]
    assert [r.returncode for r in runs] == [0, 1]
    assert runs[0].stdout.splitlines()[0] == "runner 0" and runs[0].stdout.splitlines()[-1] == "at exit True"
    assert "0 个错误" in runs[0].stdout
    assert runs[1].stdout.splitlines()[-1] == "at exit True" and "error[" in runs[1].stdout + runs[1].stderr
