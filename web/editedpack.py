"""The second setting of an impact run: the served pack with edited rule files.

An analyst uploads either one edited rule file (placed at ``edited_path``, default its
name) or a ``.zip`` of edited files — a copy of the whole pack folder or just the files
that changed. Each YAML file of the archive replaces (or adds) the file at the same path
in the served pack; files the archive does not hold stay as served (a zip cannot say
"deleted": remove a rule's content instead). Cases under ``tests/`` and files that are
not YAML (notes, documents) are skipped: they do not change a decision. When every
entry sits in one top folder the pack does not have (``zip -r p.zip policy/``), that
folder is the pack root.

Nothing is extracted to disk: the texts go to ``load_policy(root, texts)``
(dsl/loader.py ``load_source(texts=…)``), which checks the whole pack as edited. An
archive is bounded before it is read (members, sizes, compression ratio) and every path
goes through ``checking.pack_path`` (no ``..``, no absolute path, no link out).
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path, PurePosixPath

from ..dsl.errors import Bilingual
from ..dsl.loader import MAX_FILE_BYTES
from .checking import SUFFIXES, pack_path
from .problems import Problem, at

MAX_MEMBERS = 2_000     # entries of an archive (the pack has ~60 files)
MAX_RATIO = 200         # uncompressed ÷ compressed size of one member: beyond, a zip bomb


def edited_texts(root: Path, filename: str, data: bytes, relpath: str | None = None,
                 where: str = "body/edited") -> dict:
    """``{resolved path in the pack: text}`` of an upload: one YAML file or a zip of them.
    A Problem (422 E863) says what is wrong with it, located at ``where``."""
    if filename.lower().endswith(".zip") or data[:4] == b"PK\x03\x04":
        return zip_texts(root, data, where)
    target = pack_path(root, relpath or Path(filename or "").name, must_exist=False)
    return {str(target): decoded(data, f"{where}/{target.relative_to(root.resolve()).as_posix()}")}


def zip_texts(root: Path, data: bytes, where: str = "body/edited") -> dict:
    """The YAML files of a zip archive, mapped onto the pack ``root`` (see the module)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise _bad(where, f"不是可读的 zip 文件（{exc}）", f"not a readable zip file ({exc})") from None
    if len(members) > MAX_MEMBERS:
        raise _bad(where, f"zip 中有 {len(members)} 个条目，上限 {MAX_MEMBERS}",
                   f"the zip holds {len(members)} entries; the limit is {MAX_MEMBERS}")
    files = [m for m in members if not m.is_dir()]
    strip = _top_folder(root, [m.filename for m in files])
    texts = {}
    for member in files:
        rel = PurePosixPath(member.filename.replace("\\", "/"))
        rel = PurePosixPath(*rel.parts[1:]) if strip else rel
        if rel.suffix not in SUFFIXES or (rel.parts and rel.parts[0] == "tests"):
            continue
        _bounded(member, where)
        target = pack_path(root, rel.as_posix(), must_exist=False)
        try:
            raw = archive.read(member)
        except (zipfile.BadZipFile, RuntimeError, ValueError, EOFError, NotImplementedError) as exc:
            raise _bad(where, f"`{member.filename}` 读不出来（{exc}）", f"`{member.filename}` cannot be read ({exc})") from None
        texts[str(target)] = decoded(raw, f"{where}/{rel.as_posix()}")
    if not texts:
        raise _bad(where, "zip 中没有规则文件（.yaml）", "the zip holds no rule file (.yaml)")
    return texts


def decoded(raw: bytes, where: str) -> str:
    """UTF-8 text (a BOM allowed); 422 E863 naming the file and its first bad byte
    otherwise (a rule file must be UTF-8, as the pack's own files are)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        name = where.removeprefix("body/edited").lstrip("/") or "edited"
        raise _bad(where, f"规则文件 `{name}` 的第 {exc.start} 字节不是 UTF-8（规则文件须为 UTF-8 编码）",
                   f"rule file `{name}`: byte {exc.start} is not UTF-8 (rule files are UTF-8)") from None


def _top_folder(root: Path, names: list) -> bool:
    """Whether every entry sits in one top folder that the pack itself does not have."""
    tops = {PurePosixPath(n.replace("\\", "/")).parts[0] for n in names if "/" in n.replace("\\", "/")}
    flat = any("/" not in n.replace("\\", "/") for n in names)
    return len(tops) == 1 and not flat and not (root / next(iter(tops))).is_dir()


def _bounded(member: zipfile.ZipInfo, where: str) -> None:
    """Refuse a member larger than a rule file may be, or compressed beyond any text."""
    ratio = member.file_size / max(member.compress_size, 1)
    if member.file_size > MAX_FILE_BYTES or ratio > MAX_RATIO:
        raise _bad(where, f"`{member.filename}` 解压后 {member.file_size} 字节，超出规则文件的上限",
                   f"`{member.filename}` is {member.file_size} bytes uncompressed, beyond a rule file's limit")


def _bad(where: str, zh: str, en: str) -> Problem:
    return Problem(at(where, "E863", detail=Bilingual(zh, en)), 422)
