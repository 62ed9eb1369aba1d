"""What identifies a decision and its rules, without the record's models: the policy's
revision (a content hash of the pack's files), the installed fupin's version and the
canonical hash of input facts.

Kept apart from reports/record.py (the pydantic models of records and result documents)
so that loading a policy and running ``fupin batch``, which need the revision and the
version but never a record model, do not pay for building those models at import.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import stat
import threading
from decimal import Decimal
from pathlib import Path

from ... import __version__


def fupin_version() -> str:
    """This fupin's version: ``fupin.__version__``, the one place it is written (pyproject.toml
    reads it from there at build time). Not the installed package's metadata, whose reading
    (importlib.metadata, a file parsed) cost every ``fupin batch`` 30–40 ms of start-up."""
    return __version__


def revision(files, root: Path, texts: dict | None = None) -> str:
    """``sha256:…`` over the pack's files (their paths relative to ``root`` and their
    bytes, in sorted order): any edit to a rule, parameter or declaration changes it.
    ``texts`` (resolved path → text) stands for files as edited but not saved."""
    texts = {str(Path(k).resolve()): v for k, v in (texts or {}).items()}
    h = hashlib.sha256()
    base = root.resolve()
    for path in sorted({Path(f).resolve() for f in files} | {Path(k) for k in texts}):
        full = str(path)
        if path != base and root.is_dir():  # a symlink may lead out of the folder: named where it leads
            rel = path.relative_to(base).as_posix() if path.is_relative_to(base) else path.as_posix()
        else:
            rel = path.name
        h.update(rel.encode("utf-8") + b"\0")
        h.update((texts[full].encode("utf-8") if full in texts else path.read_bytes()) + b"\0")
    return "sha256:" + h.hexdigest()


def file_sha256(path) -> str:
    """``sha256:…`` of a file's bytes, read in blocks of 1 MiB."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()


class HashAhead:
    """The sha256 of some files, computed in a thread from now on (``fupin batch`` starts it
    before importing the batch modules and loading the policy, one core's work, so that the
    run record does not hash the input after the run). :meth:`get` gives a hash only if the
    file is still the one hashed (same size, modification time and inode); otherwise, and
    for anything that is not a regular file, None, and the record hashes the file itself."""

    def __init__(self, paths):
        self._done: dict = {}
        self._paths = [os.fspath(p) for p in paths]
        self._thread = threading.Thread(target=self._run, name="fupin-hash-ahead", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for path in self._paths:
            try:
                before = _stamp(path)
                if before is not None:
                    self._done[path] = (before, file_sha256(path))
            except OSError:  # unreadable: the record says so when it hashes the file itself
                pass

    def get(self, path) -> str | None:
        """The hash of ``path`` if it was hashed and has not changed since, else None."""
        path = os.fspath(path)
        if path not in self._paths:
            return None
        self._thread.join()
        found = self._done.get(path)
        if found is None:
            return None
        try:
            return found[1] if _stamp(path) == found[0] else None
        except OSError:
            return None


def _stamp(path):
    """What tells a regular file's content changed (None: not a regular file)."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        return None
    return st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev


def input_hash(facts) -> str:
    """``sha256:…`` of the facts as canonical JSON (keys sorted, numbers as exact text)."""
    return "sha256:" + hashlib.sha256(canonical(facts).encode("utf-8")).hexdigest()


def canonical(facts) -> str:
    """Facts as one canonical JSON text: ``4999``, ``4999.0`` and ``Decimal('4999')`` alike."""
    return json.dumps(_canon(facts), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _canon(value):
    kind = type(value)
    if kind is str or kind is bool or value is None:  # the common cases first, by exact type
        return value
    if kind is int and -10**27 < value < 10**27:  # within the context's 28 digits
        return {"$n": str(value)}  # what the Decimal path gives an int (5000, not 5E+3), cheaper
    if isinstance(value, dict):
        return {str(k): _canon(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canon(v) for v in value]
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)):
        d = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        return {"$n": format(d.normalize(), "f")}  # a number, never confused with its text
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)
