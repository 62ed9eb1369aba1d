"""Random expression and cell texts for comparing the fast reader with Lark
(tests/test_dsl_fastpaths.py): grammatical ones with every construct, Chinese keyword
aliases, units, odd spacing and words that start like keywords, and mutated ones."""
from __future__ import annotations

WS = [" ", " ", " ", "", "  ", "\u3000", "\n", "\t"]
NAMES = ["a", "income", "收入", "x1", "_p", "members", "household", "age", "status", "poor", "any", "任意", "inf",
         "∞", "andy", "ifx", "notx", "in_x", "whereas", "elsewhere", "是否", "非农", "且慢", "或者", "则x", "否则x",
         "万元x", "元"]
KEYWORDS = ["and", "且", "or", "或", "not", "非", "in", "where", "if", "如果", "then", "则", "else", "否则", "true",
            "是", "false", "否"]


class _Gen:
    def __init__(self, rnd):
        self.rnd = rnd

    def w(self):
        return self.rnd.choice(WS)

    def atom(self, d):
        rnd, w = self.rnd, self.w
        r = rnd.random()
        if r < 0.25:
            return rnd.choice(NAMES)
        if r < 0.4:
            unit = rnd.choice(["", "", w() + rnd.choice(["元", "万元", "亿元", "万", "%", "％"])])
            return rnd.choice(["3", "0", "12.5", "5000", "007", "1.0"]) + unit
        if r < 0.45:
            return rnd.choice(["2020-01-01", "2020-02-30", "2016-12-31"])
        if r < 0.5:
            return rnd.choice(['"s"', "'t'", "“中”", '""'])
        if r < 0.55:
            return rnd.choice(["true", "false", "是", "否"])
        if r < 0.65 and d < 4:
            args = "" if rnd.random() < 0.2 else (", " + w()).join(self.expr(d + 1) for _ in range(rnd.randint(1, 3)))
            return rnd.choice(NAMES) + "(" + w() + args + w() + ")"
        if r < 0.72 and d < 4:
            tail = rnd.choice(["", ", " + self.expr(d + 1), ": " + self.expr(d + 1)])
            return rnd.choice(["count", "sum", "any", "all"]) + "(members" + w() + "where" + w() + self.expr(d + 1) + tail + ")"
        if r < 0.76 and d < 4:
            return rnd.choice(["sum", "max"]) + "(members" + w() + ":" + w() + self.expr(d + 1) + ")"
        if r < 0.86 and d < 4:
            return "(" + w() + self.expr(d + 1) + w() + ")"
        if r < 0.9:
            return self.atom(d) + "." + rnd.choice(NAMES + KEYWORDS)
        return rnd.choice(NAMES)

    def unary(self, d):
        return ("-" + self.w() + self.unary(d + 1)) if self.rnd.random() < 0.1 and d < 6 else self.atom(d)

    def chain(self, sub, ops, d):
        k = self.rnd.randint(1, 3) if self.rnd.random() < 0.5 else 1
        return (self.w() + self.rnd.choice(ops) + self.w()).join(sub(d) for _ in range(k))

    def product(self, d):
        return self.chain(self.unary, ["*", "/", "×", "÷"], d)

    def sum(self, d):
        return self.chain(self.product, ["+", "-"], d)

    def container(self, d):
        w = self.w
        if self.rnd.random() < 0.5:
            return "{" + w() + ", ".join(self.expr(d + 1) for _ in range(self.rnd.randint(0, 3))) + w() + "}"
        return self.rnd.choice("[(") + w() + self.expr(d + 1) + "," + w() + self.expr(d + 1) + w() + self.rnd.choice("])")

    def comparison(self, d):
        r = self.rnd.random()
        if r < 0.3:
            return self.chain(self.sum, ["==", "!=", "<=", ">=", "<", ">", "=", "≤", "≥", "≠"], d)
        if r < 0.4:
            return self.sum(d) + self.w() + " in " + self.w() + self.container(d)
        if r < 0.45:
            return self.sum(d) + self.w() + self.rnd.choice([" not in ", " 非 in ", " not  in"]) + self.container(d)
        return self.sum(d)

    def not_expr(self, d):
        if self.rnd.random() < 0.1 and d < 6:
            return self.rnd.choice(["not ", "非", "非 "]) + self.w() + self.not_expr(d + 1)
        return self.comparison(d)

    def expr(self, d=0):
        rnd = self.rnd
        if rnd.random() < 0.07 and d < 4:
            return (rnd.choice(["if ", "如果 "]) + self.expr(d + 1) + rnd.choice([" then ", " 则 "]) + self.expr(d + 1)
                    + rnd.choice([" else ", " 否则 "]) + self.expr(d + 1))
        return self.chain(lambda d: self.chain(self.not_expr, [" and ", "且", " 且 ", "and"], d), [" or ", "或", " 或 "], d)

    def cell(self, d=0):
        r = self.rnd.random()
        if r < 0.3:
            return self.rnd.choice(["<", "<=", ">", ">=", "==", "!=", "≤", "≥", "≠", "="]) + self.w() + self.sum(d)
        if r < 0.5:
            return self.container(d)
        if r < 0.6:
            return self.rnd.choice(["not ", "非 ", "not"]) + self.w() + self.cell(d + 1)
        return self.sum(d)

    def mutate(self, t):
        rnd = self.rnd
        if not t:
            return t
        i = rnd.randrange(len(t) + 1)
        op = rnd.randrange(3)
        if op == 0:
            return t[:i] + t[i + 1:]
        if op == 1:
            return t[:i] + rnd.choice(list("()[]{},:.+-*/<>=! 且或非in元万%\"'x1") + KEYWORDS) + t[i:]
        j = rnd.randrange(len(t) + 1)
        return t[:min(i, j)] + t[max(i, j):]


def generate(rnd, n: int, real: list):
    """``n`` (text, is_cell) pairs; ``real`` (text, is_cell) pairs are mutated too."""
    g = _Gen(rnd)
    for _ in range(n):
        r = rnd.random()
        if r < 0.4:
            text, test = g.expr(), False
        elif r < 0.6:
            text, test = g.cell(), True
        elif r < 0.8:
            text, test = rnd.choice(real)
            for _ in range(rnd.randint(1, 3)):
                text = g.mutate(text)
        else:
            test = rnd.random() < 0.5
            text = g.cell() if test else g.expr()
            for _ in range(rnd.randint(1, 2)):
                text = g.mutate(text)
        if rnd.random() < 0.2:
            text = g.w() + text + g.w()
        yield text, test
