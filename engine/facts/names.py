"""What a facts document's names mean: undeclared fields, the entity it describes, enum labels.

Three ways a fact used to vanish without a word, each decided here from the policy's
declarations alone:

- an undeclared field (``registerd``) is reported with a did-you-mean guess among the
  entity's fields: an error (E815) in a single evaluation unless unknown fields are
  allowed, a warning (W906) otherwise and per column in batch;
- facts of another entity (a village's, evaluated as a household) are one error (E817)
  naming the entity they look like, not a page of undeclared fields;
- an enum value may be written as its value (``exited``) or as one of its labels
  (``已脱贫``, ``registered, exited``; case-insensitively), and is read as the value
  (the spellings are the checked enum's, :meth:`~fupin.dsl.checker.checked.CEnum.spellings`).
"""
from __future__ import annotations

from ...dsl.errors import Bilingual, FupinError, Span, error

MIN_FIELDS_FOR_ANOTHER_ENTITY = 2  # fewer matching fields than this prove nothing


def guess_field(name, ent) -> str | None:
    """The declared field of ``ent`` closest to ``name`` (None if none is close)."""
    import difflib  # on a warning's or an error's path only (start-up)

    found = difflib.get_close_matches(str(name), list(ent.fields), n=1)
    return found[0] if found else None


def entity_label(ent, name: str) -> Bilingual:
    """How messages name an entity: its declared labels in each language (the English one,
    or the name, where it declares none)."""
    labels = ent.labels if ent is not None else None
    if labels is None:
        return Bilingual(name, name)
    return Bilingual(labels.zh, labels.en or name)


def undeclared(code: str, span: Span, ent, name, path: str, ident, label):
    """E815 (an error) or W906 (a warning) for an undeclared field, with a did-you-mean."""
    guess = guess_field(name, ent)
    if code == "W906":
        return error("W906", span, entity=label, id=ident, path=path, guess=_guess_text(guess))
    if guess is not None:
        return error("E815", span, entity=label, id=ident, path=path, suggestion=guess)
    return error("E815", span, entity=label, id=ident, path=path, hint=Bilingual(
        f"{label['zh'] if isinstance(label, dict) else label}的字段：{_some(ent.fields)}（确需忽略未声明字段时用 --allow-unknown-fields）",
        f"fields of {ent.name}: {_some(ent.fields)} (to ignore undeclared fields: --allow-unknown-fields)"))


def folded(warnings: list, most: int = 5, listed: int = 12) -> list:
    """Warnings as a person reads them after a batch run: every W906 with a did-you-mean
    (a likely typo) as it is, the first ``most`` without one too, and the rest in one
    W909 per entity naming ``listed`` of them: an input with 60 columns the policy does
    not use (the pack's data under a smaller ruleset) would print 60 lines otherwise.
    The run's report (and its record's ``ignored_columns``) keeps every one."""
    plain = [w for w in warnings if w.code == "W906" and not w.args.get("guess")]
    rest = plain[most:]
    if len(rest) < 2:
        return list(warnings)
    dropped = {id(w) for w in rest}
    out = [w for w in warnings if id(w) not in dropped]
    by_entity: dict = {}
    for w in rest:
        label = w.args["entity"]
        key = (label["zh"], label["en"]) if isinstance(label, dict) else (str(label), str(label))
        by_entity.setdefault(key, []).append(w.args["path"])
    for (zh, en), paths in by_entity.items():
        shown = "、".join(paths[:listed]) + ("……" if len(paths) > listed else "")
        shown_en = ", ".join(paths[:listed]) + (", …" if len(paths) > listed else "")
        out.append(error("W909", rest[0].span, entity=Bilingual(zh, en), count=len(paths),
                         names=Bilingual(shown, shown_en)))
    return out


def _guess_text(guess) -> Bilingual | str:
    if guess is None:
        return ""
    return Bilingual(f"（是否想写 `{guess}`？）", f" (did you mean `{guess}`?)")


def _some(names, most: int = 8) -> str:
    names = list(names)
    return ", ".join(names[:most]) + (", …" if len(names) > most else "")


def looks_like(checked, entity: str, names) -> tuple[str, list] | None:
    """The other entity whose declared fields these names match much better, with the
    names it explains; None when the names fit ``entity`` as well as any other.

    The names of keys (``id``) and parent keys say nothing about the entity. Another
    entity is named only when it explains at least two names, more of them than
    ``entity`` does, and at least half of all the names.
    """
    ent = checked.entities[entity]
    skip = {ent.key, *checked.parent_keys(entity)}  # once, not once per name
    names = [n for n in names if n not in skip]
    mine = sum(1 for n in names if n in ent.fields)
    if mine == len(names):
        return None
    best, matched = None, []
    for other, oent in checked.entities.items():
        hits = [n for n in names if n in oent.fields and n != oent.key]
        if other != entity and len(hits) > len(matched):
            best, matched = other, hits
    if best is None or len(matched) < MIN_FIELDS_FOR_ANOTHER_ENTITY or len(matched) <= mine \
            or 2 * len(matched) < len(names):
        return None
    return best, matched


def wrong_entity(span: Span, ent, ident, label, other: str, matched: list):
    """E817: the facts look like another entity's."""
    return error("E817", span, entity=label, id=ident, name=other, expected=ent.name,
                 fields=", ".join(f"`{n}`" for n in matched[:4]) + (", …" if len(matched) > 4 else ""))


def read_enum(raw, spellings: dict):
    """``raw`` as an enum value if it spells one (trimmed; casefolded), else ``raw`` unchanged."""
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    return spellings.get(text, spellings.get(text.casefold(), raw))


_LOOKALIKE = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "|": "1"})


def closest_ids(key: str, ids: list, n: int = 3) -> list:
    """Up to ``n`` of ``ids`` within a few edits of ``key``, nearest first; letters that
    look like digits (``O`` and ``0``, ``l`` and ``1``) count as the same. difflib ranks
    ``HH21`` before ``HH10`` for ``HH1O``, which is why it is not used here."""
    def edits(a: str, b: str) -> int:
        row = list(range(len(b) + 1))
        for i, ca in enumerate(a, 1):
            prev, row[0] = row[0], i
            for j, cb in enumerate(b, 1):
                prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
        return row[-1]

    limit = max(1, len(key) // 3)
    plain = key.translate(_LOOKALIKE)
    if len(ids) > 50_000:  # a register: look-alikes only (edit distances would take seconds)
        return [k for k in ids if k.translate(_LOOKALIKE) == plain][:n]
    scored = sorted((edits(plain, k.translate(_LOOKALIKE)), edits(key, k), i) for i, k in enumerate(ids)
                    if abs(len(k) - len(key)) <= limit)
    return [ids[i] for d, _, i in scored if d <= limit][:n]


def no_such_id(path: str, key: str, ids: list) -> FupinError:
    """E804 at a file none of whose ``ids`` is ``key``, with the closest as a hint."""
    near = closest_ids(key, ids)
    shown = "、".join(f"`{k}`" for k in near), ", ".join(f"`{k}`" for k in near)
    return FupinError(error("E804", Span(str(path), 0, 0), detail=Bilingual(
        f"没有 id 为 `{key}` 的实体（文件中共有 {len(ids)} 个）", f"no entity with id `{key}` ({len(ids)} in the file)"),
        hint=Bilingual(f"是否想找 {shown[0]}？", f"did you mean {shown[1]}?") if near else None))
