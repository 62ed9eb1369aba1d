"""The dependencies of the API's routes: web/deps.py's, one place for both surfaces.

They are coroutines (web/deps.py says why); this module names them for the routes of
web/api/ (``Depends(context.snapshot)``).
"""
from __future__ import annotations

from ..deps import config, jobs, lang, runner, served, snapshot

__all__ = ["config", "jobs", "lang", "runner", "served", "snapshot"]
