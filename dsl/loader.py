"""Load a policy folder: every YAML file, validated, merged, with positions kept.

``load_source(path)`` returns a :class:`PolicySource`: the declarations of the base
policy and its variants, each object carrying its location (``loc``) so that later
stages report errors at ``file:line:col``. Problems are collected, not raised, so that
`fupin check` can report them all at once.
"""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError

from .errors import Bilingual, Diagnostic, FupinError, Span, error
from .files import policy_files
from .model import (DefaultsDef, DocumentDef, EntityDef, EnumDef, ExceptionDef, ParameterDef, RuleDef,
                    RuleFile, VariantFile)
from .slips import schema_problem
from .yamlsrc import Positions, load_yaml, load_yaml_file

MAX_FILE_BYTES = 2_000_000


@dataclass(frozen=True)
class Loc:
    """Where a declaration sits: the file's positions and the key path inside it."""

    pos: Positions
    path: tuple

    def span(self, *sub) -> Span:
        return self.pos.span(self.path + tuple(sub))

    def key_span(self, *sub) -> Span:
        return self.pos.key_span(self.path + tuple(sub))

    def expr_span(self, sub: tuple, text: str, offset: int) -> Span:
        return self.pos.expr_span(self.path + tuple(sub), text, offset)

    def child(self, *sub) -> "Loc":
        return Loc(self.pos, self.path + tuple(sub))

    @property
    def file(self) -> str:
        return self.pos.file


@dataclass
class PolicySource:
    """Everything declared by a policy folder, before checking."""

    root: Path
    documents: dict[str, DocumentDef] = field(default_factory=dict)
    enums: dict[str, EnumDef] = field(default_factory=dict)
    entities: dict[str, EntityDef] = field(default_factory=dict)
    parameters: dict[str, ParameterDef] = field(default_factory=dict)
    rules: dict[str, RuleDef] = field(default_factory=dict)
    variants: dict[str, VariantFile] = field(default_factory=dict)
    defaults: DefaultsDef | None = None  # declared once, in any rule file
    reports: dict = field(default_factory=dict)  # entity -> ReportsDef (top-level ``reports:``)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    # Checking one file of a policy: the file asked for (as displayed). The whole policy
    # is loaded, so that its names, entities and documents are known, and only the
    # diagnostics located in this file are reported.
    focus: str | None = None


def load_source(path: str | os.PathLike, texts: dict | None = None) -> PolicySource:
    """Read every rule and variant file under ``path`` into a PolicySource.

    ``texts`` maps a file's resolved path to the text to read instead of the file's (an
    edited copy checked before it is saved, or a new file: one under the folder that does
    not exist yet is read too); the files keep their names in diagnostics."""
    texts = {str(Path(k).resolve()): v for k, v in (texts or {}).items()}
    root = Path(path)
    src = PolicySource(root=root)
    if not root.exists():
        src.diagnostics.append(error("E107", Span(str(root), 1, 1), path=str(root),
                                     detail=_bi("不存在", "not found")))
        return src
    if root.is_file():
        folder = policy_root(root)
        if folder is not None:
            src.root, src.focus = folder, _display(root)
            root = folder
    files = policy_files(root)
    on_disk = {str(f.resolve()) for f in files}
    files += [Path(_display(Path(k))) for k in sorted(texts) if k not in on_disk and Path(k).is_relative_to(root.resolve())]
    for file in files:
        _load_file(src, file, texts.get(str(file.resolve())))
    return src


def policy_root(file: Path) -> Path | None:
    """The policy folder a rule file belongs to: the nearest folder above it (up to four
    levels) with a YAML file that declares the policy's entities (a top-level
    ``entities:`` key), or None for a file on its own."""
    folder = file.resolve().parent
    for _ in range(4):
        if any(_declares_entities(f) for f in sorted(folder.glob("*.y*ml"))):
            return Path(_display(folder))
        if folder.parent == folder:
            break
        folder = folder.parent
    return None


def _declares_entities(file: Path) -> bool:
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            return False
        return any(line.startswith("entities:") for line in file.read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError):
        return False


def _size(file: Path, name: str) -> int:
    """A file's size; E107 when it cannot be read (a dangling symlink)."""
    try:
        return file.stat().st_size
    except OSError:
        raise FupinError(error("E107", Span(name, 1, 1), path=name,
                               detail=_bi("无法打开此文件", "the file cannot be opened"))) from None


def _load_file(src: PolicySource, file: Path, text: str | None = None) -> None:
    name = _display(file)
    src.files.append(name)
    try:
        size = len(text.encode("utf-8")) if text is not None else _size(file, name)
        if size > MAX_FILE_BYTES:
            src.diagnostics.append(error("E107", Span(name, 1, 1), path=name,
                                         detail=_bi(f"大于 {MAX_FILE_BYTES} 字节", f"larger than {MAX_FILE_BYTES} bytes")))
            return
        data, pos = load_yaml_file(name) if text is None else load_yaml(text, name)
    except FupinError as exc:
        src.diagnostics.extend(exc.diagnostics)
        return
    if data is None:
        return
    if not isinstance(data, dict):
        src.diagnostics.append(error("E103", pos.span(()), detail=_bi("文件顶层应为映射", "the file's top level must be a mapping")))
        return
    model = VariantFile if "variant" in data else RuleFile
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        src.diagnostics.extend(_schema_errors(exc, pos, model, data))
        return
    loc = Loc(pos, ())
    if isinstance(parsed, VariantFile):
        _add_variant(src, parsed, loc)
    else:
        _add_rule_file(src, parsed, loc)


def _display(file: Path) -> str:
    try:
        return os.path.relpath(file)
    except ValueError:
        return str(file)


def _add_rule_file(src: PolicySource, parsed: RuleFile, loc: Loc) -> None:
    if parsed.defaults is not None:
        parsed.defaults.locate(loc.child("defaults"))
        if src.defaults is not None:
            src.diagnostics.append(error("E104", parsed.defaults.loc.key_span(), name="defaults",
                                         first=str(src.defaults.loc.key_span())))
        else:
            src.defaults = parsed.defaults
    sections = (("documents", src.documents), ("enums", src.enums), ("entities", src.entities),
                ("parameters", src.parameters), ("rules", src.rules), ("reports", src.reports))
    for section, target in sections:
        for name, obj in getattr(parsed, section).items():
            obj.locate(loc.child(section, name))
            if section == "rules" and obj.entity is None:
                obj.entity = parsed.entity
            _declare(src, target, name, obj)
            if section == "rules":
                for i, exc in enumerate(obj.exceptions):
                    exc.locate(obj.loc.child("exceptions", i))


def _declare(src: PolicySource, target: dict, name: str, obj) -> None:
    if name in target:
        first = target[name].loc.key_span()
        src.diagnostics.append(error("E104", obj.loc.key_span(), name=name, first=str(first)))
        return
    target[name] = obj


def _add_variant(src: PolicySource, parsed: VariantFile, loc: Loc) -> None:
    parsed.locate(loc)
    if parsed.variant in src.variants or parsed.variant == "base":
        first = src.variants[parsed.variant].loc.span("variant") if parsed.variant in src.variants else "base"
        src.diagnostics.append(error("E104", loc.span("variant"), name=parsed.variant, first=str(first)))
        return
    for rule_name, excs in parsed.exceptions.items():
        for i, exc in enumerate(excs):
            exc.locate(loc.child("exceptions", rule_name, i), parsed.variant)
    src.variants[parsed.variant] = parsed


def _bi(zh: str, en: str) -> Bilingual:
    return Bilingual(zh, en)


def _schema_errors(exc: ValidationError, pos: Positions, model, data=None) -> list[Diagnostic]:
    """pydantic's errors as located E103 diagnostics in fupin's words (never its prose)."""
    out = []
    seen = set()
    for err in exc.errors():
        loc = _data_path(data, tuple(err["loc"])) if data is not None else _strip_union_tags(tuple(err["loc"]))
        key = (loc, err["loc"][-1] if err["type"] == "missing" and err["loc"] else None)
        if key in seen:
            continue  # a union's members each fail at the same place: one message
        seen.add(key)
        path = ".".join(str(p) for p in loc) or "/"
        if err["type"] == "extra_forbidden" and loc:
            span = pos.key_span(loc)
            allowed = _allowed_keys(model, loc)
            guess = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = _bi(f"是否想写 `{guess[0]}`？", f"did you mean `{guess[0]}`?") if guess else \
                _bi("可用的键：" + "、".join(allowed), "allowed keys: " + ", ".join(allowed)) if allowed else None
            out.append(error("E103", span, detail=_bi(f"未知的键 `{loc[-1]}`", f"unknown key `{loc[-1]}`"), hint=hint))
        elif err["type"] == "missing" and err["loc"]:
            key = err["loc"][-1]
            span = pos.key_span(loc) if loc else pos.span(loc)
            out.append(error("E103", span, detail=_bi(f"`{path}` 缺少必填键 `{key}`", f"`{path}`: missing key `{key}`")))
        else:
            problem = schema_problem(err)
            out.append(error("E103", pos.span(loc), detail=_bi(f"`{path}`：{problem['zh']}", f"`{path}`: {problem['en']}")))
    return out


def _data_path(data, loc: tuple) -> tuple:
    """The part of pydantic's error path that names places in the data: pydantic adds
    the names of union members and validators (``str``, ``function-after[...]``), which
    a key may also look like (``"a[b]"``), so the path is walked in the data itself. A
    missing key's own name is left out: the error is located at its parent."""
    out, current = [], data
    for part in loc:
        if isinstance(current, dict) and part in current:
            out.append(part)
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            out.append(part)
            current = current[part]
    return tuple(out)


def _allowed_keys(model, loc: tuple) -> list[str]:
    """The keys a schema allows at the place of an unknown key (for the hint)."""
    current = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        fld = getattr(current, "model_fields", {}).get(part)
        if fld is None:
            continue  # a user-chosen name inside a dict: the model stays the dict's value type
        current = _inner_model(fld.annotation)
    return list(getattr(current, "model_fields", {}).keys()) if current else []


def _inner_model(annotation):
    """The schema model inside an annotation such as ``dict[str, RuleDef] | None``."""
    import typing

    stack = [annotation]
    while stack:
        ann = stack.pop()
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            return ann
        stack.extend(typing.get_args(ann))
    return None


__all__ = ["load_source", "PolicySource", "Loc", "policy_files", "policy_root"]
