"""The workbench: server-rendered pages for officers and analysts, every asset in the package."""
from __future__ import annotations

from fastapi import FastAPI


def mount(app: FastAPI) -> None:
    """Add the pages and their static assets to ``app``."""
