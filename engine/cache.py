"""A cache of checked policies, as ``__pycache__`` is one of compiled modules.

``load_policy(path)`` of a folder whose files are unchanged reads the checked policy of
every view (base and variants) and the checker's warnings from one file written by an
earlier run, and skips reading YAML, parsing expressions, building the schema's models and
every checker stage (docs/performance.md, "Start-up"). A hit imports none of the modules
that do those things (tests/test_import_cost.py).

Where: ``$FUPIN_CACHE_DIR``, else ``$XDG_CACHE_HOME/fupin``, else ``~/.cache/fupin``;
``FUPIN_NO_CACHE=1`` (or ``fupin batch --no-cache``) neither reads nor writes it, and
``fupin cache --clear`` empties it. An entry is named by a hash of everything its content
depends on (:func:`key`): the cache's format, the Python version, fupin's version and the
size and modification time of each of fupin's own ``dsl/`` source files and of this file,
the working folder and the path as given (diagnostics name files relative to them), and
the content of every file the load reads: the pack's YAML files (their revision, the same
hash a decision record carries) and, stored in the entry and compared on reading, the
documents its citations are counted against. A policy with errors is never stored: it is
checked again, and fails the same way, each time.

The entry is a pickle, with a header holding a magic line and the sha256 of the pickle:
a file whose header, checksum or key does not match (another program's file, one cut
short, one of another format) is ignored and written again. Pickle is only ever read from
files fupin wrote itself in the user's own cache folder; a folder that cannot be written
leaves the run uncached, never failed. Files are written to a temporary name and renamed,
so a killed run leaves no entry that looks whole.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path

from .reports.identity import file_sha256, fupin_version, revision

FORMAT = 1  # raise when an entry's content changes shape
MAGIC = b"fupin checked policy\n"
SUFFIX = ".policy"
# what an entry's code depends on: the checker and the classes of what it stores (dsl/),
# and this file, which decides what is stored
CODE_FOLDER = Path(__file__).resolve().parent.parent / "dsl"


@dataclass
class Entry:
    """What a cached load gives back: each view's checked policy (``"base"`` first), the
    checker's warnings, and the documents (path, sha256 or None) the check counted lines of."""

    checked: dict
    warnings: list
    documents: list


def enabled() -> bool:
    """False when ``FUPIN_NO_CACHE`` is set to anything but ``0`` or nothing."""
    return os.environ.get("FUPIN_NO_CACHE", "") in ("", "0")


def folder() -> Path:
    """The cache folder: ``$FUPIN_CACHE_DIR``, ``$XDG_CACHE_HOME/fupin`` or ``~/.cache/fupin``."""
    given = os.environ.get("FUPIN_CACHE_DIR")
    if given:
        return Path(given)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) / "fupin" if xdg else Path.home() / ".cache" / "fupin"


@functools.cache
def code_stamp() -> str | None:
    """fupin's version and the (path, size, mtime_ns) of each of its ``dsl/`` source files
    and of this one: an editable checkout whose checker changes reads no older entry.
    None when they cannot be listed (then nothing is cached)."""
    try:
        files = sorted(p for p in CODE_FOLDER.rglob("*") if p.suffix in (".py", ".lark"))
        stamps = [(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in [*files, Path(__file__).resolve()]]
    except OSError:
        return None
    return hashlib.sha256(json.dumps([fupin_version(), stamps]).encode()).hexdigest()


def key(path: str, rev: str) -> str | None:
    """The name of the entry of a load of ``path`` whose YAML files have revision ``rev``
    (None when fupin's own files cannot be stamped)."""
    stamp = code_stamp()
    if stamp is None:
        return None
    try:
        here = os.getcwd()
    except OSError:  # the working folder was removed
        return None
    parts = [FORMAT, sys.version, stamp, here, os.fspath(path), rev]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def pack_revision(path) -> str:
    """The revision of the pack's files (engine/reports/identity.py), as a policy has it."""
    from ..dsl.files import policy_files

    root = Path(path)
    return revision(policy_files(root), root)


def read(path, rev: str) -> Entry | None:
    """The entry of ``path`` at revision ``rev``, or None (no cache, no entry, an entry
    that is not whole or not fupin's, or a cited document that changed)."""
    if not enabled() or not Path(path).is_dir():
        return None
    name = key(os.fspath(path), rev)
    if name is None:
        return None
    try:
        data = (folder() / (name + SUFFIX)).read_bytes()
    except (OSError, ValueError):
        return None
    entry = _decoded(data, name)
    if entry is None or any(_document_hash(p) != h for p, h in entry.documents):
        return None
    return entry


def _decoded(data: bytes, name: str) -> Entry | None:
    head, sep, rest = data.partition(b"\n")
    if not sep or head + b"\n" != MAGIC:
        return None
    digest, sep, body = rest.partition(b"\n")
    if not sep or digest != hashlib.sha256(body).hexdigest().encode():
        return None
    try:
        found = pickle.loads(body)  # fupin's own file, checksummed: see the module's docstring
    except Exception:  # noqa: BLE001 - a file that does not unpickle is no entry
        return None
    if not isinstance(found, dict) or found.get("key") != name or found.get("format") != FORMAT:
        return None
    return Entry(found["checked"], found["warnings"], found["documents"])


def hashed(documents: list) -> list:
    """``(path, sha256 or None)`` of each document the check reads (None: unreadable)."""
    return [(p, _document_hash(p)) for p in documents]


def write(path, rev: str, checked: dict, warnings: list, documents: list) -> None:
    """Store a load's result (nothing when the cache is off or cannot be written);
    ``documents``: :func:`hashed` before the check read them."""
    if not enabled() or not Path(path).is_dir():
        return
    name = key(os.fspath(path), rev)
    if name is None:
        return
    entry = {"key": name, "format": FORMAT, "checked": checked, "warnings": warnings,
             "documents": list(documents)}
    try:
        body = _pickled(entry)
    except Exception:  # noqa: BLE001 - what cannot be pickled is not cached
        return
    data = MAGIC + hashlib.sha256(body).hexdigest().encode() + b"\n" + body
    import tempfile  # only to write: a hit need not import it

    try:
        target = folder()
        target.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target, prefix=".tmp-", suffix=SUFFIX)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target / (name + SUFFIX))
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        return


def _pickled(entry: dict) -> bytes:
    return pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)


def _document_hash(path: str) -> str | None:
    try:
        return file_sha256(path)
    except (OSError, ValueError):
        return None


def entries() -> list[Path]:
    """The entries in the cache folder."""
    try:
        return sorted(folder().glob("*" + SUFFIX))
    except OSError:
        return []


def clear() -> int:
    """Remove every entry (and temporary file) of the cache folder; how many were removed."""
    removed = 0
    for entry in [*entries(), *folder().glob(".tmp-*" + SUFFIX)]:
        try:
            entry.unlink()
            removed += 1
        except OSError:
            pass
    return removed


__all__ = ["Entry", "FORMAT", "clear", "code_stamp", "enabled", "entries", "folder", "hashed", "key", "pack_revision",
           "read", "write"]
