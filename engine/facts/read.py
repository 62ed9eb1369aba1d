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

    def where(self, base: tuple):
        """A locator ``path -> Span`` for the entity at ``base``."""
        return lambda path: self.pos.span(base + tuple(path))
