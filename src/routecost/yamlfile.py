"""YAML files a user writes (price files, log mappings, policies), with line:column in every error.

PyYAML's ``safe_load`` forgets where a value came from. Here the document is composed into nodes
first and turned into plain Python objects while each mapping key's position is remembered, so a
bad key or value is reported as ``file:line:column: problem``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from routecost.errors import UsageError
from routecost.paths import note_input

Position = tuple[int, int]
KeyPath = tuple[str | int, ...]


class YamlError(UsageError):
    """A problem at a place in a YAML file."""


@dataclass
class YamlDocument:
    """A parsed YAML file: its data and where each key path starts (1-based line, column)."""

    path: str
    data: Any
    positions: dict[KeyPath, Position] = field(default_factory=dict)

    def where(self, key_path: KeyPath) -> str:
        """``file:line:column`` of a key path, or of its nearest known parent."""
        for length in range(len(key_path), -1, -1):
            position = self.positions.get(key_path[:length])
            if position is not None:
                return f"{self.path}:{position[0]}:{position[1]}"
        return self.path

    def error(self, key_path: KeyPath, problem: str) -> YamlError:
        """``file:line:column: `key: value`: problem``: the key and the value found there are named
        unless the problem already names them."""
        return YamlError(f"{self.where(key_path)}: {self._named(key_path, problem)}{problem}")

    def _named(self, key_path: KeyPath, problem: str) -> str:
        keys = [key for key in key_path if isinstance(key, str)]
        found, value = _value_at(self.data, key_path)
        if not keys or not found or isinstance(value, dict | list) or f"`{keys[-1]}`" in problem \
                or repr(value) in problem or f"{keys[-1]!r}" in problem:
            return ""
        shown = "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        return f"`{keys[-1]}: {shown}`: "

    def check_keys(self, key_path: KeyPath, mapping: Mapping[str, Any], allowed: Iterable[str]) -> None:
        """Fail on the first key that is not allowed, naming the ones that are."""
        allowed = list(allowed)
        for key in mapping:
            if key not in allowed:
                raise self.error((*key_path, key), f"unknown key {key!r} (expected one of: {', '.join(allowed)})")


def _value_at(data: Any, key_path: KeyPath) -> tuple[bool, Any]:
    """(whether the key path leads somewhere, the value there)."""
    node = data
    for key in key_path:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return False, None
    return True, node


def load_yaml(path: str | Path) -> YamlDocument:
    """Read a YAML file into plain data with key positions; any problem is a ``YamlError``."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise YamlError(f"{name}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise YamlError(f"{name}: not UTF-8 text") from None
    note_input(path)
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str) -> YamlDocument:
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except RecursionError:
        raise YamlError(f"{name}: invalid YAML: nested too deeply") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        raise YamlError(f"{where}: invalid YAML: {error.problem}") from None
    except yaml.YAMLError as error:
        raise YamlError(f"{name}: invalid YAML: {error}") from None
    document = YamlDocument(path=name, data=None)
    if node is not None:
        _check_expansion(node, name)
        document.data = _to_python(node, (), document.positions, name)
    return document


MAX_DEPTH = 100
MAX_EXPANDED_VALUES = 1_000_000
"""Aliases (``*name``) repeat what an anchor (``&name``) holds; nested, a few lines can stand for
billions of values (an "alias bomb"). A document may expand to this many values, or to ten times the
values written, whichever is more."""


def _check_expansion(root: yaml.Node, name: str) -> None:
    """Refuse a document whose aliases refer to themselves, nest deeper than ``MAX_DEPTH``, or expand
    beyond ``MAX_EXPANDED_VALUES`` (counted without expanding anything: each node's size once)."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            continue
        if key in sizes:
            continue
        if key in on_path:
            mark = node.start_mark
            raise YamlError(f"{name}:{mark.line + 1}:{mark.column + 1}: invalid YAML: an alias refers to itself")
        if depth > MAX_DEPTH:
            mark = node.start_mark
            raise YamlError(f"{name}:{mark.line + 1}:{mark.column + 1}: invalid YAML: nested deeper than {MAX_DEPTH}")
        on_path.add(key)
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in _children(node))
    expanded = sizes[id(root)]
    if expanded > max(MAX_EXPANDED_VALUES, 10 * len(sizes)):
        raise YamlError(f"{name}: invalid YAML: its aliases expand {len(sizes):,} written values to {expanded:,}; "
                        "refusing (write the values out, or use fewer nested aliases)")


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _to_python(node: yaml.Node, key_path: KeyPath, positions: dict[KeyPath, Position], name: str) -> Any:
    positions.setdefault(key_path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, name)
            if not isinstance(key, str | int | float | bool):
                raise YamlError(f"{name}:{key_node.start_mark.line + 1}: keys must be plain values")
            key_text = str(key)
            if key_text in result:
                raise YamlError(f"{name}:{key_node.start_mark.line + 1}:{key_node.start_mark.column + 1}: "
                                f"duplicate key {key_text!r} (the earlier one would be silently replaced)")
            positions[(*key_path, key_text)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key_text] = _to_python(value_node, (*key_path, key_text), positions, name)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, (*key_path, index), positions, name) for index, item in enumerate(node.value)]
    return _scalar(node, name)


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser where PyYAML was built with it (about ten times faster: a policy may hold 100,000 routes)."""
_SCALARS = yaml.constructor.SafeConstructor()
"""One constructor for every scalar (making one per scalar cost more than the parse)."""


def _scalar(node: yaml.Node, name: str) -> Any:
    try:
        value = _SCALARS.construct_object(node, deep=True)
        _SCALARS.constructed_objects.pop(node, None)  # a scalar needs no memo; keep the constructor lean
        return value
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or node.start_mark
        raise YamlError(f"{name}:{mark.line + 1}:{mark.column + 1}: invalid YAML: {error.problem}") from None
