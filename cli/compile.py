"""``fupin compile POLICY --emit-python``: print the Python the scalar evaluator runs
for known facts (engine/scalar/codegen.py), one function per rule, for review."""
from __future__ import annotations

import sys

import click

from ..dsl.errors import FupinError, render_all


@click.command("compile")
@click.argument("policy", type=click.Path())
@click.option("--emit-python", "emit_python", is_flag=True, required=True,
              help="Print the generated Python source / 打印生成的 Python 代码")
@click.option("--on", "on", default=None, help="As-of date YYYY-MM-DD: its parameters are the constants "
                                                "(default: the date the policy declares)")
@click.option("--variant", default=None, help="Variant name / 变体")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of messages / 消息语言")
def compile_cmd(policy, emit_python, on, variant, lang):
    """Check and compile a policy; print the generated scalar code (--emit-python)."""
    from ..engine.api import load_policy

    try:
        pol = load_policy(policy)
        day = pol.as_of(on, variant)
        program = pol.program(variant)
    except FupinError as exc:
        click.echo(render_all(exc.diagnostics, lang), err=True)
        sys.exit(1)
    click.echo(program.generated_on(day).source, nl=False)
