"""W908: a name with a character no one can see (a line break, a tab, a zero-width space
copied from a document) is reported where it is written, and every message prints such
characters as escapes, so a diagnostic stays one line whose every character shows."""
from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings, strategies as st

from fupin import load_policy
from fupin.dsl.errors import FupinError, Span, error, unseen, visible

from checkercases import PackCopy

# (file, text as written, the same with an unseen character, the zh and en message lines)
CASES = [
    ("household/monitoring.yaml", "- id: 未脱贫户", '- id: "未脱\\n贫户"',
     "warning[W908]: 表格行 `未脱\\n贫户` 含看不见的字符（U+000A）",
     "warning[W908]: table row `未脱\\n贫户` contains characters no one can see (U+000A)"),
    ("household/monitoring.yaml", "- id: 监测户边缘户", '- id: "监测户\\u200b边缘户"',
     "warning[W908]: 表格行 `监测户\\u200b边缘户` 含看不见的字符（U+200B）",
     "warning[W908]: table row `监测户\\u200b边缘户` contains characters no one can see (U+200B)"),
    ("household/targeting.yaml", "- id: 低保特困户剔除", '- id: "低保特困户\\t剔除"',
     "warning[W908]: 例外 `低保特困户\\t剔除` 含看不见的字符（U+0009）",
     "warning[W908]: exception `低保特困户\\t剔除` contains characters no one can see (U+0009)"),
    ("variants/anhui-2020.yaml", "variant: anhui-2020", 'variant: "anhui\\u00ad2020"',
     "warning[W908]: 变体 `anhui\\u00ad2020` 含看不见的字符（U+00AD）",
     "warning[W908]: variant `anhui\\u00ad2020` contains characters no one can see (U+00AD)"),
    ("entities.yaml", "      poor:      {zh: 未脱贫", '      "poor\\u2028":      {zh: 未脱贫',
     "warning[W908]: 枚举值 `poor\\u2028` 含看不见的字符（U+2028）",
     "warning[W908]: enum value `poor\\u2028` contains characters no one can see (U+2028)"),
    ("entities.yaml", "      labor: {type: labor_capacity", '      "lab\\x1bor": {type: labor_capacity',
     "warning[W908]: 字段 `lab\\u001bor` 含看不见的字符（U+001B）",
     "warning[W908]: field `lab\\u001bor` contains characters no one can see (U+001B)"),
    ("household/monitoring.yaml", "  monitoring_assessment_deadline:", '  "monitoring_assessment_deadline\\u200b":',
     "warning[W908]: 参数 `monitoring_assessment_deadline\\u200b` 含看不见的字符（U+200B）",
     "warning[W908]: parameter `monitoring_assessment_deadline\\u200b` contains characters no one can see (U+200B)"),
]


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    return PackCopy(tmp_path_factory.mktemp("unseen"))


@pytest.mark.parametrize("file,plain,hidden,zh,en", CASES, ids=[c[2] for c in CASES])
def test_an_unseen_character_is_reported_on_one_line(pack, file, plain, hidden, zh, en):
    original = pack.original(file)
    assert plain in original
    diags = pack.check(file, original.replace(plain, hidden, 1))
    found = [d for d in diags if d.code == "W908"]
    assert len(found) == 1, [d.render("en") for d in diags]
    d = found[0]
    assert d.span.file.endswith(file)
    assert d.render("zh").splitlines()[0].endswith(zh)
    assert d.render("en").splitlines()[0].endswith(en)
    assert d.hint("zh").startswith("名称应是一行可见文字")
    assert d.hint("en").startswith("a name should be one line of visible text")


def test_the_pack_has_no_unseen_name(pack):
    assert not [d for d in pack.check("entities.yaml", pack.original("entities.yaml")) if d.code == "W908"]


def test_an_unknown_variant_lists_the_choices_on_one_line(pack):
    file = "variants/anhui-2020.yaml"
    original = pack.original(file)
    (pack.folder / file).write_text(original.replace("variant: anhui-2020", 'variant: "anhui\\n2020"', 1),
                                    encoding="utf-8")
    try:
        with pytest.raises(FupinError) as caught:
            load_policy(pack.folder).program("anhui-2020")
    finally:
        (pack.folder / file).write_text(original, encoding="utf-8")
    d = caught.value.diagnostics[0]
    assert d.code == "E812"
    assert "anhui\\n2020" in d.hint("en") and "\n" not in d.hint("en")


# A fact's text reaches messages as well (an id, a column name): a terminal escape in it
# must not drive the terminal that prints the diagnostic.
@pytest.mark.parametrize("name,shown", [
    ("户\n1", "户\\n1"), ("\x1b[2J户", "\\u001b[2J户"), ("a\r\tb", "a\\r\\tb"), ("户　1", "户　1"), ("正常", "正常"),
])
def test_message_arguments_are_shown_escaped(name, shown):
    d = error("E815", Span("<facts>", 1, 1), entity="household", id=name, path="x", guess="")
    assert d.message("en") == f"household `{shown}`: field `x` is not declared by the entity"
    assert len(d.render("zh").splitlines()) == 1 + (d.hint("zh") is not None)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_visible_leaves_nothing_unseen(text):
    shown = visible(text)
    assert not [c for c in shown if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")]
    assert (shown == text) == (not unseen(text))
