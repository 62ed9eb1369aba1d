"""Chinese output speaks Chinese: every zh output of the CLI over examples/ (eval as text,
explain with what-if and the full reasoning, the HTML page) and every output's explanation
through the API, scanned for ASCII words that are not identifiers (the pack's names,
the entities' keys), diagnostic codes or numbers. Expressions in backticks (the policy's
own text) and lines quoted from the source documents (「…」) are the policy's words and
are left out."""
from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from fupin.cli.main import main
from fupin.engine.facts.read import FactsFile

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
WORD = re.compile(r"(?<![-\w])[A-Za-z][A-Za-z0-9_]*")
QUOTED = re.compile(r"`[^`\n]*`|「[^」\n]*」|--[a-z-]+")
MARKUP = re.compile(r"<style>.*?</style>|<[^>]*>", flags=re.S)
CODE = re.compile(r"^[EW]\d{3}$")


def allowed(policy) -> set:
    """The pack's names, its entities' keys in the examples, and the product's name."""
    names = {"fupin"} | set(policy.variants)
    for name in policy.variants:
        c = policy.program(name).checked
        names |= set(c.rules) | set(c.params) | set(c.entities) | set(c.enums) | set(c.documents)
        names |= {f for e in c.entities.values() for f in e.fields} | {v for en in c.enums.values() for v in en.values}
    for path in ("households.yaml", "villages.yaml"):
        for raw, _ in FactsFile(str(EXAMPLES / path)).items:
            names |= {str(raw.get("id"))} | {str(h.get("id")) for h in raw.get("households", []) or []}
    return names


def stray(text: str, names: set) -> list:
    """ASCII words of ``text`` that are not identifiers, codes or numbers."""
    if text.lstrip().startswith("<!DOCTYPE html>"):  # a page: its text, code as code
        text = html.unescape(MARKUP.sub(" ", re.sub(r"</?code>", "`", text)))
    text = "\n".join(QUOTED.sub(" ", line) for line in text.splitlines())
    return sorted({w for w in WORD.findall(text) if w not in names and not CODE.match(w)})


@pytest.fixture(scope="module")
def names(pack):
    return allowed(pack)


@pytest.fixture
def cli(monkeypatch):
    monkeypatch.chdir(ROOT)
    return lambda *args: CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("args", [
    ("eval", "policy", "examples/households.yaml", "--format", "text"),
    ("eval", "policy", "examples/villages.yaml", "--entity", "village", "--format", "text"),
])
def test_eval_text_speaks_chinese(cli, names, args):
    res = cli(*args)
    assert stray(res.stdout + res.stderr, names) == []


def test_explain_speaks_chinese_for_every_example_household(cli, names, pack):
    found = {}
    for raw, _ in FactsFile(str(EXAMPLES / "households.yaml")).items:
        for fmt in ("text", "html") if raw["id"] in ("HH01", "HH13") else ("text",):
            res = cli("explain", "policy", "examples/households.yaml", "--output", "monitoring_tier",
                      "--id", raw["id"], "--what-if", "--full", "--format", fmt)
            words = stray(res.stdout + res.stderr, names)
            if words:
                found[(raw["id"], fmt)] = words
    assert found == {}


def test_every_explanation_speaks_chinese(pack, names):
    found = {}
    for raw, _ in FactsFile(str(EXAMPLES / "households.yaml")).items:
        result = pack.evaluate(raw, trace=True)
        for output in result.values:
            words = stray(result.explain(output, "zh", None), names)
            if words:
                found[(raw["id"], output)] = words
    assert found == {}


@pytest.mark.parametrize("text, words", [
    ("监测等级（monitoring_tier） = 红色", []),
    ("依据：表达式 `status == poor 且 income > line`", []),
    ("001:78「Some quoted text」", []),
    ("农户状态 poor in {x}", ["in", "x"]),
    ("error[E840]: value", ["error", "value"]),
])
def test_the_scan_itself(names, text, words):
    assert stray(text, names) == words


CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]+")


def test_every_explanation_in_english_has_no_chinese(pack):
    """The mirror: English explanations show no Chinese outside the policy's expressions."""
    found = {}
    for raw, _ in FactsFile(str(EXAMPLES / "households.yaml")).items:
        result = pack.evaluate(raw, trace=True)
        for output in result.values:
            text = "\n".join(re.sub(r"`[^`\n]*`", " ", line) for line in result.explain(output, "en", None).splitlines())
            if CJK.search(text):
                found[(raw["id"], output)] = CJK.findall(text)
    assert found == {}
