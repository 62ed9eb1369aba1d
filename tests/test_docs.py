"""Every ```python block of docs/api.md runs, in order, in one namespace."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
API = ROOT / "docs" / "api.md"


def test_api_examples_run(monkeypatch):
    if not API.exists():
        pytest.fail("docs/api.md is missing")
    monkeypatch.chdir(ROOT)
    blocks = re.findall(r"```python\n(.*?)```", API.read_text(encoding="utf-8"), flags=re.S)
    assert blocks, "docs/api.md has no python examples"
    namespace: dict = {}
    for i, block in enumerate(blocks, 1):
        exec(compile(block, f"docs/api.md[block {i}]", "exec"), namespace)  # noqa: S102 - our own docs
