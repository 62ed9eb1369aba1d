"""The `fupin` command line: arguments and printing only.

    fupin check POLICY [--strict] [--show-params]
    fupin eval POLICY FACTS [--on DATE] [--variant V] [--entity E] [--only a,b] [--format json|text]
                            [--allow-unknown-fields]
    fupin explain POLICY FACTS --output NAME [--id ID] [--on DATE] [--lang zh|en] [--format text|json]
                               [--allow-unknown-fields]
    fupin test PATH [--min-coverage N]
    fupin compile POLICY --emit-python [--on DATE] [--variant V]
    fupin schema rules|facts [POLICY] [--entity E] [-o FILE]
    fupin serve POLICY [--host H] [--port P] [--token-file F] [--reload] [--allow-edit]
    fupin cache [--clear]
"""
from __future__ import annotations

import sys

import click

from .. import __version__

from ..dsl.errors import FupinError, render_all

ON = click.option("--on", "on", default=None, help="As-of date YYYY-MM-DD (default: the date the policy declares)")
ALLOW_UNKNOWN = click.option("--allow-unknown-fields", "allow_unknown", is_flag=True,
                             help="Undeclared fields are warnings, not errors / 未声明字段只警告")
LANG = click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
                    help="Language of messages / 消息语言")


class _Commands(click.Group):
    """The group, with the commands that live in modules of their own imported only when
    one of them is run or listed: ``fupin batch`` need not import the web server's, the
    comparison's or the generator's modules (start-up, docs/performance.md)."""

    # name -> (module of this package, function): fupin generate (engine/tools/generate.py),
    # batch (engine/batch/), diff (engine/batch/compare.py), compile --emit-python
    # (engine/scalar/codegen.py), serve (web/), cache (engine/cache.py)
    LAZY = {"generate": ("generate", "generate"), "batch": ("batch", "batch"), "diff": ("diff", "diff"),
            "compile": ("compile", "compile_cmd"), "serve": ("serve", "serve"), "cache": ("cache", "cache")}

    def list_commands(self, ctx):
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def get_command(self, ctx, name):
        if name in self.LAZY and name not in self.commands:
            import importlib

            module, attr = self.LAZY[name]
            self.add_command(getattr(importlib.import_module(f"{__package__}.{module}"), attr), name)
        return super().get_command(ctx, name)

    def __call__(self, *args, **kwargs):
        """The process's own entry (the ``fupin`` script, ``python -m fupin.cli``; a test's
        ``CliRunner`` calls :meth:`main` and never comes here). When the command is done,
        every object is moved out of the cyclic collector's reach (``gc.freeze``): the
        interpreter's teardown then skips its full collections over the tens of thousands
        of objects pyarrow, numpy and the policy leave, 40–100 ms of a ``fupin batch`` run
        (docs/performance.md). Files are closed by then; nothing else is lost, since
        Python never promised to finalise cycles at exit."""
        import gc

        _stop_on_sigterm()
        try:
            return super().__call__(*args, **kwargs)
        except Terminated:
            argv = kwargs.get("args") or (args[0] if args else None) or sys.argv[1:]
            click.echo("fupin：收到 SIGTERM，已停止；没有留下写了一半的文件" if _lang(list(argv)) == "zh"
                       else "fupin: stopped by SIGTERM; no half-written file is left", err=True)
            sys.exit(143)  # 128 + SIGTERM, as the shell reports a process the signal ended
        finally:
            gc.freeze()


class Terminated(BaseException):
    """SIGTERM (a scheduler's stop, ``timeout``, ``kill``) raised in the command's own
    process, like Ctrl-C: no ``except Exception`` takes it, every ``finally`` runs, so a
    batch run removes the files it was writing instead of leaving hidden ``.part`` files
    (docs/batch.md). A BaseException of its own, not KeyboardInterrupt, so that click does
    not print "Aborted!" and the exit status is 143."""


def _stop_on_sigterm() -> None:
    """Turn SIGTERM into :class:`Terminated` in this process, where no handler is set yet.
    A process forked from it (``--jobs`` workers) keeps the default: it dies at once, as
    before, and the main process stops the run."""
    import os
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return
    owner = os.getpid()

    def stop(signum, frame):
        if os.getpid() != owner:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise Terminated()

    signal.signal(signal.SIGTERM, stop)


def _lang(argv) -> str:
    """The ``--lang`` of a command line, read where click's parsing is gone (zh if none)."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return "zh"


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=__version__, prog_name="fupin")  # the one constant, as run records say
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
@click.option("--show-params", is_flag=True,
              help="Also print the timelines of parameters variants override, merged by date / 显示变体合并后的参数时间线")
@LANG
def check(policy, strict, fmt, show_params, lang):
    """Check a policy folder: schema, syntax, names, types, cycles, tables, sources."""
    from ..dsl.checker import check_all
    from ..dsl.loader import load_source

    src = load_source(policy)
    diags, results = check_all(src)
    if show_params:
        from ..dsl.checker.timeline import render, timelines

        click.echo(render(timelines(src, results), lang) + "\n")
    if fmt == "json":
        from ..engine.reports.jsonout import dumps

        click.echo(dumps([d.to_json(lang) for d in diags]))
    else:
        click.echo(render_all(diags, lang))
    failing = [d for d in diags if d.severity == "error" or (strict and d.severity == "warning")]
    sys.exit(1 if failing else 0)


@main.command()
@click.argument("kind", type=click.Choice(["rules", "facts"]))
@click.argument("policy", type=click.Path(), required=False)
@click.option("--entity", default=None, help="facts: the entity of the file (default: the policy's default entity)")
@click.option("-o", "--output", "output", type=click.Path(), default=None, help="Write to this file / 写入文件")
@LANG
def schema(kind, policy, entity, output, lang):
    """Write a JSON Schema for rule files or for a policy's facts files (for editors)."""
    import json

    from ..dsl.schema import facts_schema, rules_schema

    checked = _checked(policy, lang) if policy else None
    if kind == "facts":
        if checked is None:
            raise click.UsageError("fupin schema facts POLICY: the facts schema comes from the policy's entities")
        name = entity or checked.default_entity
        if name not in checked.entities:
            raise click.UsageError(f"--entity: one of {', '.join(checked.entities)}")
        out = facts_schema(checked, name)
    else:
        out = rules_schema(checked)
    text = json.dumps(out, ensure_ascii=False, indent=2) + "\n"
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        click.echo(text, nl=False)


def _checked(policy: str, lang: str):
    """The base's checked declarations (built even when rules have errors)."""
    from ..dsl.checker import check_all
    from ..dsl.loader import load_source

    _, results = check_all(load_source(policy))
    checked = results["base"].checked
    if checked is None or not checked.entities:
        click.echo(render_all([*load_source(policy).diagnostics], lang), err=True)
        sys.exit(1)
    return checked


ENCODING = click.option("--encoding", default=None,
                        help="Encoding of a CSV facts file (e.g. gb18030; default: detected) / CSV 编码（默认自动识别）")


def _facts(path: str, lang: str, encoding: str | None = None):
    from ..engine.facts.read import FactsFile

    try:
        return FactsFile(path, encoding)
    except FupinError as exc:
        _fail(exc, lang)


def _only(only: str | None):
    return [s.strip() for s in only.split(",") if s.strip()] if only else None


@main.command("eval")
@click.argument("policy", type=click.Path())
@click.argument("facts", type=click.Path())
@ON
@click.option("--variant", default=None, help="Variant name / 变体")
@click.option("--entity", default=None, help="Entity (default: the policy's default entity)")
@click.option("--only", default=None, help="Comma-separated outputs")
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="json", show_default=True)
@click.option("--explain", "explain_output", default=None, help="Also explain this output for the first entity")
@click.option("--decision-log", "decision_log", type=click.Path(dir_okay=False), default=None,
              help="Append one JSON line per decision, personal fields masked / 决策日志（JSONL，个人信息掩码）")
@ALLOW_UNKNOWN
@ENCODING
@LANG
def eval_(policy, facts, on, variant, entity, only, fmt, explain_output, decision_log, allow_unknown, encoding, lang):
    """Evaluate entities from a JSON/YAML facts file."""
    from ..engine.reports.jsonout import dumps
    from ..engine.reports.table import render_results

    pol = _policy(policy, lang)
    ffile = _facts(facts, lang, encoding)
    try:
        evaluated = pol.evaluate_file(ffile, on=on, variant=variant, entity=entity, only=_only(only),
                                      allow_unknown_fields=allow_unknown)
    except FupinError as exc:
        _fail(exc, lang)
    failed = False
    for item in evaluated:
        if item.result is None:
            failed = True
            click.echo(render_all(item.invalid, lang), err=True)
            continue
        _warn(item.result.warnings, lang)
        # An output that errs (say E701: a parameter with no value on that date) fails the
        # run only when it was asked for by name; the full default set is reported as is.
        failed = failed or bool(only and item.result.errors)
        for name, err in item.result.errors.items():
            click.echo(f"{err.location}: error[{err.code}]: {item.result.id}.{name}: "
                       f"{err.message if lang == 'zh' else err.message_en}", err=True)
    outputs = [item.to_dict(lang) for item in evaluated]
    if decision_log:
        pol.log_decisions(decision_log, evaluated, variant)
    if fmt == "json":
        click.echo(dumps(outputs[0] if ffile.single else outputs))
    else:
        click.echo(_as_of(evaluated, on, lang))
        click.echo(render_results(outputs, pol.program(variant).checked, lang))
    first = next((item for item in evaluated if item.result is not None), None)
    if explain_output and first:
        click.echo("")
        click.echo(pol.explain(first.facts, explain_output, on=on, variant=variant, entity=entity, lang=lang,
                               allow_unknown_fields=allow_unknown))
    sys.exit(1 if failed else 0)


def _warn(warnings, lang: str) -> None:
    """Facts accepted with a warning (W906 under --allow-unknown-fields), on stderr."""
    for w in warnings:
        click.echo(f"{w.location}: warning[{w.code}]: {w.message if lang == 'zh' else w.message_en}", err=True)


def _as_of(evaluated, on, lang: str) -> str:
    """The first line of the text output: the date the results hold on, and whence it came."""
    day = evaluated[0].on if evaluated else on
    if lang == "zh":
        return f"评估日期 {day}" + ("" if on else "（政策声明的默认日期）")
    return f"as of {day}" + ("" if on else " (the policy's default date)")


@main.command()
@click.argument("policy", type=click.Path())
@click.argument("facts", type=click.Path(), required=False)
@click.option("--output", "output", default=None, help="The output to explain (with --record: the one recorded)")
@click.option("--id", "ident", default=None, help="Entity id (default: the first)")
@ON
@click.option("--variant", default=None)
@click.option("--entity", default=None, help="Entity (default: the policy's default entity)")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True,
              help="html: a self-contained page / 自包含的网页")
@click.option("--depth", type=int, default=1, show_default=True,
              help="Levels of the reasoning shown below the reasons (0: folded) / 推理过程展开的层数")
@click.option("--full", is_flag=True, help="The whole reasoning, every level / 展开全部推理过程")
@click.option("--what-if", "what_if", is_flag=True,
              help="The smallest fact changes giving each other value / 改变哪些事实会得到其他结论")
@click.option("--why-not", "why_not", default=None, metavar="VALUE",
              help="The smallest fact changes giving VALUE / 为什么不是 VALUE")
@click.option("--max-changes", type=int, default=2, show_default=True, help="Facts changed at most / 最多改变几项事实")
@click.option("--record", "record_path", type=click.Path(dir_okay=False), default=None,
              help="Re-explain a stored decision record (written by --format json) / 重新解释决策记录")
@ALLOW_UNKNOWN
@ENCODING
@LANG
def explain(policy, facts, output, ident, on, variant, entity, fmt, depth, full, what_if, why_not, max_changes,
            record_path, allow_unknown, encoding, lang):
    """Explain one output for one entity: the decision and its deciding facts, the rule
    and its sources, what-if / why-not answers, the reasoning folded to --depth."""
    from ..engine.reports.jsonout import dumps

    pol = _policy(policy, lang)
    if record_path:
        raw, where, output, on, variant, entity = _recorded(pol, record_path, output, lang)
    else:
        if facts is None or output is None:
            click.echo("需要 FACTS 和 --output（或 --record FILE）" if lang == "zh"
                       else "FACTS and --output are needed (or --record FILE)", err=True)
            sys.exit(2)
        ffile = _facts(facts, lang, encoding)
        found = pol.find(ffile, ident, entity, variant)
        if found is None:
            _fail(pol.not_found(ffile, ident, entity, variant), lang)
        raw, where = found
    try:
        result = pol.evaluate(raw, on=on, variant=variant, entity=entity, only=[output], trace=True, where=where,
                              allow_unknown_fields=allow_unknown)
    except FupinError as exc:
        _fail(exc, lang)
    _warn(result.warnings, lang)
    answers, title = {}, "whatif"
    try:
        if why_not is not None:
            answers, title = pol.what_if(raw, output, why_not, on=on, variant=variant, entity=entity,
                                         max_changes=max_changes, allow_unknown_fields=allow_unknown), "whynot"
        elif what_if:
            title = "settle" if output in result.unknown else "whatif"
            answers = pol.what_if(raw, output, on=on, variant=variant, entity=entity, max_changes=max_changes,
                                  allow_unknown_fields=allow_unknown)
    except FupinError as exc:
        _fail(exc, lang)
    if fmt == "json":
        out = {**result.trace.model_dump(mode="python", by_alias=True), "facts": raw}  # a record file too
        if answers:
            out["alternatives"] = [a.model_dump() for alts in answers.values() for a in alts]
        click.echo(dumps(out))
    else:
        from ..engine.reports.explain import alternatives_lines, record_line, what_if_hint

        extra = alternatives_lines(answers, result.trace, lang, title, max_changes=max_changes) if answers else None
        if what_if and not answers and why_not is None:
            extra = [f"  {what_if_hint(lang)}"]
        if fmt == "html":
            from ..engine.reports.html import render_html

            click.echo(render_html(result, output, lang, extra), nl=False)
            sys.exit(1 if result.errors else 0)
        if record_path:
            click.echo(record_line(result.record.model_dump(), lang))
        click.echo(result.explain(output, lang, None if full else depth, extra))
    sys.exit(1 if result.errors else 0)


def _recorded(pol, path: str, output, lang: str):
    """The facts and call of a stored decision record; the run stops (E841-E843, located
    at the file) when it is not one, or was made under another revision of the policy."""
    try:
        got = pol.read_record(path)
    except FupinError as exc:
        _fail(exc, lang)
    rec = got["record"]
    return got["facts"], None, output or got["output"], rec.on, rec.variant, rec.entity


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




if __name__ == "__main__":  # pragma: no cover
    main()
