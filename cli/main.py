"""The `fupin` command line: arguments and printing only.

    fupin check POLICY [--strict]
    fupin eval POLICY FACTS [--on DATE] [--variant V] [--entity E] [--only a,b] [--format json|text]
    fupin explain POLICY FACTS --output NAME [--id ID] [--on DATE] [--lang zh|en] [--format text|json]
    fupin test PATH [--min-coverage N]
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from ..dsl.errors import FupinError, render_all

LANG = click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
                    help="Language of messages / 消息语言")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fupin")
def main():
    """fupin：扶贫政策规则引擎 / a rules engine for poverty-alleviation policy."""


def _fail(exc: FupinError, lang: str) -> None:
    click.echo(render_all(exc.diagnostics, lang), err=True)
    sys.exit(1)


def _policy(path: str, lang: str):
    from ..engine.api import load_policy

    try:
        return load_policy(path)
    except FupinError as exc:
        _fail(exc, lang)


@main.command()
@click.argument("policy", type=click.Path())
@click.option("--strict", is_flag=True, help="Warnings fail too / 警告也算失败")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@LANG
def check(policy, strict, fmt, lang):
    """Check a policy folder: schema, syntax, names, types, cycles, tables, sources."""
    from ..dsl.checker import check_all
    from ..dsl.loader import load_source

    diags, _ = check_all(load_source(policy))
    if fmt == "json":
        from ..engine.reports.jsonout import dumps

        click.echo(dumps([d.to_json(lang) for d in diags]))
    else:
        click.echo(render_all(diags, lang))
    failing = [d for d in diags if d.severity == "error" or strict]
    sys.exit(1 if failing else 0)


def _facts(path: str, lang: str):
    from ..engine.facts.read import FactsFile

    try:
        return FactsFile(path)
    except FupinError as exc:
        _fail(exc, lang)


def _only(only: str | None):
    return [s.strip() for s in only.split(",") if s.strip()] if only else None


@main.command("eval")
@click.argument("policy", type=click.Path())
@click.argument("facts", type=click.Path())
@click.option("--on", "on", default=None, help="As-of date YYYY-MM-DD (default 2020-06-30)")
@click.option("--variant", default=None, help="Variant name / 变体")
@click.option("--entity", default="household", show_default=True)
@click.option("--only", default=None, help="Comma-separated outputs")
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="json", show_default=True)
@click.option("--explain", "explain_output", default=None, help="Also explain this output for the first entity")
@LANG
def eval_(policy, facts, on, variant, entity, only, fmt, explain_output, lang):
    """Evaluate entities from a JSON/YAML facts file."""
    from ..engine.reports.jsonout import dumps

    pol = _policy(policy, lang)
    ffile = _facts(facts, lang)
    outputs, failed, first = [], False, None
    for raw, base in ffile.items:
        try:
            result = pol.evaluate(raw, on=on, variant=variant, entity=entity, only=_only(only), where=ffile.where(base))
        except FupinError as exc:
            if exc.code in ("E811", "E812", "E302", "E804") and exc.diagnostics[0].span.file == "<arguments>":
                _fail(exc, lang)
            failed = True
            click.echo(render_all(exc.diagnostics, lang), err=True)
            ident = pol.key_of(raw, entity, variant) if isinstance(raw, dict) else None
            outputs.append({"id": None if ident is None else str(ident), "results": None, "unknown": {},
                            "invalid": [d.to_json(lang) for d in exc.diagnostics]})
            continue
        # An output that errs (say E701: a parameter with no value on that date) fails the
        # run only when it was asked for by name; the full default set is reported as is.
        failed = failed or bool(only and result.errors)
        first = first or (raw, result)
        outputs.append(result.to_dict())
        for name, err in result.errors.items():
            click.echo(f"{err.location}: error[{err.code}]: {result.id}.{name}: "
                       f"{err.message if lang == 'zh' else err.message_en}", err=True)
    if fmt == "json":
        click.echo(dumps(outputs[0] if ffile.single else outputs))
    else:
        click.echo(_text_table(pol, outputs, variant, entity, lang))
    if explain_output and first:
        click.echo("")
        click.echo(pol.explain(first[0], explain_output, on=on, variant=variant, entity=entity, lang=lang))
    sys.exit(1 if failed else 0)


def _text_table(pol, outputs, variant, entity, lang) -> str:
    from ..engine.reports.explain import _num

    checked = pol.program(variant).checked
    lines = []
    for out in outputs:
        lines.append(f"[{out['id']}]")
        if out.get("results") is None:
            lines.append("  " + ("事实数据无效" if lang == "zh" else "invalid facts"))
            continue
        for name, value in out["results"].items():
            rule = checked.rules[name]
            label = rule.label(lang)
            if name in out["unknown"]:
                shown = ("未知，缺 " if lang == "zh" else "unknown, needs ") + ", ".join(out["unknown"][name])
            elif value is None:
                shown = "错误" if lang == "zh" else "error"
            else:
                shown = _display(value, rule, checked, lang, _num)
            lines.append(f"  {label} ({name}): {shown}")
    return "\n".join(lines)


def _display(value, rule, checked, lang, num) -> str:
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if rule.type.kind == "enum":
        label = checked.enums[rule.type.name].values.get(value)
        return f"{value} ({label.get(lang)})" if label else str(value)
    return num(value, str(rule.type))


@main.command()
@click.argument("policy", type=click.Path())
@click.argument("facts", type=click.Path())
@click.option("--output", "output", required=True, help="The output to explain")
@click.option("--id", "ident", default=None, help="Entity id (default: the first)")
@click.option("--on", "on", default=None)
@click.option("--variant", default=None)
@click.option("--entity", default="household", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@LANG
def explain(policy, facts, output, ident, on, variant, entity, fmt, lang):
    """Explain one output for one entity: decision, conditions, parameters, sources."""
    from ..engine.reports.explain import render_text
    from ..engine.reports.jsonout import dumps

    pol = _policy(policy, lang)
    ffile = _facts(facts, lang)
    chosen = [(raw, base) for raw, base in ffile.items
              if ident is None or (isinstance(raw, dict) and pol.key_of(raw, entity, variant) == str(ident))]
    if not chosen:
        click.echo((f"没有 id 为 {ident} 的实体" if lang == "zh" else f"no entity with id {ident}"), err=True)
        sys.exit(1)
    raw, base = chosen[0]
    try:
        result = pol.evaluate(raw, on=on, variant=variant, entity=entity, only=[output], trace=True,
                              where=ffile.where(base))
    except FupinError as exc:
        _fail(exc, lang)
    if fmt == "json":
        click.echo(dumps(result.trace.model_dump(mode="python", by_alias=True)))
    else:
        click.echo(render_text(result, output, lang, pol.program(variant).checked))
    sys.exit(1 if result.errors else 0)


@main.command("test")
@click.argument("path", type=click.Path(exists=True))
@click.option("--policy", "policy_dir", default=None, help="Policy folder (default: the folder holding tests/)")
@click.option("--min-coverage", type=float, default=None, help="Fail below this coverage percentage")
@click.option("-v", "--verbose", is_flag=True)
@LANG
def test_cmd(path, policy_dir, min_coverage, verbose, lang):
    """Run YAML test cases (pytest and its fupin plugin); report rule/row/exception coverage."""
    from ..engine.tools.runner import run_cases

    sys.exit(run_cases(path, policy_dir, min_coverage, verbose, lang))


from .generate import generate  # noqa: E402  (fupin generate: engine/generate.py)
main.add_command(generate)
from .batch import batch  # noqa: E402  (fupin batch: engine/batch/)
main.add_command(batch)


if __name__ == "__main__":  # pragma: no cover
    main()
