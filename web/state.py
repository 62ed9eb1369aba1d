"""The pack a service serves, loaded and checked once, swapped whole on reload.

A request takes :attr:`Served.current` once and uses that snapshot to the end, so a
reload never changes the rules under a request half-way. A reload whose pack has errors
keeps the previous pack and keeps the errors (``/healthz`` and ``/v1/policy`` show them).
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..dsl.errors import Diagnostic, FupinError
from ..dsl.loader import policy_files
from ..engine.api import Policy, load_policy

log = logging.getLogger("fupin.serve")


@dataclass(frozen=True)
class Loaded:
    """One loaded pack: the policy, when it was loaded, and the files' fingerprint."""

    policy: Policy
    loaded_at: str
    fingerprint: tuple


@dataclass
class ReloadFailure:
    """The last reload that found errors: when, and the diagnostics (the old pack stays)."""

    at: str
    diagnostics: list[Diagnostic] = field(default_factory=list)


def fingerprint(root: Path) -> tuple:
    """(path, size, mtime) of every YAML file of the pack: what a reload compares."""
    out = []
    for path in policy_files(root):
        try:
            st = path.stat()
        except OSError:
            continue
        out.append((str(path), st.st_size, st.st_mtime_ns))
    return tuple(out)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class Served:
    """The served pack: :attr:`current` (a :class:`Loaded`), :meth:`reload`, :meth:`watch`."""

    def __init__(self, path: str | Path, policy: Policy | None = None):
        self.root = Path(path)
        self.failure: ReloadFailure | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.current = self._load() if policy is None else Loaded(policy, _now(), fingerprint(self.root))

    def _load(self) -> Loaded:
        mark = fingerprint(self.root)
        return Loaded(load_policy(self.root), _now(), mark)

    def reload(self, force: bool = False) -> bool:
        """Load the pack again if its files changed (or ``force``); True when the new pack
        is now served. A pack with errors is not served: :attr:`failure` holds them."""
        with self._lock:
            if not force and fingerprint(self.root) == self.current.fingerprint:
                return False
            try:
                loaded = self._load()
            except FupinError as exc:
                self.failure = ReloadFailure(_now(), exc.diagnostics)
                # the fingerprint of the failed files, so the same mistake is reported once
                self.current = Loaded(self.current.policy, self.current.loaded_at, fingerprint(self.root))
                log.warning("reload failed: %d error(s); still serving revision %s",
                            len(exc.diagnostics), self.current.policy.revision[:12])
                return False
            self.current, self.failure = loaded, None
            log.info("reloaded: revision %s", loaded.policy.revision[:12])
            return True

    def watch(self, interval: float = 1.0) -> threading.Thread:
        """Poll the pack's files every ``interval`` seconds in a daemon thread."""
        def loop():
            while not self._stop.wait(interval):
                try:
                    self.reload()
                except Exception:  # a reload must never stop the watcher
                    log.exception("reload crashed")
        thread = threading.Thread(target=loop, name="fupin-reload", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()
