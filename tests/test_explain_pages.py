"""The README's demo (one named household in a screen: decision, reasons, a what-if) and
the HTML explanation page (self-contained: no external assets, a <details> tree)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from fupin.cli.main import main

from conftest import as_installed

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


@pytest.fixture
def cli(monkeypatch):
    monkeypatch.chdir(ROOT)
    return lambda *args: CliRunner().invoke(main, list(args))


def _demo():
    """The README's first command (its fupin part) and the output it shows."""
    text = README.read_text(encoding="utf-8")
    command = re.search(r"```sh\n.*?\.venv/bin/fupin (explain [^\n]+)\n```", text, flags=re.S).group(1)
    shown = re.search(r"```text\n(.*?)```", text, flags=re.S).group(1)
    return command.split(), shown


def test_the_readme_demo_is_what_the_command_prints_in_one_screen(cli):
    args, shown = _demo()
    res = cli(*args)
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert len(lines) <= 30  # a screenful
    head = as_installed(shown.split("    …")[0]).rstrip("\n").splitlines()
    assert lines[:len(head)] == head
    assert any("因为" in line for line in head) and any("假如" in line for line in head)
    assert "HH10" in lines[1]


@pytest.mark.parametrize("lang, words", [("zh", ["因为", "假如", "推理过程", "饮水安全"]),
                                         ("en", ["Because", "What if", "safe drinking water"])])
def test_the_html_page_stands_alone(cli, lang, words):
    res = cli("explain", "policy", "examples/households.yaml", "--output", "monitoring_tier", "--id", "HH10",
              "--what-if", "--format", "html", "--lang", lang)
    assert res.exit_code == 0, res.output
    page = res.stdout
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<style>" in page and "<details open>" in page and "<summary>" in page
    assert not re.search(r"(src|href)\s*=|<script|<link|@import|url\(", page)  # nothing fetched
    for word in words:
        assert word in page
