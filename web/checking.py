"""Check a rule file of the served pack as edited, run its cases, save it.

``check_file`` reads the pack with one file's text replaced (or one new file added)
without touching the disk (``dsl.loader.load_source(texts=…)``) and runs the whole
checker, so a mistake the edit causes elsewhere (a report naming a rule the edit
removed) is found too. Diagnostics are located relative to the pack folder.
"""
from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..dsl.checker import check_all
from ..dsl.errors import Bilingual, Diagnostic, Span
from ..dsl.loader import MAX_FILE_BYTES, load_source, policy_files
from .problems import Problem, at

SUFFIXES = (".yaml", ".yml")


def pack_path(root: Path, relpath: str, must_exist: bool = True) -> Path:
    """The file ``relpath`` names inside the pack ``root``: a YAML file, inside the
    folder (no ``..``, no absolute path, no link out), outside ``tests/``. 422 (E863)
    otherwise; 404 (E867) when ``must_exist`` and it does not."""
    root = root.resolve()
    rel = str(relpath or "").replace("\\", "/").strip()
    ok = rel and not rel.startswith("/") and "\x00" not in rel and len(rel) < 1000
    target = (root / rel).resolve() if ok else None
    bad = (target is None or not target.is_relative_to(root) or target.suffix not in SUFFIXES
           or "tests" in target.relative_to(root).parts)
    if bad:
        raise Problem(at("<request>", "E863", detail=Bilingual(
            f"`{rel[:200]}` 不是政策包中的规则文件（应为包内的 .yaml 文件，不在 tests/ 下）",
            f"`{rel[:200]}` is not a rule file of the pack (a .yaml file inside it, not under tests/)")), 422)
    if must_exist and not target.is_file():
        raise Problem(at("<request>", "E867", kind=Bilingual("规则文件", "rule file"), name=rel), 404)
    return target


def rule_files(root: Path) -> list[str]:
    """The pack's rule and variant files, relative to the pack, sorted."""
    base = root.resolve()
    return [p.resolve().relative_to(base).as_posix() for p in policy_files(root)]


@dataclass
class CheckReport:
    """The checker's findings on the pack with one file as edited."""

    file: str                                     # the edited file, relative to the pack
    diagnostics: list[Diagnostic] = field(default_factory=list)   # all, pack-relative

    @property
    def errors(self) -> int:
        return sum(d.severity == "error" for d in self.diagnostics)

    def to_json(self, lang: str = "zh") -> dict:
        """``{file, errors, warnings, infos, diagnostics}``; each diagnostic has
        ``file`` relative to the pack, so those of the edited file are ``file == self.file``."""
        count = {s: sum(d.severity == s for d in self.diagnostics) for s in ("error", "warning", "info")}
        return {"file": self.file, "errors": count["error"], "warnings": count["warning"], "infos": count["info"],
                "diagnostics": [d.to_json(lang) for d in self.diagnostics]}


def check_file(root: Path, relpath: str, text: str, must_exist: bool = False) -> CheckReport:
    """Check the pack at ``root`` with ``relpath`` holding ``text`` (a new file when it
    does not exist and ``must_exist`` is False). Never raises for what the text holds."""
    target = pack_path(root, relpath, must_exist)
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise Problem(at("<request>", "E862", detail=Bilingual(f"规则文件上限 {MAX_FILE_BYTES} 字节",
                                                               f"a rule file is limited to {MAX_FILE_BYTES} bytes")), 413)
    diags, _ = check_all(load_source(root, {str(target): text}))
    base = root.resolve()
    return CheckReport(target.relative_to(base).as_posix(), [_relative(d, base) for d in diags])


def _relative(d: Diagnostic, base: Path) -> Diagnostic:
    """``d`` located relative to the pack folder (a path outside it stays as it is)."""
    path = Path(d.span.file)
    if d.span.file.startswith("<"):
        return d
    try:
        rel = path.resolve().relative_to(base).as_posix()
    except (ValueError, OSError):
        return d
    return dataclasses.replace(d, span=Span(rel, d.span.line, d.span.col))


@dataclass
class TestReport:
    """The pack's cases that name a rule of the file, run against the edited pack."""

    files: list[str]          # case files run (relative to the pack's tests/)
    returncode: int           # 0: all passed; 5: no case selected
    output: str               # what ``fupin test`` printed (its summary lines)

    def to_json(self) -> dict:
        return {"files": self.files, "passed": self.returncode == 0, "returncode": self.returncode,
                "output": self.output}


TEST_RUNS = threading.BoundedSemaphore(1)  # one child process of cases at a time, per service process


def run_file_tests(root: Path, relpath: str, text: str, lang: str = "zh", timeout: float = 120) -> TestReport:
    """Run, in a child process on a copy of the pack with ``relpath`` replaced by
    ``text``, the case files of ``root/tests`` that name a rule defined in that file.
    The child's time is bounded by ``timeout`` (a timeout is reported, not raised); one
    run at a time: another asked meanwhile is refused with 503 E866."""
    if not TEST_RUNS.acquire(blocking=False):
        raise Problem(at("<request>", "E866", limit=1), 503, headers={"Retry-After": "30"})
    try:
        return _run_file_tests(root, relpath, text, lang, timeout)
    finally:
        TEST_RUNS.release()


def _run_file_tests(root: Path, relpath: str, text: str, lang: str, timeout: float) -> TestReport:
    target = pack_path(root, relpath, must_exist=False)
    names = _rules_in(root, target, text)
    tests = root / "tests"
    chosen = sorted(p.name for p in tests.glob("*.y*ml")
                    if names and re.search(r"\b(" + "|".join(map(re.escape, names)) + r")\b",
                                           p.read_text(encoding="utf-8", errors="replace")))
    if not chosen:
        return TestReport([], 5, "没有用例提到此文件的规则" if lang == "zh" else "no case names a rule of this file")
    with tempfile.TemporaryDirectory(prefix="fupin-edit-") as tmp:
        copy = Path(tmp) / "pack"
        shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".*", "__pycache__"))
        (copy / target.relative_to(root.resolve())).parent.mkdir(parents=True, exist_ok=True)
        (copy / target.relative_to(root.resolve())).write_text(text, encoding="utf-8")
        for extra in (copy / "tests").glob("*.y*ml"):
            if extra.name not in chosen:
                extra.unlink()
        cmd = [sys.executable, "-m", "fupin.cli", "test", str(copy / "tests"), "--policy", str(copy), "--lang", lang]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=tmp,
                                  env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        except subprocess.TimeoutExpired:
            return TestReport(chosen, 124, f"超过 {timeout} 秒" if lang == "zh" else f"took longer than {timeout} s")
    out = (done.stdout + done.stderr).replace(str(copy), "policy")
    return TestReport(chosen, done.returncode, _tail(out))


def _rules_in(root: Path, target: Path, text: str) -> list[str]:
    """Names of the rules (and parameters) the edited file defines."""
    src = load_source(root, {str(target): text})
    want = target.resolve()
    out = []
    for table in (src.rules, src.parameters):
        for name, obj in table.items():
            loc = getattr(obj, "loc", None)
            file = getattr(getattr(loc, "pos", None), "file", None) if loc is not None else None
            if file is not None and Path(file).resolve() == want:
                out.append(name)
    return out


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def save_file(root: Path, relpath: str, text: str) -> Path:
    """Write ``text`` to the pack's file atomically (a temporary file, then a rename)."""
    target = pack_path(root, relpath, must_exist=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target
