"""Where in the YAML file each inventory error is: its path, line and column.

Validation reports every error as ``<path>: <message>`` (``nodes.app1.checks[0].url:
...``), paths in the inventory's own terms. A script or an editor wants the place in
the file too, so the path is walked through the YAML's node tree (``yaml.compose``,
which keeps each node's position). Node names may contain dots, so at each mapping the
longest key that fits the rest of the path is tried first. A path that stops short (a
missing field, a node a preset derived) points at the deepest part that exists; a path
the file lacks entirely (nodes derived from ``cluster:``) has no position.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import yaml

#: The inventory's top-level keys: an error line starting with one of them carries a path.
TOP_LEVEL = ("settings", "nodes", "preset", "cluster")
_INDEX = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True, slots=True)
class Located:
    """One error: its path (None when it concerns the whole file), message and 1-based place."""

    path: str | None
    message: str
    line: int | None
    column: int | None

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def _walk(node: yaml.Node, rest: str) -> yaml.Node | None:
    """The deepest node along ``rest`` (``.key``, ``[i]`` steps); None when the first fails."""
    if not rest:
        return node
    if isinstance(node, yaml.SequenceNode):
        match = _INDEX.match(rest)
        if match is None or int(match[1]) >= len(node.value):
            return None
        item = node.value[int(match[1])]
        return _walk(item, rest[match.end() :]) or item
    if not isinstance(node, yaml.MappingNode):
        return None
    rest = rest.removeprefix(".")
    pairs = [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)]
    for key, value in sorted(pairs, key=lambda pair: -len(str(pair[0].value))):
        name = str(key.value)
        if rest == name or rest.startswith((name + ".", name + "[")):
            return _walk(value, rest[len(name) :]) or key
    return None


def locate(text: str, errors: Sequence[str]) -> list[Located]:
    """Each ``<path>: <message>`` error with the line and column of its path in ``text``."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        problem = f"invalid YAML: {exc.problem or exc}"
        return [
            Located(
                None, problem, mark.line + 1 if mark else None, mark.column + 1 if mark else None
            )
        ]
    located = []
    for error in errors:
        path, sep, message = error.partition(": ")
        if not sep or not path.startswith(TOP_LEVEL) or " " in path:
            located.append(Located(None, error, None, None))
            continue
        node = _walk(root, path) if root is not None else None
        mark = node.start_mark if node is not None else None
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        located.append(Located(path, message, line, column))
    return located
