"""Read fact files (JSON or YAML: one entity object or a list), keeping positions."""
from __future__ import annotations

from ...dsl.errors import FupinError, Span, error
from ...dsl.yamlsrc import load_yaml_file


class FactsFile:
    """The entities of a facts file, each with a function that locates its fields."""

    def __init__(self, path: str):
        data, pos = load_yaml_file(path)  # JSON is read as YAML: same positions, exact decimals
        self.path = path
        self.single = isinstance(data, dict)
        if self.single:
            self.items = [(data, ())]
        elif isinstance(data, list):
            self.items = [(item, (i,)) for i, item in enumerate(data)]
        else:
            raise FupinError(error("E804", Span(path, 1, 1), detail={
                "zh": "事实文件应为一个对象或对象列表", "en": "a facts file holds one object or a list of objects"}))
        self.pos = pos

    def where(self, base: tuple) -> "Locator":
        """A locator ``path -> Span`` for the entity at ``base`` (``.key(path)``: its key's place)."""
        return Locator(self.pos, base)


class Locator:
    """Where the values (call) and keys (:meth:`key`) of one entity of a facts file are."""

    def __init__(self, pos, base: tuple):
        self.pos, self.base = pos, base

    def __call__(self, path) -> Span:
        return self.pos.span(self.base + tuple(path))

    def key(self, path) -> Span:
        """The place of the key at ``path`` (an undeclared field is located at its name)."""
        return self.pos.key_span(self.base + tuple(path))
