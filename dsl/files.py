"""Which files loading a policy reads: its YAML files (:func:`policy_files`).

Apart from loader.py (which imports the schema and the YAML parser) so that the policy's
revision and the cache's key (engine/cache.py) are computed without them.
"""
from __future__ import annotations

import os
from pathlib import Path


def policy_files(root: Path) -> list[Path]:
    """The YAML files of a policy folder, sorted, leaving out its tests/ folder."""
    if root.is_file():
        return [root]
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "tests" and not d.startswith("."))
        found.extend(Path(dirpath) / f for f in filenames if f.endswith((".yaml", ".yml")))
    return sorted(found)


__all__ = ["policy_files"]
