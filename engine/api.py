"""The stable Python API: ``load_policy(path)`` → :class:`Policy`.

    policy = load_policy("policy/")
    result = policy.evaluate(household, on="2020-06-30", trace=True)
    result["monitoring_tier"]; result.unknown; result.on; result.explain("monitoring_tier")
    for item in policy.evaluate_file(FactsFile("households.yaml")): ...

Loading checks the whole policy (base and variants) and raises :class:`FupinError`
if there are errors; programs are compiled once per variant, on first use. The as-of
date of a call that gives none is the policy's declared ``defaults: {on: …}`` (E819 if
it declares none): the engine has no date of its own, and every result states its date.
"""
from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..dsl.errors import Diagnostic, FupinError, Span, error
from ..dsl.files import policy_files
from .facts.validate import FactsChecker
from .reports.identity import revision
from .scalar.program import Evaluation, Program

if TYPE_CHECKING:
    from .reports.result import OutputError, Result

# reports/record.py, result.py, reasons.py and whatif.py (pydantic models, what-if search)
# are imported by the calls that use them, not here: loading a policy and ``fupin batch``
# never need them, and building their models was a tenth of ``import fupin``
# (docs/performance.md, "Start-up").


def load_policy(path: str | Path, texts: dict | None = None, cache: bool = True) -> "Policy":
    """Load, check and prepare a policy folder; raise FupinError on any error.

    ``texts`` maps files of the folder (paths) to text read instead of the file's: a
    pack as edited but not saved (the workbench's impact of an edit); its revision
    hashes that text. A folder whose files are unchanged since an earlier load is read
    from the cache of checked policies (engine/cache.py; ``cache=False`` or
    ``FUPIN_NO_CACHE=1``: not read, not written); the policy is the same either way."""
    from . import cache as stored

    rev = stored.pack_revision(path) if cache and texts is None and stored.enabled() else None
    entry = stored.read(path, rev) if rev is not None else None
    if entry is not None:
        return Policy(CachedSource(Path(path)), dict(entry.checked), list(entry.warnings), rev)
    from ..dsl.checker import check_all
    from ..dsl.loader import load_source

    src = load_source(path, texts)
    # hashed before and after the checker reads them: one edited meanwhile leaves the load
    # unstored, so no entry pairs one content's hash with another content's line count
    documents = stored.hashed(_documents(src)) if rev is not None else []
    diags, results = check_all(src)
    errors = [d for d in diags if d.severity == "error"]
    if errors:
        raise FupinError(errors)
    policy = Policy.checked_now(src, results, diags, texts)
    if rev is not None and policy.revision == rev and stored.hashed(_documents(src)) == documents:
        stored.write(path, rev, policy.checked_views(), policy.warnings, documents)
    return policy


def _documents(src) -> list[str]:
    """The files the check read to count the lines of cited documents (checker/declarations.py)."""
    return [str(Path(doc.loc.file).parent / doc.file) for doc in src.documents.values() if doc.file and doc.loc]


class CachedSource:
    """The ``source`` of a policy read from the cache: its ``root`` at once; any other
    attribute of the :class:`~fupin.dsl.loader.PolicySource` (declarations with their
    places) loads the folder's files then, once, as an uncached load would have."""

    def __init__(self, root: Path):
        self.root = root

    def __getattr__(self, name: str):
        if name.startswith("__") or name in ("root", "_loaded"):
            raise AttributeError(name)
        if "_loaded" not in self.__dict__:
            from ..dsl.loader import load_source

            self._loaded = load_source(self.root)
        return getattr(self._loaded, name)


class Policy:
    """A checked policy with its variants; compiles a Program per variant on demand."""

    def __init__(self, src, checked: dict, warnings: list[Diagnostic], rev: str):
        """A policy of ``src`` (its PolicySource, or a CachedSource when read from the
        cache) whose views were checked to ``checked`` with ``warnings``, at revision ``rev``;
        :func:`load_policy` makes it (:meth:`checked_now` after a check)."""
        self.source = src
        self._checked = checked  # view name -> CheckedPolicy ("base" first)
        self.warnings = warnings
        self.revision = rev  # content hash of the pack's files
        self._programs: dict[str, Program] = {}
        self._compiled: dict = {}  # fast closures by checked rule, shared by the variants' programs
        self._facts: dict[str, FactsChecker] = {}
        self._rule_names: dict = {}  # (variant, entity) -> its rules' names (check_outputs, on every call)

    @classmethod
    def checked_now(cls, src, results: dict, diagnostics: list[Diagnostic], texts: dict | None = None) -> "Policy":
        """The policy of a load that checked ``src``: each view's result, the checker's
        warnings, the revision of the files (``texts`` standing for files as edited)."""
        root = Path(src.root)
        return cls(src, {name: r.policy for name, r in results.items()},
                   [d for d in diagnostics if d.severity == "warning"], revision(policy_files(root), root, texts))

    def checked_views(self) -> dict:
        """Each view's checked policy (``"base"`` first): what the cache stores."""
        return dict(self._checked)

    @property
    def variants(self) -> list[str]:
        return ["base", *sorted(n for n in self._checked if n != "base")]

    def program(self, variant: str | None = None) -> Program:
        """The compiled program of the base (None) or a variant."""
        name = variant or "base"
        if name not in self._checked:
            choices = ", ".join(self.variants)
            raise FupinError(error("E812", Span("<arguments>", 0, 0), name=name, choices=choices))
        if name not in self._programs:
            self._programs[name] = Program(self._checked[name], self._compiled)
        return self._programs[name]

    def facts_checker(self, variant: str | None = None) -> FactsChecker:
        name = variant or "base"
        if name not in self._facts:
            self._facts[name] = FactsChecker(self.program(name).checked)
        return self._facts[name]

    def entity(self, name: str | None = None, variant: str | None = None) -> str:
        """The entity a call evaluates: ``name``, or the policy's declared default entity.

        Raises E302 for an entity the policy does not declare, E814 when no entity is named
        and the policy declares no default (both located at ``<arguments>``).
        """
        entities = self.program(variant).checked.entities
        if name is None:
            name = self.program(variant).checked.default_entity
            if name is None:
                raise FupinError(error("E814", Span("<arguments>", 0, 0), choices=", ".join(entities)))
        if name not in entities:
            raise FupinError(error("E302", Span("<arguments>", 0, 0), name=name, suggestion=", ".join(entities)))
        return name

    def key_of(self, facts, entity: str | None = None, variant: str | None = None) -> str | None:
        """The entity's key in raw facts, as text (None if absent).

        The key is the field the entity declares as ``key`` (``id`` unless it says
        otherwise); finding an entity "by id" must read that field.
        """
        if not isinstance(facts, dict):
            return None
        ent = self.program(variant).checked.entities.get(entity or self.program(variant).checked.default_entity)
        value = facts.get(ent.key if ent is not None else "id")
        return None if value is None else str(value)

    def check_outputs(self, names, entity: str, variant=None) -> None:
        """Raise E811 for a requested output the entity does not have."""
        known = self._rule_names.get((variant, entity))
        if known is None:
            rules = self.program(variant).checked.rules
            known = self._rule_names[(variant, entity)] = {n: None for n, r in rules.items() if r.entity == entity}
        for name in names:
            if name not in known:
                guess = difflib.get_close_matches(name, list(known), n=1)
                raise FupinError(error("E811", Span("<arguments>", 0, 0), name=name,
                                       suggestion=guess[0] if guess else ", ".join(list(known)[:5])))

    def default_date(self, variant: str | None = None) -> dt.date | None:
        """The as-of date the policy declares for calls that give none (``defaults: {on: …}``)."""
        return self.program(variant).checked.default_on

    def as_of(self, on=None, variant: str | None = None) -> dt.date:
        """The date a call evaluates on: ``on`` (a date or ISO text), else the policy's
        declared default; E804 for a bad date, E819 when there is neither (``<arguments>``)."""
        return as_date(on, self.default_date(variant))

    def evaluate(self, facts: dict, on: str | dt.date | None = None, variant: str | None = None,
                 entity: str | None = None, only=None, trace: bool = False, where=None,
                 allow_unknown_fields: bool = False) -> Result:
        """Validate facts and evaluate one entity; raise FupinError for invalid facts.

        An undeclared field is an error (E815, with a did-you-mean) unless
        ``allow_unknown_fields``; then it is ignored and listed in ``result.warnings``
        (W906). ``on`` defaults to the policy's declared date; ``result.on`` states it.
        """
        day, program, entity, typed, diags = self._prepared(facts, on, variant, entity, only, where,
                                                            allow_unknown_fields)
        from .reports import record
        from .reports.reasons import annotate

        evaluation = program.evaluate(typed, day, entity, outputs=only, trace=trace)
        made = record.make(self.revision, program.checked.variant, day.isoformat(), entity, facts)
        if trace:  # the deciding facts are found when the trace is first read (they re-evaluate)
            same, checked, kept = self._same(program, typed, day, entity, evaluation), program.checked, made.model_dump()
            evaluation.trace.then(lambda built: annotate(built, checked, entity, typed, same))
            evaluation.trace.then(lambda built: built.model_copy(update={"record": kept}))
        result = to_result(evaluation, [d for d in diags if d.severity == "warning"])
        result.record = made
        return result

    def _prepared(self, facts, on, variant, entity, only, where, allow_unknown_fields):
        """The date, program, entity and typed facts of a call (FupinError when invalid)."""
        day = self.as_of(on, variant)
        program = self.program(variant)
        entity = self.entity(entity, variant)
        if only:
            self.check_outputs(only, entity, variant)
        typed, diags = self.facts_checker(variant).validate(facts, entity, where, allow_unknown=allow_unknown_fields)
        if typed is None:
            raise FupinError([d for d in diags if d.severity == "error"])
        return day, program, entity, typed, diags

    def what_if(self, facts: dict, output: str, value=None, on=None, variant=None, entity=None,
                max_changes: int | None = None, allow_unknown_fields: bool = False) -> dict:
        """``value -> [Alternative]``: the smallest sets of fact changes (at most
        ``max_changes`` facts) that give ``output`` each other value (``value``: that one
        alone, written as stored, as a label, or 是/否/yes/no), each verified by
        re-evaluation, ranked (reports/whatif.py). A bool or enum output without ``value``
        asks for every value it does not have; an unknown output for each value still
        possible, changing only the facts it is missing (which fact settles it how).
        ``max_changes`` None: reports/whatif.py's ``MAX_CHANGES`` (2)."""
        from .reports import whatif

        max_changes = whatif.MAX_CHANGES if max_changes is None else max_changes
        day, program, entity, typed, _ = self._prepared(facts, on, variant, entity, [output], None,
                                                        allow_unknown_fields)
        ev = program.evaluate(typed, day, entity, outputs=[output])
        current = None if output in ev.unknown or output in ev.errors else ev.values[output]
        if value is not None:
            targets = [whatif.parse_value(program.checked, output, value)]
        else:
            targets = whatif.other_values(program.checked, output, current, ev.possible.get(output))
        if current is not None and targets and all(whatif.same(t, current) for t in targets):
            return {t: [] for t in targets}  # it already has that value: nothing to change
        question = whatif.Question(program.checked, program.space, entity, typed, output,
                                   ev.unknown.get(output, ()))

        def outcome(changed):
            got = program.evaluate(changed, day, entity, outputs=[output])
            return whatif.UNSET if output in got.unknown or output in got.errors else got.values[output]
        return whatif.search(question, outcome, targets, max_changes)

    def read_record(self, path: str) -> dict:
        """A stored decision record (what ``fupin explain --format json`` writes), checked
        against this policy: ``{record, facts, output}``; FupinError located in the file
        when its revision is not this policy's (E841), its facts are not those hashed
        (E842) or it is not a record (E843). Evaluate ``facts`` with the record's ``on``,
        ``variant`` and ``entity`` to explain it again."""
        from .reports import record

        return record.read_record(str(path), self.revision)

    def log_decisions(self, path: str, evaluated: list, variant: str | None = None) -> None:
        """Append a decision-log line (JSONL) per evaluated entity of ``evaluated``
        (:meth:`evaluate_file`'s list), the fields the pack declares ``pii: true`` masked."""
        from .reports import record

        record.append_log(str(path), evaluated, self.program(variant).checked)

    def why_not(self, facts: dict, output: str, value, **kwargs) -> list:
        """The smallest sets of fact changes that would give ``output`` the value ``value``
        (see :meth:`what_if`): ``[Alternative]``, empty when no set of at most
        ``max_changes`` facts does."""
        answers = self.what_if(facts, output, value, **kwargs)
        return next(iter(answers.values()), [])

    @staticmethod
    def _same(program, typed, day, entity, evaluation):
        """``output -> (facts -> bool)``: whether the output keeps its value on other
        facts (the test that finds the deciding facts, reports/reasons.py)."""
        values = dict(evaluation.values)  # as evaluated, whatever a caller does to the result later

        def same_for(output):
            want = values.get(output)

            def same(facts) -> bool:
                ev = program.evaluate(facts, day, entity, outputs=[output])
                return output not in ev.unknown and output not in ev.errors and ev.values[output] == want
            return same
        return same_for

    def evaluate_file(self, ffile, on=None, variant=None, entity: str | None = None, only=None,
                      trace: bool = False, allow_unknown_fields: bool = False) -> list["Evaluated"]:
        """Evaluate every entity of a :class:`~fupin.engine.facts.read.FactsFile`.

        An entity whose facts are invalid is kept, with its located diagnostics, and the
        others go on; an error in the call itself (unknown output, variant, entity or
        date) is the same for every entity and is raised.
        """
        out = []
        on = self.as_of(on, variant)  # once: a missing or bad date is the call's error
        for raw, base in ffile.items:
            key = self.key_of(raw, entity, variant)
            try:
                result = self.evaluate(raw, on=on, variant=variant, entity=entity, only=only, trace=trace,
                                       where=ffile.where(base), allow_unknown_fields=allow_unknown_fields)
            except FupinError as exc:
                if is_argument_error(exc):
                    raise
                out.append(Evaluated(raw, key, None, exc.diagnostics, on.isoformat()))
                continue
            out.append(Evaluated(raw, key, result, on=result.on))
        return out

    def find(self, ffile, key=None, entity: str | None = None, variant=None):
        """The first entity of a facts file whose declared key is ``key`` (any entity if None):
        ``(facts, locator)``, or None."""
        for raw, base in ffile.items:
            if key is None or self.key_of(raw, entity, variant) == str(key):
                return raw, ffile.where(base)
        return None

    def not_found(self, ffile, key, entity: str | None = None, variant=None) -> FupinError:
        """E804 at a facts file that holds no entity whose key is ``key``, with the ids
        closest to it as a hint (a mistyped ``HH1O`` for ``HH10``)."""
        from .facts.names import no_such_id

        ids = [k for k in (self.key_of(raw, entity, variant) for raw, _ in ffile.items) if k is not None]
        return no_such_id(ffile.path, str(key), ids)

    def compare(self, input_path, output, vs_policy=None, *, on=None, vs_on=None, variant=None, vs_variant=None,
                entity=None, only=None, by=None, quarantine=None, joins=None, chunk_size: int = 32_768,
                engine: str = "local", scheduler=None, lang: str = "zh", exact: bool = True):
        """Evaluate a dataset file under two settings — two dates (``on``/``vs_on``), two
        variants (``variant``/``vs_variant``) or another pack (``vs_policy``: a Policy or
        a folder) — reading and validating its facts once; write the changed rows to
        ``output`` and return the :class:`~fupin.engine.batch.compare.Comparison`
        (``.diff`` figures, ``.text()``, ``.to_dict()``). E850/E851 before anything is
        read when two packs' entities or facts differ; E852 when the settings are equal."""
        from .batch.compare import compare_file

        other = load_policy(vs_policy) if isinstance(vs_policy, (str, Path)) else vs_policy
        return compare_file(self, input_path, output, other, on=on, vs_on=vs_on, variant=variant,
                            vs_variant=vs_variant, entity=entity, only=only, by=by, quarantine=quarantine, joins=joins,
                            chunk_size=chunk_size, engine=engine, scheduler=scheduler, lang=lang, exact=exact)

    def explain(self, facts: dict, output: str, on=None, variant=None, entity=None, lang="zh",
                allow_unknown_fields: bool = False, depth: int | None = 1) -> str:
        """Evaluate ``output`` alone with a trace and render its explanation (the details
        ``depth`` levels deep, None: all)."""
        result = self.evaluate(facts, on=on, variant=variant, entity=entity, only=[output], trace=True,
                               allow_unknown_fields=allow_unknown_fields)
        return result.explain(output, lang, depth)


@dataclass
class Evaluated:
    """One entity of a facts file: its result, or the diagnostics that made its facts invalid."""

    facts: object
    key: str | None
    result: Result | None
    invalid: list[Diagnostic] = field(default_factory=list)
    on: str | None = None  # the as-of date used (ISO)

    def to_dict(self, lang: str = "zh") -> dict:
        """The ``fupin eval`` JSON of this entity: ``id``, ``on`` (the date used), then the
        result's (or ``invalid``: the diagnostics), and ``warnings`` when there are any."""
        if self.result is None:
            return {"id": self.key, "on": self.on, "results": None, "unknown": {},
                    "invalid": [d.to_json(lang) for d in self.invalid]}
        out = {"id": self.result.id, "on": self.result.on, **self.result.to_dict()}
        if self.result.warnings:
            out["warnings"] = [w.model_dump() for w in self.result.warnings]
        return out


ARGUMENT_CODES = ("E811", "E812", "E302", "E804", "E814", "E817", "E819")


def is_argument_error(exc: FupinError) -> bool:
    """True when the call itself is wrong (unknown output, variant or entity, a bad date):
    the same for every entity, so a run stops rather than marking each entity invalid."""
    return exc.code in ARGUMENT_CODES and exc.diagnostics[0].span.file == "<arguments>"


def as_date(on, default: dt.date | None = None) -> dt.date:
    """An evaluation date from a date or an ISO string; ``default`` (the policy's
    declared date) when ``on`` is None, and E819 at ``<arguments>`` when that is None too."""
    if on is None:
        if default is None:
            raise FupinError(error("E819", Span("<arguments>", 0, 0)))
        return default
    if isinstance(on, dt.date):
        return on
    try:
        return dt.date.fromisoformat(str(on))
    except ValueError:
        raise FupinError(error("E804", Span("<arguments>", 0, 0),
                               detail={"zh": f"日期 `{on}` 无效（应为 YYYY-MM-DD）",
                                       "en": f"invalid date `{on}` (expected YYYY-MM-DD)"})) from None


def to_result(ev: Evaluation, warnings=()) -> Result:
    """Wrap a raw evaluation (and the facts' warnings) into the pydantic Result."""
    from .reports.result import Result

    errors = {k: _reported(d) for k, d in ev.errors.items()}
    result = Result.model_construct(id=ev.id, entity=ev.entity, on=ev.on.isoformat(), variant=ev.variant,
                                    values=ev.values, unknown=ev.unknown, possible=ev.possible, errors=errors,
                                    warnings=[_reported(d) for d in warnings])
    result.trace = ev.trace  # a recorded trace stays unbuilt until read (reports/trace.py)
    return result


def _reported(d: Diagnostic) -> "OutputError":
    from .reports.result import OutputError

    return OutputError(code=d.code, message=d.message("zh"), message_en=d.message("en"), location=str(d.span))
