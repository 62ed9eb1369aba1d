"""Check declarations: documents and citations, enums, entities and fields, parameters."""
from __future__ import annotations

import datetime as dt
import difflib
import re
from pathlib import Path

from ..coerce import CoerceError, coerce
from ..errors import Bilingual, error
from ..types import Type, parse_type
from .checked import CEntity, CEnum, CField, CIncidence, Citation, CParam, CReport, Gap

# Line numbers of at most 9 digits: a longer one is no line of any document, and Python
# refuses to read an integer of more than 4,300 digits (the fuzz corpus has one).
_CITE = re.compile(r"^\s*([^:\s]+)\s*:\s*(\d{1,9})\s*(?:[-–~]\s*(\d{1,9}))?\s*$")
COUNTABLE = ("enum", "bool", "integer", "string")
NUMERIC = ("integer", "decimal", "money", "ratio")


class Declarations:
    """Checks documents, enums, entities and parameters, collecting diagnostics."""

    def __init__(self, src, diags: list):
        self.src = src
        self.diags = diags
        self.enums: dict[str, CEnum] = {}
        self.entities: dict[str, CEntity] = {}
        self.doc_lengths: dict[str, int | None] = {}
        self.default_on: dt.date | None = None

    def over(self, src, diags: list) -> "Declarations":
        """These checked documents, enums and entities for another view of the same
        declarations (a variant), reporting into ``diags``."""
        other = Declarations(src, diags)
        other.enums, other.entities, other.doc_lengths = self.enums, self.entities, self.doc_lengths
        other.default_on = self.default_on
        return other

    # --- what a call that says nothing gets

    def defaults(self) -> None:
        """The declared default as-of date (``defaults: {on: YYYY-MM-DD}``)."""
        d = getattr(self.src, "defaults", None)
        if d is None or d.on is None:
            return
        try:
            self.default_on = d.on if isinstance(d.on, dt.date) else dt.date.fromisoformat(str(d.on).strip())
        except ValueError:
            self.diags.append(error("E103", d.loc.span("on"), detail=Bilingual(
                f"defaults.on：`{d.on}` 不是日期（YYYY-MM-DD）", f"defaults.on: `{d.on}` is not a date (YYYY-MM-DD)")))

    # --- documents and citations

    def documents(self) -> None:
        for name, doc in self.src.documents.items():
            self.doc_lengths[name] = None
            if not doc.file:
                continue
            path = (Path(doc.loc.file).parent / doc.file)
            count = _line_count(path)
            if count is None:
                self.diags.append(error("W905", doc.loc.span("file"), doc=name, path=str(path)))
            self.doc_lengths[name] = count

    def citations(self, text, loc, *sub) -> tuple:
        """Parse ``"002:189-191, 001:82"``; report bad or out-of-range citations."""
        if text is None:
            return ()
        out = []
        for part in str(text).replace("，", ",").split(","):
            if not part.strip():
                continue
            m = _CITE.match(part)
            span = loc.span(*sub)
            if not m:
                self.diags.append(error("E105", span, cite=part.strip(),
                                        detail=Bilingual("格式不对", "bad format")))
                continue
            doc, first, last = m.group(1), int(m.group(2)), int(m.group(3) or m.group(2))
            if doc not in self.src.documents:
                guess = difflib.get_close_matches(doc, list(self.src.documents), n=1)
                self.diags.append(error("E105", span, cite=part.strip(),
                                        detail=Bilingual(f"未声明文件 `{doc}`", f"document `{doc}` is not declared"),
                                        hint=Bilingual(f"是否想写 `{guess[0]}`？", f"did you mean `{guess[0]}`?") if guess else None))
                continue
            count = self.doc_lengths.get(doc)
            if last < first or first < 1 or (count is not None and last > count):
                self.diags.append(error("E106", span, lines=f"{first}-{last}", doc=doc, count=count))
                continue
            out.append(Citation(doc, first, last))
        return tuple(out)

    # --- enums and entities

    def declare_enums(self) -> None:
        for name, e in self.src.enums.items():
            self.enums[name] = CEnum(name, e.labels, dict(e.values))
            for text, first, second in self.enums[name].clashes():  # facts may spell values by label
                self.diags.append(error("E818", e.loc.key_span("values", second), enum=name, label=text,
                                        first=first, second=second))

    def _title(self, entity: str, title, fields: dict, loc) -> None:
        """E111 for a title that names a field the entity does not declare, or that a
        renderer cannot fill (a stray brace, an index, a format spec)."""
        import string

        for lang in ("zh", "en"):
            text = getattr(title, lang)
            if text is None:
                continue
            try:
                names = [(f, spec, conv) for _, f, spec, conv in string.Formatter().parse(text) if f is not None]
            except ValueError:
                names, bad = [], Bilingual("的花括号不成对", "has an unmatched brace")
            else:
                bad = None
            for fname, spec, conv in names:
                if fname not in fields:
                    guess = _guess(fname, fields) if fname else None
                    bad = Bilingual(f"引用了未声明的字段 `{fname}`" + (f"（是否想写 `{guess}`？）" if guess else ""),
                                    f"names `{fname}`, which the entity does not declare" + (f" (did you mean `{guess}`?)" if guess else ""))
                    break
                if spec or conv:
                    bad = Bilingual(f"中的 {{{fname}…}} 带有格式说明，只能写字段名", f"formats {{{fname}…}}: write the field name alone")
                    break
            if bad is not None:
                self.diags.append(error("E111", loc.span("title", lang), entity=entity, lang=lang, detail=bad))

    def type_of(self, text: str, loc, *sub) -> Type:
        typ = parse_type(text, self.enums)
        if typ is None and text != "list":
            choices = ["bool", "integer", "decimal", "money", "ratio", "date", "string", "list", *self.enums]
            guess = difflib.get_close_matches(text, choices, n=1)
            self.diags.append(error("E302", loc.span(*sub), name=text, suggestion=guess[0] if guess else "bool",
                                    hint=None if guess else Bilingual("可用类型：" + "、".join(choices), "types: " + ", ".join(choices))))
            return Type("any")
        return typ

    def declare_entities(self) -> None:
        for name, ent in self.src.entities.items():
            fields = {}
            for fname, f in ent.fields.items():
                fields[fname] = self._field(name, fname, f, ent.loc.child("fields", fname))
            self.entities[name] = CEntity(name, ent.labels, ent.parent, ent.key, fields, ent.loc.key_span(),
                                          default=ent.default, title=ent.title)
            if ent.title is not None:
                self._title(name, ent.title, fields, ent.loc)
        for name, ent in self.entities.items():
            loc = self.src.entities[name].loc
            if ent.parent and ent.parent not in self.entities:
                self.diags.append(error("E302", loc.span("parent"), name=ent.parent,
                                        suggestion=_guess(ent.parent, self.entities)))
            for f in ent.fields.values():
                if f.type.kind == "list" and f.child not in self.entities:
                    floc = loc.child("fields", f.name)
                    self.diags.append(error("E302", floc.span("of"), name=f.child or "?",
                                            suggestion=_guess(f.child or "", self.entities)))
                    f.type = Type("any")
                    f.child = None
        defaults = [name for name, ent in self.entities.items() if ent.default]
        for name in defaults[1:]:
            self.diags.append(error("E309", self.src.entities[name].loc.span("default"), name=name, first=defaults[0]))
        for name, ent in self.entities.items():
            ent.parent_key = self._parent_key(name, self.src.entities[name])
            ent.report = self._report(name, self.src.entities[name])
        self.declared_reports()

    def _field(self, entity: str, fname: str, f, loc) -> CField:
        if f.type == "list":
            typ = Type("list", f.of)
        else:
            typ = self.type_of(f.type, loc, "type")
        cf = CField(entity, fname, typ, f.labels, f.unit, f.required, child=f.of if f.type == "list" else None,
                    span=loc.key_span(), mutable=f.mutable, pii=f.pii)
        values = tuple(self.enums[typ.name].values) if typ.kind == "enum" else ()
        for attr in ("min", "max", "when_absent"):
            raw = getattr(f, attr)
            if raw is None or typ.kind in ("any", "list"):
                continue
            try:
                setattr(cf, attr, coerce(raw, typ, values))
            except CoerceError as exc:
                self.diags.append(error("E405", loc.span(attr), name=f"{entity}.{fname}.{attr}", value=raw, type=exc.expected))
        cf.has_absent = f.when_absent is not None
        cf.optional = f.optional
        if f.optional and typ.kind != "list":
            self.diags.append(error("E103", loc.span("optional"), detail=Bilingual(
                f"`{entity}.{fname}`：optional 只用于列表字段（标量字段本就可以缺）",
                f"`{entity}.{fname}`: optional is for list fields (a scalar field may always be absent)")))
        if typ.kind == "list" and f.max is not None:  # the most children a list may hold
            cf.max = self._list_max(f.max, loc, f"{entity}.{fname}.max")
        return cf

    def _list_max(self, raw, loc, name: str) -> int | None:
        try:
            most = coerce(raw, Type("integer"))
        except CoerceError:
            most = None
        if most is None or most < 1:
            self.diags.append(error("E405", loc.span("max"), name=name, value=raw, type="integer ≥ 1"))
            return None
        return int(most)

    # --- flat-file parent keys and reports (what `fupin batch` joins on and summarises)

    def _parent_key(self, name: str, ent) -> str | None:
        key = ent.parent_key
        if key is None:
            return None
        loc = ent.loc
        if ent.parent is None:
            detail = Bilingual(f"`{key}` 指向上级实体，但未声明 parent", f"`{key}` names the parent, but no parent is declared")
        elif key in ent.fields or key == ent.key:
            detail = Bilingual(f"`{key}` 已是一个字段；上级的编号列须另取名字",
                                f"`{key}` is already a field; the column of the parent's key needs a name of its own")
        else:
            return key
        self.diags.append(error("E308", loc.span("parent_key"), entity=name, detail=detail))
        return None

    def _report(self, name: str, ent) -> CReport | None:
        rep = ent.report
        if rep is None:
            return None
        loc = ent.loc.child("report")
        outputs = {r: parse_type(d.type, self.enums) for r, d in self.src.rules.items()
                   if d.entity == name and not d.internal}
        count = []
        for i, out in enumerate(rep.count):
            typ = self._named(name, "count", "输出", "output", out, outputs, loc.child("count", i))
            if typ is not None and typ.kind not in (*COUNTABLE, "any"):
                self.diags.append(error("E406", loc.span("count", i), name=out, type=typ.kind,
                                        expected="enum, bool, integer, string"))
            elif typ is not None:
                count.append(out)
        incidence = self._incidence(name, rep.incidence, loc.child("incidence")) if rep.incidence else None
        return CReport(rep.rows, tuple(count), incidence)

    def _incidence(self, name: str, inc, loc) -> CIncidence | None:
        fields = self.entities[name].fields
        ok = True
        if self.entities[name].parent_key is None:
            self.diags.append(error("E308", loc.key_span(), entity=name, detail=Bilingual(
                "发生率按上级分组，须声明 parent（及 parent_key，即平面文件中上级编号所在的列）",
                "an incidence is grouped by the parent: declare parent and parent_key (the column of the parent's key)")))
            ok = False
        scalars = {f: fld.type for f, fld in fields.items() if not fld.child}
        typ = self._named(name, "incidence.field", "字段", "field", inc.field, scalars, loc.child("field"))
        if typ is not None and typ.kind != "enum":
            self.diags.append(error("E406", loc.span("field"), name=inc.field, type=typ.kind, expected="enum"))
            typ = None
        for i, value in enumerate(inc.values if typ is not None else ()):
            if value not in self.enums[typ.name].values:
                values = list(self.enums[typ.name].values)
                self.diags.append(error("E304", loc.span("values", i), value=value, enum=typ.name, values=", ".join(values)))
                ok = False
        lists = {f: fld.type for f, fld in fields.items() if fld.child}
        if inc.people is not None and self._named(name, "incidence.people", "列表字段", "list field", inc.people,
                                                   lists, loc.child("people")) is None:
            ok = False
        if typ is None or not ok:
            return None
        return CIncidence(inc.labels, inc.field, tuple(inc.values), inc.people)

    def _named(self, entity, key, kind_zh, kind_en, name, choices: dict, loc):
        """``choices[name]`` (a type), or None after E307 with a did-you-mean hint."""
        if name in choices:
            return choices[name] or Type("any")
        guess = difflib.get_close_matches(name, list(choices), n=1)
        hint = None if guess else Bilingual("可选：" + ("、".join(choices) or "（无）"), "choices: " + (", ".join(choices) or "(none)"))
        self.diags.append(error("E307", loc.span(), entity=entity, key=key, name=name,
                                kind=Bilingual(kind_zh, kind_en), suggestion=guess[0] if guess else "", hint=hint))
        return None

    # --- the top-level ``reports:`` section (what `fupin batch --summary` and `fupin diff` show)

    def declared_reports(self) -> None:
        """Merge each ``reports: {entity: …}`` declaration into the entity's checked report."""
        for name, rep in getattr(self.src, "reports", {}).items():
            loc = rep.loc
            if name not in self.entities:
                self.diags.append(error("E302", loc.key_span(), name=name, suggestion=_guess(name, self.entities)))
                continue
            ent = self.entities[name]
            base = ent.report or CReport()
            outputs = {r: parse_type(d.type, self.enums) for r, d in self.src.rules.items()
                       if d.entity == name and not d.internal}
            count = base.count if rep.count is None else self._typed(name, "count", rep.count, outputs, loc, COUNTABLE)
            total = self._typed(name, "total", rep.total, outputs, loc, ("money",))
            average = self._typed(name, "average", rep.average, outputs, loc, NUMERIC)
            keys = dict.fromkeys(self._ancestor_keys(name))
            levels = tuple(k for i, k in enumerate(rep.levels)
                           if self._named(name, "reports.levels", "上级编号列", "key column", k, keys,
                                          loc.child("levels", i)) is not None)
            ent.report = CReport(base.rows, count, base.incidence, total, average, levels, rep.top, declared=True)

    def _typed(self, entity: str, key: str, names: list, outputs: dict, loc, kinds: tuple) -> tuple:
        """The names of ``names`` that are outputs of one of ``kinds`` (E307, E406 otherwise)."""
        out = []
        for i, name in enumerate(names):
            typ = self._named(entity, f"reports.{key}", "输出", "output", name, outputs, loc.child(key, i))
            if typ is not None and typ.kind not in (*kinds, "any"):
                self.diags.append(error("E406", loc.span(key, i), name=name, type=typ.kind, expected=", ".join(kinds)))
            elif typ is not None:
                out.append(name)
        return tuple(out)

    def _ancestor_keys(self, entity: str) -> list:
        """The declared ``parent_key`` columns of ``entity`` and its ancestors, nearest first."""
        out, name, seen = [], entity, set()
        while name in self.entities and name not in seen:
            seen.add(name)
            ent = self.entities[name]
            if ent.parent_key:
                out.append(ent.parent_key)
            name = ent.parent
        return out

    # --- parameters

    def parameter(self, name: str, p, origin: str) -> CParam:
        loc = p.loc
        typ = self.type_of(p.type, loc, "type")
        periods = []
        values = tuple(self.enums[typ.name].values) if typ.kind == "enum" else ()
        for key, raw in p.values.items():
            try:
                start = dt.date.fromisoformat(str(key))
            except ValueError:
                self.diags.append(error("E702", loc.key_span("values", key), name=name,
                                        detail=Bilingual(f"`{key}` 不是日期（YYYY-MM-DD）", f"`{key}` is not a date (YYYY-MM-DD)")))
                continue
            periods.append((start, self._param_value(name, raw, typ, values, loc.child("values", key))))
        periods.sort(key=lambda pv: pv[0])
        if not periods:
            self.diags.append(error("E702", loc.span("values"), name=name, detail=Bilingual("没有任何取值", "has no values")))
        sources = self.citations(p.source, loc, "source")
        return CParam(name, typ, p.labels, p.unit, sources, p.note, periods, origin, loc.key_span())

    def _param_value(self, name, raw, typ, values, loc):
        if raw is None:
            return None
        if isinstance(raw, dict):
            if set(raw) - {"gap", "source", "note"} or "gap" not in raw:
                self.diags.append(error("E702", loc.span(), name=name,
                                        detail=Bilingual("映射形式的取值只能是 {gap: …, source: …}", "a mapping value must be {gap: …, source: …}")))
                return None
            return Gap(str(raw["gap"]), self.citations(raw.get("source"), loc, "source"))
        if typ.kind == "any":
            return raw
        try:
            return coerce(raw, typ, values)
        except CoerceError as exc:
            self.diags.append(error("E405", loc.span(), name=name, value=raw, type=exc.expected))
            return None


def _guess(name: str, choices) -> str:
    found = difflib.get_close_matches(name, list(choices), n=1)
    return found[0] if found else next(iter(choices), "?")


def _line_count(path: Path) -> int | None:
    """Lines of a document's text, or None when it cannot be read (a NUL in the
    declared file name is a ValueError of the path, not an OSError). Read at every check,
    never remembered: a long-running process (``fupin serve --reload``, the workbench)
    checks a document edited since against its new length, and the cache of checked
    policies (engine/cache.py) stores no count of other bytes than those it hashed. The
    pack's five documents (300 KB) take about 2 ms to read and count."""
    try:
        return len(path.read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError, ValueError):
        return None
