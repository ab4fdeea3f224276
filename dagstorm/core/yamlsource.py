"""YAML documents that remember where each value came from (file:line:column).

Used for every file a user writes (stack config, scenarios) so that a
validation error can point at the exact place to fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dagstorm.core.errors import ConfigError, DagstormError

#: Refuse larger files outright: no scenario or stack file is anywhere near this.
MAX_BYTES = 1_000_000
#: Aliases (``*name``) allowed in one file: enough for reuse, far from a "billion laughs".
MAX_ALIASES = 100
#: Deepest nesting of mappings and lists.
MAX_DEPTH = 32

KeyPath = tuple[str | int, ...]


@dataclass
class YamlDocument:
    """A parsed YAML mapping plus the source position of every key path."""

    path: Path
    data: Any
    positions: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)

    def where(self, key_path: KeyPath, *, key: bool = False) -> str:
        """``file:line:column`` of the deepest known prefix of ``key_path``.

        Points at the value (scalars) or the key (collections); ``key=True``
        points at the key itself (for "unknown key" errors).
        """
        if key and ("__key__", *key_path) in self.positions:
            line, col = self.positions[("__key__", *key_path)]
            return f"{self.path}:{line}:{col}"
        probe = tuple(key_path)
        while probe and probe not in self.positions:
            probe = probe[:-1]
        line, col = self.positions.get(probe, (1, 1))
        return f"{self.path}:{line}:{col}"


def _walk(node: yaml.Node, prefix: KeyPath, out: dict[KeyPath, tuple[int, int]]) -> None:
    """Record where each value is: scalars at the value, collections at their key."""
    out.setdefault(prefix, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            path = (*prefix, key)
            mark = (
                value_node.start_mark
                if isinstance(value_node, yaml.ScalarNode)
                else (key_node.start_mark)
            )
            out[path] = (mark.line + 1, mark.column + 1)
            out[("__key__", *path)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            _walk(value_node, path, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*prefix, index), out)


def _check_shape(text: str, path: Path, error: type[DagstormError]) -> None:
    """Refuse alias bombs and deep nesting from the event stream, before building anything."""
    depth = aliases = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise error(
                        f"more than {MAX_ALIASES} YAML aliases (*name)",
                        where=_mark(path, event.start_mark),
                        fix="write the values out; dagstorm refuses alias expansion bombs",
                    )
            elif isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise error(
                        f"nesting deeper than {MAX_DEPTH} levels",
                        where=_mark(path, event.start_mark),
                        fix="flatten the structure",
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = _mark(path, mark) if mark else str(path)
        raise error(f"invalid YAML: {exc.problem}", where=where, fix="fix the syntax") from None
    except yaml.YAMLError as exc:  # e.g. ReaderError: control characters
        raise error(
            f"invalid YAML: {str(exc).splitlines()[0]}", where=str(path), fix="fix the file"
        ) from None


def _mark(path: Path, mark: Any) -> str:
    return f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)


def load_yaml(path: Path, *, error: type[DagstormError] = ConfigError) -> YamlDocument:
    """Read ``path`` as one YAML mapping, with positions; raise ``error`` on bad input."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise error(
            f"cannot read file: {exc.strerror}", where=str(path), fix="check the path"
        ) from None
    if len(raw) > MAX_BYTES:
        raise error(
            f"file is {len(raw)} bytes; the limit is {MAX_BYTES}",
            where=str(path),
            fix="this does not look like a dagstorm file",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(
            f"not UTF-8 text (byte {exc.start})", where=str(path), fix="save the file as UTF-8"
        ) from None
    if "\x00" in text:
        raise error("binary data (NUL bytes) is not YAML", where=str(path), fix="check the file")
    _check_shape(text, path, error)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise error(f"invalid YAML: {exc.problem}", where=where, fix="fix the syntax") from None
    except yaml.YAMLError as exc:
        raise error(f"invalid YAML: {exc}", where=str(path), fix="fix the syntax") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise error(
            "the top level must be a mapping (key: value lines)",
            where=f"{path}:1:1",
            fix="start the file with keys such as `kind:`",
        )
    positions: dict[KeyPath, tuple[int, int]] = {}
    if node is not None:
        _walk(node, (), positions)
    return YamlDocument(path=path, data=data, positions=positions)
