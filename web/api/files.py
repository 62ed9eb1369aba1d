"""``POST /v1/check``, ``/v1/batch``, ``/v1/diff``; ``GET /v1/jobs/{id}`` and its files."""
from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1", tags=["files"])
