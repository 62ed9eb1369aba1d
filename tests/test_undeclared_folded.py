"""An input with many columns the policy does not declare: on screen the W906 lines with a
did-you-mean and the first five others, the rest folded into one W909 naming twelve; the
report keeps one W906 per column and the run record lists every column ignored."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from fupin.cli.main import main
from fupin.dsl.errors import Span, error
from fupin.engine.facts.names import folded

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "benchmarks" / "small_policy"
EXTRA = [f"col{i:02d}" for i in range(20)]  # far from every declared name: no did-you-mean


@pytest.fixture
def wide(tmp_path):
    member = pa.struct([("age", pa.int64())])
    columns = {"id": ["H1"], "registered": [True], "status": ["poor"],
               "income_per_capita": pa.array([3000], pa.decimal128(14, 2)),
               "members": pa.array([[{"age": 30}]], pa.list_(member)),
               "registerd": [True]}  # a typo: its did-you-mean always shows
    columns.update({name: [1] for name in EXTRA})
    pq.write_table(pa.table(columns), tmp_path / "wide.parquet")
    return tmp_path / "wide.parquet"


@pytest.mark.parametrize("lang, folded_line", [
    ("zh", "warning[W909]: 农户 `*`：另有 15 个字段未在实体中声明，已忽略：" + "、".join(EXTRA[5:17]) + "……"),
    ("en", "warning[W909]: household `*`: 15 more fields are not declared by the entity; ignored: "
           + ", ".join(EXTRA[5:17]) + ", …"),
])
def test_the_screen_folds_what_the_record_lists(wide, tmp_path, lang, folded_line):
    res = CliRunner().invoke(main, ["batch", str(SMALL), str(wide), "-o", str(tmp_path / "out.parquet"), "--lang", lang])
    assert res.exit_code == 0, res.output
    warnings = [line for line in res.stderr.splitlines() if line.startswith("warning[")]
    assert len(warnings) == 1 + 5 + 1
    assert "`registerd`" in warnings[0] and ("registered" in warnings[0])
    assert [w.split("`")[3] for w in warnings[1:6]] == EXTRA[:5]
    assert warnings[-1] == folded_line
    record = json.loads((tmp_path / "out.record.json").read_text(encoding="utf-8"))
    assert record["ignored_columns"] == ["registerd", *EXTRA]


def w906(path, guess=""):
    return error("W906", Span("<facts>", 0, 0), entity={"zh": "农户", "en": "household"}, id="*", path=path, guess=guess)


@pytest.mark.parametrize("count, shown", [(0, 0), (5, 5), (6, 6), (7, 6), (30, 6)])
def test_five_are_shown_and_a_single_sixth_is_never_folded(count, shown):
    """A W909 only when it saves lines: the sixth alone stays a W906."""
    out = folded([w906(f"c{i}") for i in range(count)])
    assert len(out) == shown
    assert [d.code for d in out].count("W909") == (1 if count > 6 else 0)
    if count > 6:
        assert out[-1].args["count"] == count - 5
