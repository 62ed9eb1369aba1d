"""An impact run's second setting from an upload (web/editedpack.py): one rule file or a
zip of edited files mapped onto the served pack, bounded and confined to it."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from fupin.web.editedpack import MAX_MEMBERS, edited_texts
from fupin.web.problems import Problem

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policy"
MONITORING = "household/monitoring.yaml"


def _zip(entries: dict, method=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out.getvalue()


def _rel(texts: dict) -> list:
    return sorted(Path(p).relative_to(POLICY.resolve()).as_posix() for p in texts)


@pytest.mark.parametrize("entries, want", [
    ({MONITORING: "x: 1\n"}, [MONITORING]),                                     # just the changed file
    ({"policy/" + MONITORING: "x: 1\n", "policy/entities.yaml": "y: 2\n"},       # `zip -r p.zip policy/`
     [MONITORING, "entities.yaml"]),
    ({"entities.yaml": "y\n", MONITORING: "x\n", "README.md": "notes", "tests/cases/a.yaml": "c\n"},
     [MONITORING, "entities.yaml"]),                                            # notes and cases skipped
    ({"household/new.yaml": "rules: {}\n"}, ["household/new.yaml"]),            # a new file is added
    ({"household/": "", "household/exit.yml": "a\n"}, ["household/exit.yml"]),
], ids=["one-file", "top-folder", "skips-non-rules", "new-file", "dir-entries"])
def test_a_zip_maps_its_rule_files_onto_the_pack(entries, want):
    assert _rel(edited_texts(POLICY, "edit.zip", _zip(entries))) == sorted(want)


def test_one_file_goes_where_it_is_told_and_keeps_its_text():
    texts = edited_texts(POLICY, "m.yaml", "\ufeff规则: 1\n".encode(), MONITORING)
    assert _rel(texts) == [MONITORING] and list(texts.values()) == ["规则: 1\n"]
    assert _rel(edited_texts(POLICY, "entities.yaml", b"a: 1\n")) == ["entities.yaml"]  # default: its name


def _refused(filename, data, code, status, relpath=None) -> str:
    with pytest.raises(Problem) as caught:
        edited_texts(POLICY, filename, data, relpath)
    problem = caught.value
    assert problem.status == status
    (diagnostic,) = problem.diagnostics
    assert diagnostic.code == code
    return diagnostic.render("en")


@pytest.mark.parametrize("entries, words", [
    ({"../outside.yaml": "x\n"}, "is not a rule file of the pack"),
    ({"/etc/evil.yaml": "x\n"}, "is not a rule file of the pack"),
    ({"household/../../evil.yaml": "x\n"}, "is not a rule file of the pack"),
    ({"notes.txt": "x"}, "the zip holds no rule file (.yaml)"),
    ({"big.yaml": "a" * 2_100_000}, "beyond a rule file's limit"),
    ({"bomb.yaml": "\n" * 1_000_000}, "beyond a rule file's limit"),           # compresses ~1000:1
], ids=["dotdot", "absolute", "nested-dotdot", "no-rules", "too-big", "bomb"])
def test_a_hostile_or_empty_zip_is_refused_with_its_reason(entries, words):
    assert words in _refused("e.zip", _zip(entries), "E863", 422)


def test_too_many_members_not_a_zip_and_bad_bytes():
    many = _zip({f"f{i}.txt": "" for i in range(MAX_MEMBERS + 1)}, zipfile.ZIP_STORED)
    assert f"the limit is {MAX_MEMBERS}" in _refused("e.zip", many, "E863", 422)
    assert "not a readable zip file" in _refused("e.zip", b"PK\x03\x04 broken", "E863", 422)
    assert f"rule file `{MONITORING}`: byte 3 is not UTF-8 (rule files are UTF-8)" in _refused(
        "e.zip", _zip({MONITORING: b"abc\xff"}), "E863", 422)
    assert f"rule file `{MONITORING}`: byte 0 is not UTF-8" in _refused("m.yaml", b"\xfe", "E863", 422, MONITORING)
    assert "is not a rule file" in _refused("m.yaml", b"x\n", "E863", 422, "tests/cases.yaml")
