"""The service's settings: where it binds, its token, and the bounds on every request.

A service on a county intranet must refuse to listen beyond the machine without a token:
:func:`check_bind` is the one place that rule is written (``fupin serve`` and
:func:`fupin.web.app.create_app` both call it).
"""
from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..dsl.errors import Bilingual, FupinError, Span, error

ENV = "FUPIN_SERVE_CONFIG"  # how `fupin serve --workers N` hands its settings to each worker


@dataclass(frozen=True)
class Limits:
    """Bounds on one request; each breach is a located 413, 422 or 503 problem."""

    body_bytes: int = 2 * 1024 * 1024          # JSON bodies (413 beyond)
    upload_bytes: int = 200 * 1024 * 1024      # dataset and rule-file uploads (413 beyond)
    entities: int = 1_000                      # entities in one evaluate request (422 beyond)
    members: int = 200                         # children of one entity, per list (422 beyond)
    seconds: float = 10.0                      # one request's evaluation (503 beyond)
    concurrent: int = 64                       # evaluations waiting or running (503 beyond)
    jobs: int = 4                              # background jobs queued or running (503 beyond)
    jobs_kept: int = 32                        # finished jobs kept for download
    job_hours: float = 24.0                    # a finished job's files are removed after this


@dataclass(frozen=True)
class ServeConfig:
    """Everything ``fupin serve`` was started with."""

    policy: str
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    reload: bool = False
    allow_edit: bool = False
    decision_log: str | None = None
    work_dir: str | None = None   # jobs' uploads and results (default: a temporary folder)
    lang: str = "zh"              # language of a request that names none
    metrics_dir: str | None = None  # several workers: where each writes its counters (web/api/metrics.py)
    limits: Limits = field(default_factory=Limits)

    def to_env(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_env(cls, text: str | None = None) -> "ServeConfig":
        data = json.loads(text if text is not None else os.environ[ENV])
        limits = Limits(**data.pop("limits", {}))
        return cls(**data, limits=limits)


def is_local(host: str) -> bool:
    """True for a loopback address or ``localhost``: the only binds allowed without a token."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(config: ServeConfig) -> None:
    """E860 for a non-loopback bind without a token (``0.0.0.0``, a LAN address, a name)."""
    if config.token is None and not is_local(config.host):
        raise FupinError(error("E860", Span("<arguments>", 0, 0), host=config.host))


def read_token(path: str) -> str:
    """The token in ``path`` (surrounding whitespace dropped); E861 when the file cannot be
    read, is empty, or holds a token shorter than 16 characters (guessable)."""
    def bad(zh: str, en: str):
        return FupinError(error("E861", Span(str(path), 0, 0), detail=Bilingual(zh, en)))
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise bad(f"无法读取：{exc.__class__.__name__}", f"cannot read it: {exc.__class__.__name__}") from None
    if len(token) < 16 or any(c.isspace() for c in token):
        raise bad("令牌应至少 16 个字符且不含空白", "the token must be at least 16 characters, with no whitespace")
    return token
