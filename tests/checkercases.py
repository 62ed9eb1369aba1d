"""Helpers for checking a copy of the policy pack with one file changed (the total-checker
tests, the fuzz suite and its corpus share them)."""
from __future__ import annotations

import shutil
from pathlib import Path

from fupin.dsl.checker import check_all
from fupin.dsl.loader import load_source

ROOT = Path(__file__).resolve().parent.parent
PACK = ROOT / "policy"
# Library prose that must never reach a person reading zh (issue 12 item 3).
LIBRARY_WORDS = ("Input should", "while scanning", "could not find", "mapping values", "did not find",
                 "found character", "expected <block end>", "Traceback", "object has no attribute")


class PackCopy:
    """A copy of the pack in ``folder``; ``check(file, text)`` checks it with one file
    replaced by ``text`` (and puts the file back)."""

    def __init__(self, folder: Path):
        self.folder = folder / "policy"
        if not self.folder.exists():
            shutil.copytree(PACK, self.folder, ignore=shutil.ignore_patterns("tests"))

    def files(self) -> list[str]:
        return sorted(str(p.relative_to(self.folder)) for p in self.folder.rglob("*.yaml"))

    def check(self, file: str, text: str):
        target = self.folder / file
        original = target.read_text(encoding="utf-8")
        target.write_text(text, encoding="utf-8")
        try:
            diags, _ = check_all(load_source(self.folder))
        finally:
            target.write_text(original, encoding="utf-8")
        return diags

    def original(self, file: str) -> str:
        return (PACK / file).read_text(encoding="utf-8")


def rendered(diags) -> str:
    """Every diagnostic rendered in zh and in en (rendering must not fail either)."""
    out = []
    for d in diags:
        out.append(d.render("zh"))
        out.append(d.render("en"))
        d.to_json("zh")
    return "\n".join(out)
