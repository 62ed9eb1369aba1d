"""A cache of checked policies, as ``__pycache__`` is one of compiled modules.

``load_policy(path)`` of a folder whose files are unchanged reads the checked policy of
every view (base and variants) and the checker's warnings from one file written by an
earlier run, and skips reading YAML, parsing expressions, building the schema's models and
every checker stage (docs/performance.md, "Start-up"). A hit imports none of the modules
that do those things (tests/test_import_cost.py).

Where: ``$FUPIN_CACHE_DIR``, else ``$XDG_CACHE_HOME/fupin``, else ``~/.cache/fupin``;
``FUPIN_NO_CACHE`` set to anything but nothing, ``0``, ``false``, ``no`` or ``off`` (or
``load_policy(..., cache=False)``, ``fupin batch --no-cache``) neither reads nor writes
it, and ``fupin cache --clear`` removes its entries and the temporary files of killed writes.

An entry is named by a hash of everything its content depends on (:func:`key`): the
cache's format, the Python version, the working folder and the path as given (diagnostics
name files relative to them), :func:`code_stamp` — fupin's version and the size and
modification time of every ``.py`` and ``.lark`` file under fupin's ``dsl/`` and
``engine/`` (the checker, the classes it stores, engine/api.py that decides what is stored
and this file that reads it back) and of the ``__init__.py`` of pydantic, pydantic-core,
PyYAML and Lark (a reinstalled library rewrites it) — and the content of every file the
load reads: the pack's YAML files (their revision, the same hash a decision record carries)
and, stored in the entry and compared on reading, the documents its citations are counted
against. A policy with errors is never stored: it is checked again, and fails the same
way, each time. A key that cannot be computed (a file that cannot be read) leaves the load
uncached: the loader then reports it, as without the cache.

Trust. The entry's body is a pickle, and unpickling can run code: it is read only from a
folder and a file owned by the user running fupin and writable by no one else (neither
group nor others), the file opened without following a symlink; the folder is made with
mode 0700 and entries with 0600; a folder or entry that fails this is neither read nor
written (the run is uncached). Before the body is unpickled, the header's magic line and
its plain ``format`` and ``key`` must match and the body's sha256 must be the header's.
This protects against other users (a shared or planted ``FUPIN_CACHE_DIR``), files of
other programs and files cut short. It does not protect against a program running as the
same user (it could edit fupin's own code as well) nor against the user pointing
``FUPIN_CACHE_DIR`` at a folder of their own that holds a crafted file from elsewhere: the
sha256 is a checksum, not a signature. On platforms without ``os.getuid`` (Windows) there
are no owners and modes to compare: the folder's access control (the default folder is in
the user's profile) is trusted.

Size: at most :data:`MAX_ENTRIES` entries (each of the pack's is about 420 KB); writing one
more removes the least recently used (a hit marks its entry used). Files are written to a
temporary name and renamed, so a killed run leaves no entry that looks whole.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import re
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from .reports.identity import file_sha256, fupin_version, revision

FORMAT = 2  # raise when an entry's content changes shape
MAGIC = b"fupin checked policy\n"
SUFFIX = ".policy"
TEMP_PREFIX = ".fupin-tmp-"
MAX_ENTRIES = 32  # the least recently used beyond these are removed when one is written
# what an entry depends on in fupin: the checker and the classes it stores (dsl/), what
# decides what is stored and reads it back (engine/api.py, this file): all of dsl/ and engine/
PACKAGE = Path(__file__).resolve().parent.parent
CODE_FOLDERS = [PACKAGE / "dsl", PACKAGE / "engine"]
LIBRARIES = ("pydantic", "pydantic_core", "yaml", "lark")  # what the checker's result depends on
_ENTRY = re.compile(r"^[0-9a-f]{64}" + re.escape(SUFFIX) + "$")
_TEMP = re.compile(r"^\.(fupin-)?tmp-.*" + re.escape(SUFFIX) + "$")  # .tmp-: format 1's temporaries
_OFF = ("", "0", "false", "no", "off")


@dataclass
class Entry:
    """What a cached load gives back: each view's checked policy (``"base"`` first), the
    checker's warnings, and the documents (path, sha256 or None) the check counted lines of."""

    checked: dict
    warnings: list
    documents: list


def enabled() -> bool:
    """False when ``FUPIN_NO_CACHE`` is set to anything but nothing, ``0``, ``false``,
    ``no`` or ``off`` (any case)."""
    return os.environ.get("FUPIN_NO_CACHE", "").strip().lower() in _OFF


def folder() -> Path:
    """The cache folder: ``$FUPIN_CACHE_DIR``, ``$XDG_CACHE_HOME/fupin`` or ``~/.cache/fupin``."""
    given = os.environ.get("FUPIN_CACHE_DIR")
    if given:
        return Path(given)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) / "fupin" if xdg else Path.home() / ".cache" / "fupin"


@functools.cache
def code_stamp() -> str | None:
    """fupin's version and the (path, size, mtime_ns) of each ``.py`` and ``.lark`` file
    under its ``dsl/`` and ``engine/`` and of the ``__init__.py`` of each of
    :data:`LIBRARIES`: an editable checkout whose code changes, or a reinstalled library,
    reads no older entry. None when they cannot be listed (then nothing is cached)."""
    try:
        stamps = [_stamp(p) for p in code_files()]
        stamps.extend(_library(name) for name in LIBRARIES)
    except (OSError, ValueError, ImportError):
        return None
    return hashlib.sha256(json.dumps([fupin_version(), stamps]).encode()).hexdigest()


def code_files() -> list[str]:
    """fupin's files the code stamp covers: every ``.py`` and ``.lark`` file under
    :data:`CODE_FOLDERS` (``__pycache__`` left out), sorted."""
    return sorted(f for d in CODE_FOLDERS for f in _sources(d))


def _sources(top: Path) -> list[str]:
    found = []
    with os.scandir(top) as listing:
        for item in listing:
            if item.is_dir(follow_symlinks=False) and item.name != "__pycache__":
                found.extend(_sources(Path(item.path)))
            elif item.name.endswith((".py", ".lark")):
                found.append(item.path)
    return found


def _stamp(path: str) -> list:
    st = os.stat(path)
    return [path, st.st_size, st.st_mtime_ns]


def _library(name: str) -> list:
    """A library's ``__init__.py`` stamped, found without importing it (a hit need not)."""
    from importlib.util import find_spec

    spec = find_spec(name)
    return _stamp(spec.origin) if spec is not None and spec.origin else [name, None, None]


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


def pack_revision(path) -> str | None:
    """The revision of the pack's files (engine/reports/identity.py), as a policy has it;
    None for what is not a folder or has a file that cannot be read as the loader reads
    it (a symlink out of the folder, a file without permission): the load is then not
    cached, and the loader reports that file as it does without the cache."""
    from ..dsl.files import policy_files

    root = Path(path)
    try:
        if not root.is_dir():
            return None
        return revision(policy_files(root), root)
    except Exception:  # noqa: BLE001 - whatever the key cannot read, the loader will report
        return None


def read(path, rev: str) -> Entry | None:
    """The entry of ``path`` at revision ``rev``, or None (no cache, no entry, an entry
    that is not whole, not fupin's or not trusted, or a cited document that changed)."""
    if not enabled() or rev is None:
        return None
    name = key(os.fspath(path), rev)
    if name is None:
        return None
    where = folder() / (name + SUFFIX)
    data = _trusted_bytes(where)
    entry = _decoded(data, name) if data is not None else None
    if entry is None or any(_document_hash(p) != h for p, h in entry.documents):
        return None
    _used(where)
    return entry


def trusted(st: os.stat_result) -> bool:
    """Whether a folder's or file's status shows it is the user's own and writable by no
    one else (always true where there are no user ids)."""
    if not hasattr(os, "getuid"):
        return True
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def untrusted() -> bool:
    """Whether the cache folder exists but is not the user's own or is writable by others
    (then nothing is read from it or written to it)."""
    target = folder()
    return target.exists() and not _trusted_folder(target)


def _trusted_folder(target: Path) -> bool:
    try:
        st = os.stat(target)
    except (OSError, ValueError):
        return False
    return stat.S_ISDIR(st.st_mode) and trusted(st)


def _trusted_bytes(path: Path) -> bytes | None:
    """The bytes of a regular file in a trusted folder, itself trusted, opened without
    following a symlink; None otherwise."""
    if not _trusted_folder(path.parent):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
    except (OSError, ValueError):
        return None
    with os.fdopen(fd, "rb") as fh:
        try:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode) or not trusted(st):
                return None
            return fh.read()
        except OSError:
            return None


def _header(name: str) -> bytes:
    return json.dumps({"format": FORMAT, "key": name}, sort_keys=True).encode() + b"\n"


def _decoded(data: bytes, name: str) -> Entry | None:
    """The entry in ``data``: its magic line, plain header (format and key) and checksum
    are compared before anything is unpickled."""
    prefix = MAGIC + _header(name)
    if not data.startswith(prefix):
        return None
    digest, sep, body = data[len(prefix):].partition(b"\n")
    if not sep or digest != hashlib.sha256(body).hexdigest().encode():
        return None
    try:
        found = pickle.loads(body)  # fupin's own file, trusted and checksummed: see the module's docstring
    except Exception:  # noqa: BLE001 - a file that does not unpickle is no entry
        return None
    if not isinstance(found, dict) or found.get("key") != name or found.get("format") != FORMAT:
        return None
    try:
        return Entry(found["checked"], found["warnings"], found["documents"])
    except KeyError:
        return None


def hashed(documents: list) -> list:
    """``(path, sha256 or None)`` of each document the check reads (None: unreadable)."""
    return [(p, _document_hash(p)) for p in documents]


def write(path, rev: str, checked: dict, warnings: list, documents: list) -> None:
    """Store a load's result (nothing when the cache is off, cannot be written or is not
    trusted), then keep the :data:`MAX_ENTRIES` most recently used entries;
    ``documents``: :func:`hashed` before the check read them."""
    if not enabled() or rev is None:
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
    data = MAGIC + _header(name) + hashlib.sha256(body).hexdigest().encode() + b"\n" + body
    try:
        target = folder()
        target.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _trusted_folder(target):
            return
        _replace(target, name + SUFFIX, data)
    except (OSError, ValueError):
        return
    evict(MAX_ENTRIES)


def _replace(target: Path, name: str, data: bytes) -> None:
    import tempfile  # only to write: a hit need not import it

    fd, tmp = tempfile.mkstemp(dir=target, prefix=TEMP_PREFIX, suffix=SUFFIX)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target / name)
    except BaseException:
        os.unlink(tmp)
        raise


def _used(path: Path) -> None:
    """Mark an entry used now (its modification time orders :func:`evict`)."""
    try:
        os.utime(path)
    except OSError:
        pass


def evict(keep: int) -> int:
    """Remove all but the ``keep`` most recently used entries; how many were removed."""
    found = []
    for path in entries():
        try:
            found.append((path.stat().st_mtime_ns, path))
        except OSError:
            pass
    removed = 0
    for _, path in sorted(found, reverse=True)[keep:]:
        try:
            path.unlink()
            removed += 1
        except OSError:
            pass
    return removed


def _pickled(entry: dict) -> bytes:
    return pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)


def _document_hash(path: str) -> str | None:
    try:
        return file_sha256(path)
    except (OSError, ValueError):
        return None


def _starts(path: Path, size: int) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read(size)
    except (OSError, ValueError):
        return None


def _listed(pattern: re.Pattern) -> list[Path]:
    try:
        with os.scandir(folder()) as listing:
            return sorted(Path(i.path) for i in listing if pattern.match(i.name) and i.is_file(follow_symlinks=False))
    except (OSError, ValueError):
        return []


def entries() -> list[Path]:
    """The entries in the cache folder: files named as fupin names them that begin with
    its magic line (another file of that folder, ``insurance.policy``, is none)."""
    return [p for p in _listed(_ENTRY) if _starts(p, len(MAGIC)) == MAGIC]


def leftovers() -> list[Path]:
    """The temporary files of writes that were killed (empty, or the start of an entry)."""
    found = []
    for path in _listed(_TEMP):
        start = _starts(path, len(MAGIC))
        if start is not None and MAGIC.startswith(start):
            found.append(path)
    return found


def clear() -> tuple[int, int]:
    """Remove every entry and leftover temporary file of the cache folder, and nothing
    else: ``(entries, leftovers)`` removed."""
    counts = []
    for paths in (entries(), leftovers()):
        removed = 0
        for path in paths:
            try:
                path.unlink()
                removed += 1
            except OSError:
                pass
        counts.append(removed)
    return counts[0], counts[1]


__all__ = ["Entry", "FORMAT", "MAX_ENTRIES", "clear", "code_files", "code_stamp", "enabled", "entries", "evict", "folder",
           "hashed", "key", "leftovers", "pack_revision", "read", "trusted", "untrusted", "write"]
