"""Explanations: entities found by their declared key; English without CJK punctuation."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from fupin import load_policy
from fupin.cli.main import main
from fupin.engine.tools.cases import load_cases

ROOT = Path(__file__).resolve().parent.parent
CJK_PUNCTUATION = re.compile(r"[\u3000-\u303f\uff00-\uffef]")

KEYED = """\
documents:
  D: {title: {zh: 文件, en: document}}
entities:
  household:
    labels: {zh: 农户, en: household}
    key: code
    fields:
      code: {type: string, required: true, labels: {zh: 户码, en: household code}}
      income: {type: money, labels: {zh: 收入, en: income}}
entity: household
rules:
  low:
    type: bool
    labels: {zh: 低收入, en: low income}
    source: "D:1"
    expr: income < 5000元
defaults: {on: 2020-06-30}
"""


@pytest.fixture
def keyed(tmp_path):
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy" / "policy.yaml").write_text(KEYED, encoding="utf-8")
    facts = tmp_path / "facts.yaml"
    facts.write_text("- {code: K1, income: 9000}\n- {code: K2, income: 4000}\n", encoding="utf-8")
    return str(tmp_path / "policy"), str(facts)


def test_key_of_reads_the_declared_key(keyed):
    policy = load_policy(keyed[0])
    assert policy.key_of({"code": "K2", "id": "X"}) == "K2"
    assert policy.key_of({"code": 7}) == "7"
    assert policy.key_of({"id": "X"}) is None
    assert policy.key_of("not an object") is None
    assert policy.evaluate({"code": "K2", "income": 4000}).id == "K2"


def test_explain_id_uses_the_declared_key(keyed):
    res = CliRunner().invoke(main, ["explain", *keyed, "--output", "low", "--id", "K2", "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[0] == "low income (low) = yes"
    assert "household K2 ·" in res.output  # the entity's label (issue 12: no English word in place of a label)


def _english_explanations(policy, cases):
    for case in cases:
        try:
            result = policy.evaluate(case.facts, on=case.on, variant=case.variant, entity=case.entity, trace=True)
        except Exception:  # invalid facts: nothing to explain
            continue
        for output in result.values:
            yield case, output, result.explain(output, lang="en")


def test_english_explanations_have_no_cjk_punctuation(mini):
    # Every output of every mini case: rows, several rows, exceptions (base and variant),
    # unknowns, errors, parameters. The mini policy's English labels have no CJK text.
    seen = 0
    for case, output, text in _english_explanations(mini, load_cases(ROOT / "tests/fixtures/mini/tests")):
        seen += 1
        bad = [line for line in text.splitlines() if CJK_PUNCTUATION.search(line)]
        assert not bad, (case.name, output, bad)
    assert seen > 100


def test_a_fully_traced_result_explains_like_a_fresh_evaluation(pack):
    """Result.explain reads only its own trace: where every output was traced, a rule used
    again shows as cached and its reasons are brought back from where it was computed."""
    from fupin.engine.facts.read import FactsFile

    ffile = FactsFile(str(Path(__file__).resolve().parent.parent / "examples" / "households.yaml"))
    checked = 0
    for raw, _ in ffile.items[:12]:
        result = pack.evaluate(raw, trace=True)
        for output in result.values:
            assert result.explain(output, lang="en") == pack.explain(raw, output, lang="en"), output
            checked += 1
    assert checked > 100


@pytest.mark.parametrize("lang, first", [
    ("zh", "监测等级（monitoring_tier） = 未知，可能为 红色、黄色、绿色"),
    ("en", "monitoring tier (monitoring_tier) = unknown; possibly red, yellow, green"),
])
def test_possible_values_read_with_their_labels(pack, lang, first):
    facts = {"id": "U1", "registered": True, "status": "exited", "food_secure": True, "clothing_secure": True,
             "water_safe": True, "housing_grade": "A", "members": []}
    assert pack.explain(facts, "monitoring_tier", lang=lang).splitlines()[0] == first


def test_a_cited_line_is_quoted_only_where_the_document_is_at_hand(tmp_path):
    """The mini policy ships its document: the zh explanation quotes line 78. Without the
    file (an installation without the sources) the citation stands alone; English never
    quotes the Chinese text, it names the document's title."""
    import shutil

    copy = tmp_path / "mini"
    shutil.copytree(ROOT / "tests" / "fixtures" / "mini", copy)
    facts = {"id": "Q", "status": "exited", "income_per_capita": 4000, "risk_event": False}
    with_doc = load_policy(copy).explain(facts, "tier")
    assert "    001:78「第 78 行：测试用占位文本（非原文）。」" in with_doc.splitlines()
    (copy / "doc001.txt").unlink()
    without = load_policy(copy).explain(facts, "tier")
    assert "    001:78" in without.splitlines() and "「" not in without
    english = load_policy(copy).explain(facts, "tier", lang="en")
    assert "  source: 001:78" in english.splitlines() and "    001: test document" in english.splitlines()
