"""The /v1 routes (evaluate, explain, whatif, policy, check, batch, diff), /metrics and
the interactive docs."""
from __future__ import annotations

from fastapi import FastAPI


def mount(app: FastAPI) -> None:
    """Add the API's routes to ``app``."""
