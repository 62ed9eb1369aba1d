"""fupin's own words for what libraries report, and hints for the common slips.

PyYAML and pydantic explain problems in English prose of their own; a policy officer
reads fupin's catalogue in zh-CN or en only. This module turns a PyYAML problem and a
pydantic error type into a :class:`~fupin.dsl.errors.Bilingual` detail, and finds the
slips people make most often when writing rules in Chinese: full-width punctuation
(``：（），``), tabs, and comparisons in words (``小于 80`` for ``< 80``).
"""
from __future__ import annotations

import re

from .errors import Bilingual

# Full-width characters an input method types in place of the ASCII ones YAML and the
# expression language read.
FULL_WIDTH = {"：": ":", "（": "(", "）": ")", "，": ",", "；": ";", "“": '"', "”": '"', "＜": "<", "＞": ">",
              "＝": "=", "［": "[", "］": "]", "｛": "{", "｝": "}", "－": "-", "＋": "+", "　": " "}

# Comparisons written in words, longest first (不小于 before 小于).
WORDS = (("不小于", ">="), ("不低于", ">="), ("不少于", ">="), ("不大于", "<="), ("不高于", "<="), ("不超过", "<="),
         ("不多于", "<="), ("大于等于", ">="), ("小于等于", "<="), ("大于", ">"), ("小于", "<"), ("低于", "<"),
         ("高于", ">"), ("超过", ">"), ("不足", "<"), ("不满", "<"), ("等于", "=="), ("以上", ">="), ("以下", "<="))


def text_slip(text: str) -> Bilingual | None:
    """A hint for the first common slip in ``text`` (an expression, a cell or a YAML
    line), or None."""
    for ch in text:
        if ch in FULL_WIDTH:
            ascii_ = FULL_WIDTH[ch]
            shown = "全角空格" if ch == "　" else ch
            return Bilingual(f"“{shown}”是全角字符，改为半角 `{ascii_}`（切换到英文输入法）",
                             f"“{shown}” is a full-width character: write the ASCII `{ascii_}` instead")
    if "\t" in text:
        return Bilingual("YAML 和表达式里不能用制表符（Tab），改用空格", "tabs are not read: indent and separate with spaces")
    for word, op in WORDS:
        if word in text:
            number = re.search(r"\d[\d.]*\s*(?:万元|亿元|元|万|%|％)?", text)
            example = f"{op} {number.group().strip()}" if number else f"{op} …"
            convention = "（以上、以下含本数，见政策的边界约定）" if word in ("以上", "以下") else ""
            return Bilingual(f"比较要用符号写：`{example}`，而不是“{word}”{convention}",
                             f"write the comparison with a symbol: `{example}`, not “{word}”")
    return None


# --- PyYAML problems

_YAML = (
    ("found character '\\t'", "不能用制表符（Tab）缩进", "a tab cannot indent YAML"),
    ("mapping values are not allowed", "此处不能出现 `键: 值`", "a `key: value` is not allowed here"),
    ("could not find expected ':'", "缺少冒号 `:`", "a colon `:` is missing"),
    ("did not find expected key", "缩进不一致：此处应为同级的键", "inconsistent indentation: a key of the same level was expected"),
    ("did not find expected '-' indicator", "缩进不一致：此处应为同级的列表项 `- `", "inconsistent indentation: a list item `- ` was expected"),
    ("expected <block end>", "缩进不一致", "inconsistent indentation"),
    ("found unexpected end of stream", "文件在引号或括号闭合前结束", "the file ends before a quote or bracket is closed"),
    ("found unknown escape character", "双引号字符串中有未知的转义 `\\`", "an unknown escape `\\` in a double-quoted string"),
    ("expected a single document", "一个文件只能有一个 YAML 文档（删去多余的 `---`）", "one YAML document per file (remove the extra `---`)"),
    ("found duplicate anchor", "锚点重复", "an anchor is declared twice"),
    ("found unexpected ':'", "此处不能有冒号；值里含冒号时用引号括起来", "a colon is not allowed here; quote a value that contains one"),
    ("found character", "此处的字符不能开始一个 YAML 值；把值用引号括起来", "this character cannot start a YAML value: quote the value"),
    ("special characters are not allowed", "文件含有不允许的控制字符", "the file holds a control character YAML does not allow"),
    ("control characters are not allowed", "文件含有不允许的控制字符", "the file holds a control character YAML does not allow"),
    ("expected ',' or ']'", "流式列表 `[...]` 中缺少逗号或 `]`", "a comma or `]` is missing in a flow list `[...]`"),
    ("expected ',' or '}'", "流式映射 `{...}` 中缺少逗号或 `}`", "a comma or `}` is missing in a flow mapping `{...}`"),
    ("while scanning an alias", "`*` 开头的值会被读作别名；把值用引号括起来", "a value starting with `*` reads as an alias: quote it"),
    ("while scanning an anchor", "`&` 开头的值会被读作锚点；把值用引号括起来", "a value starting with `&` reads as an anchor: quote it"),
    ("while scanning a directive", "`%` 开头的行会被读作指令；把值用引号括起来", "a line starting with `%` reads as a directive: quote it"),
    ("while scanning a tag", "`!` 开头的值会被读作标签；把值用引号括起来", "a value starting with `!` reads as a tag: quote it"),
)


def yaml_problem(problem: str | None, context: str | None = None, at: str = "") -> Bilingual:
    """PyYAML's problem (and its context) in fupin's words; ``at`` is the character at
    the problem's place (libyaml names a tab only as "a character")."""
    if at == "\t" or "tab character" in (problem or ""):
        return Bilingual("不能用制表符（Tab）缩进", "a tab cannot indent YAML")
    both = f"{context or ''} {problem or ''}"
    for needle, zh, en in _YAML:
        if needle in both:
            return Bilingual(zh, en)
    return Bilingual("此处无法按 YAML 读取", "this cannot be read as YAML")


# --- pydantic error types

_SCHEMA = {
    "missing": ("缺少必填键", "a required key is missing"),
    "extra_forbidden": ("未知的键", "unknown key"),
    "dict_type": ("应为映射（`键: 值`）", "should be a mapping (`key: value`)"),
    "model_type": ("应为映射（`键: 值`）", "should be a mapping (`key: value`)"),
    "model_attributes_type": ("应为映射（`键: 值`）", "should be a mapping (`key: value`)"),
    "list_type": ("应为列表（每项以 `- ` 开头）", "should be a list (each item starts with `- `)"),
    "string_type": ("应为文本", "should be text"),
    "int_type": ("应为整数", "should be an integer"),
    "int_parsing": ("应为整数", "should be an integer"),
    "int_from_float": ("应为整数", "should be an integer"),
    "bool_type": ("应为 true 或 false", "should be true or false"),
    "bool_parsing": ("应为 true 或 false", "should be true or false"),
    "decimal_type": ("应为数字", "should be a number"),
    "decimal_parsing": ("应为数字", "should be a number"),
    "float_type": ("应为数字", "should be a number"),
    "float_parsing": ("应为数字", "should be a number"),
    "finite_number": ("应为有限的数字", "should be a finite number"),
}


def schema_problem(err: dict) -> Bilingual:
    """A pydantic error (one item of ``ValidationError.errors()``) in fupin's words."""
    kind = err.get("type", "")
    if kind == "literal_error":
        expected = str(err.get("ctx", {}).get("expected", "")).replace(" or ", ", ")
        return Bilingual(f"应为以下之一：{expected}", f"should be one of: {expected}")
    zh, en = _SCHEMA.get(kind, ("形式不对", "has the wrong form"))
    return Bilingual(zh, en)


__all__ = ["text_slip", "yaml_problem", "schema_problem", "FULL_WIDTH", "WORDS"]
