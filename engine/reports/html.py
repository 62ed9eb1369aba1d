"""``fupin explain --format html``: one explanation as a self-contained page.

No external assets (inline CSS, no scripts): the decision, its reasons, the rule and its
quoted sources, what-if answers, and the whole reasoning as nested ``<details>`` (each
rule's cells, conditions and parameters inside, its children below). It renders the same
pieces as the text renderer (:func:`~fupin.engine.reports.explain.parts`), from the result
alone, so a web workbench can serve it as it is.
"""
from __future__ import annotations

from html import escape

from .explain import node_parts, parts

_TITLES = {"zh": {"reasons": "因为", "rule": "依据", "sources": "来源", "whatif": "假如", "tree": "推理过程",
                  "page": "决策说明"},
           "en": {"reasons": "Because", "rule": "Decided by", "sources": "Sources", "whatif": "What if",
                  "tree": "How it was decided", "page": "Decision explanation"}}

_CSS = """
body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;max-width:60rem;margin:2rem auto;
padding:0 1rem;color:#1f2328;line-height:1.55}
h1{font-size:1.4rem;margin:0 0 .2rem}.heading{color:#57606a;margin:0 0 1rem}
section{border:1px solid #d0d7de;border-radius:6px;padding:.6rem 1rem;margin:.8rem 0}
h2{font-size:1rem;margin:.2rem 0 .4rem}ul{margin:.2rem 0;padding-left:1.3rem}
details{margin:.2rem 0 .2rem .8rem}summary{cursor:pointer}
.details{color:#57606a;font-size:.92rem;margin:.1rem 0 .3rem 1.2rem;list-style:none;padding:0}
code{background:#f6f8fa;padding:0 .2rem;border-radius:3px}
"""


def render_html(result, output: str, lang: str = "zh", extra: list | None = None) -> str:
    """The page explaining ``output`` (``extra``: what-if / why-not lines, as the text
    renderer takes them)."""
    t = _TITLES[lang]
    p = parts(result, output, lang)
    if p is None:
        return _page(lang, escape(output), "")
    body = [f"<h1>{escape(p['title'])}</h1>", f"<p class=\"heading\">{escape(p['heading'])}</p>"]
    body.append(_section(t["reasons"], [r.lstrip("· ") for r in p["reasons"] if not r.endswith(("：", ":"))]
                         or [r for r in p["reasons"]]))
    body.append(_section(t["rule"], p["rule"]))
    body.append(_section(t["sources"], [s for s in p["sources"] if not s.endswith(("：", ":"))]))
    if extra:
        body.append(_section(t["whatif"], [e.strip().lstrip("· ") for e in extra[1:]] or [e.strip() for e in extra]))
    body.append(f"<section><h2>{escape(t['tree'])}</h2>{_tree(p['node'], result.trace, lang, True)}</section>")
    return _page(lang, escape(p["title"]), "\n".join(b for b in body if b))


def _section(title: str, lines: list) -> str:
    if not lines:
        return ""
    items = "".join(f"<li>{_code(line)}</li>" for line in lines)
    return f"<section><h2>{escape(title)}</h2><ul>{items}</ul></section>"


def _tree(node, trace, lang, open_=False) -> str:
    line, details, children = node_parts(node, trace, lang)
    inner = "".join(f"<li>{_code(d)}</li>" for d in details)
    kids = "".join(_tree(c, trace, lang) for c in children)
    return (f"<details{' open' if open_ else ''}><summary>{escape(line)}</summary>"
            f"<ul class=\"details\">{inner}</ul>{kids}</details>")


def _code(text: str) -> str:
    """Escaped text, an expression in backticks shown as code."""
    pieces = escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(pieces))


def _page(lang: str, title: str, body: str) -> str:
    html_lang = "zh-CN" if lang == "zh" else "en"
    return (f"<!DOCTYPE html>\n<html lang=\"{html_lang}\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{_TITLES[lang]['page']} · {title}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")
