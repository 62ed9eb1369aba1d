"""The generated code (scalar/codegen.py, scalar/tracegen.py) is safe to make from any pack
and from several threads: rule-file text never becomes code, a program shared by threads
(fupin serve) makes each date's code once, and what it counts stays bounded."""
from __future__ import annotations

import datetime as dt
import shutil
import threading
from pathlib import Path

import pytest

from fupin import load_policy
from fupin.engine.scalar import program as programs
from fupin.engine.scalar.codegen import generate, one_line, source_of
from fupin.engine.scalar.program import Program
from fupin.engine.scalar.tracegen import generate_traced

ROOT = Path(__file__).resolve().parent.parent
ON = dt.date(2020, 6, 30)
# free text of a rule file with a line break and code after it; NUL, CR, U+2028 too
HOSTILE = ["a\n    print('INJECTED')", "a\r\nimport os; os._exit(3)", "a\x00b", "a\u2028print('INJECTED')",
           "v\nprint('INJECTED') #"]


def _pack(tmp_path: Path, text: str) -> Path:
    root = tmp_path / "pack"
    root.mkdir()
    shutil.copy(ROOT / "tests" / "fixtures" / "mini" / "doc001.txt", root)
    quoted = text.encode("unicode_escape").decode("ascii").replace('"', '\\"')
    (root / "declarations.yaml").write_text(
        'documents:\n  "001": {file: doc001.txt, title: {zh: t, en: t}}\n'
        "entities:\n  household:\n    default: true\n"
        "    fields: {id: {type: string, required: true}, risk: {type: bool}, n: {type: integer}}\n", encoding="utf-8")
    (root / "household.yaml").write_text(
        "entity: household\nrules:\n"
        "  flag:\n    type: integer\n    source: \"001:1\"\n    expr: \"1\"\n    exceptions:\n"
        f"      - {{id: \"{quoted}\", when: risk, value: \"2\", source: \"001:1\"}}\n"
        "  size:\n    type: integer\n    source: \"001:1\"\n    table:\n      hit: first\n      inputs: {k: n}\n"
        "      rows:\n"
        f"        - {{k: \"< 3\", then: 1, id: \"{quoted}\", source: \"001:1\"}}\n"
        "        - {k: \">= 3\", then: 2, source: \"001:1\"}\n", encoding="utf-8")
    (root / "variants").mkdir()
    (root / "variants" / "v.yaml").write_text(f'variant: "{quoted}"\n', encoding="utf-8")
    return root


@pytest.mark.parametrize("text", HOSTILE)
def test_rule_file_text_never_runs_as_generated_code(tmp_path, capfd, text):
    """An exception id, a row id or a variant name with a line break in it stays in its
    comment: the generated and traced generated code give the closures' values, and
    nothing the text says runs (it printed, or ended the process, before)."""
    policy = load_policy(_pack(tmp_path, text))
    for variant in policy.variants:
        program = policy.program(variant)
        facts, _ = policy.facts_checker(variant).validate({"id": "h", "risk": True, "n": 1}, "household")
        for trace in (False, True):
            got = program.evaluate(facts, ON, "household", trace=trace, generated=True)
            assert got.values == {"flag": 2, "size": 1}
        values, starts = program.params_on(ON)
        for source in (generate(program.checked, ON, values, starts).source, generate_traced(program, ON).source):
            assert all(line.isprintable() for line in source.splitlines())
            assert not any(line.lstrip().startswith(("print(", "import os")) for line in source.splitlines())
    assert "INJECTED" not in capfd.readouterr().out


@pytest.mark.parametrize("text, line", [("a\nb", "a b"), ("a\r\n\tb\x00c", "a b c"), ("数\u2028字", "数 字"),
                                        ("  plain  ", "plain")])
def test_one_line(text, line):
    assert one_line(text) == line


def test_a_line_break_in_generated_source_is_refused():
    with pytest.raises(ValueError, match="internal: generated line 2 is not one printable line"):
        source_of(["x = 1", "# a\nprint('no')"])


def test_threads_share_a_program_and_make_each_date_once(monkeypatch):
    """Eight threads' first traced evaluations on a fresh program: no error (a half-made
    traced compiler was read: KeyError), one traced module and one generated module for
    the date, and every evaluation counted."""
    policy = load_policy(ROOT / "policy")
    checked = policy.program().checked
    facts, _ = policy.facts_checker().validate({"id": "x"}, "household")
    made = {"traced": 0, "plain": 0}
    from fupin.engine.scalar import codegen, tracegen

    traced, plain = tracegen.generate_traced, codegen.generate

    def count(kind, fn):
        def counted(*args):
            made[kind] += 1
            return fn(*args)
        return counted

    monkeypatch.setattr(tracegen, "generate_traced", count("traced", traced))
    monkeypatch.setattr(codegen, "generate", count("plain", plain))
    for _ in range(3):
        program, errors, start = Program(checked), [], threading.Barrier(8)
        serial = program.evaluate(facts, ON, "household", trace=True, generated=False)

        def run():
            start.wait()
            try:
                for trace in (True, False):
                    got = program.evaluate(facts, ON, "household", trace=trace, generated=True)
                    assert got.values == serial.values and got.unknown == serial.unknown
            except Exception as exc:  # noqa: BLE001 — any error is the defect
                errors.append(repr(exc))

        threads = [threading.Thread(target=run) for _ in range(8)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert errors == []
        assert sum(program.traced_counts[ON][:2]) == 8
    assert made == {"traced": 3, "plain": 3}


def test_outputs_may_be_any_iterable():
    """An iterator of output names is read once: every path gives the list's result."""
    policy = load_policy(ROOT / "policy")
    program = policy.program()
    facts, _ = policy.facts_checker().validate({"id": "h"}, "household")
    names = ["guarantees_met", "exit_eligible"]
    want = program.evaluate(facts, ON, "household", outputs=names, generated=False)
    for trace in (False, True):
        for generated in (False, True):
            got = program.evaluate(facts, ON, "household", outputs=iter(names), trace=trace, generated=generated)
            assert (got.values, got.unknown) == (want.values, want.unknown)


def test_dates_counted_toward_generating_stay_bounded(monkeypatch):
    """A service asked about ever new dates keeps at most COUNTED_DATES counts, the newest."""
    monkeypatch.setattr(programs, "COUNTED_DATES", 50)
    counts: dict = {}
    for i in range(120):
        assert programs.counted(counts, ON + dt.timedelta(days=i)) == 1
    assert programs.counted(counts, ON + dt.timedelta(days=119)) == 2
    assert len(counts) == 50 and min(counts) == ON + dt.timedelta(days=70)


def test_entity_and_enum_names_stay_in_their_comments(tmp_path):
    """An entity, a field or an enum value may be named with a line break (the checker
    warns, W908); the generated code's comments name them on one line, so making the
    code neither fails nor runs the text (an entity name raised ValueError on the 64th
    evaluation of a date, and on every call with generated=True)."""
    root = tmp_path / "pack"
    root.mkdir()
    shutil.copy(ROOT / "tests" / "fixtures" / "mini" / "doc001.txt", root)
    house = 'house\\nimport os  # '
    (root / "declarations.yaml").write_text(
        'documents:\n  "001": {file: doc001.txt, title: {zh: t, en: t}}\n'
        'enums:\n  grade:\n    values:\n'
        '      "none\\nx = 1/0  # ": {zh: 无, en: none}\n      high: {zh: 高, en: high}\n'
        f'entities:\n  "{house}":\n    default: true\n    fields:\n'
        '      id: {type: string, required: true}\n      "gr\\nz": {type: grade}\n'
        '      members: {type: list, of: member}\n'
        f'  member:\n    parent: "{house}"\n    fields:\n      big: {{type: bool}}\n      grade: {{type: grade}}\n'
        "defaults: {on: 2020-06-30}\n", encoding="utf-8")
    (root / "household.yaml").write_text(
        f'entity: "{house}"\nrules:\n'
        '  tot: {type: integer, source: "001:1", expr: "sum(members: 如果 big 则 1 否则 0)"}\n'
        "  m_g:\n    type: integer\n    entity: member\n    internal: true\n    source: \"001:1\"\n"
        "    table:\n      hit: first\n      inputs: {g: grade}\n      rows:\n"
        '        - {g: high, then: 3, source: "001:1", id: "r1\\nimport sys"}\n'
        '        - {then: 0, source: "001:1"}\n'
        '  gtot: {type: integer, source: "001:1", expr: "sum(members: m_g)"}\n', encoding="utf-8")
    policy = load_policy(root)
    entity = policy.entity()
    assert entity == "house\nimport os  # "
    program = policy.program()
    facts, _ = policy.facts_checker().validate(
        {"id": "h", "members": [{"big": True, "grade": "high"}, {"big": False, "grade": "high"}]}, entity)
    for trace in (False, True):
        got = program.evaluate(facts, ON, entity, trace=trace, generated=True)
        assert got.values == {"tot": 1, "gtot": 6}
    values, starts = program.params_on(ON)
    for source in (generate(program.checked, ON, values, starts).source, generate_traced(program, ON).source):
        assert "\nimport" not in source
    assert "# every output of house import os #," in generate(program.checked, ON, values, starts).source
