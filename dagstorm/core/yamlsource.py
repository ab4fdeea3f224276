"""YAML documents that remember where each value came from (file:line:column).

Used for every file a user writes (stack config, scenarios, suites, `extends`
bases) so that a validation error can point at the exact place to fix.

Hostile input is refused before anything is built from it, from the parser's
event stream: files over :data:`MAX_BYTES`, more than :data:`MAX_ALIASES`
aliases, nesting deeper than :data:`MAX_DEPTH` levels, and documents that
would have more than :data:`MAX_NODES` values once aliases are expanded (an
alias counts as every value of its anchor, so a "billion laughs" is refused
at the alias that crosses the bound, whatever the alias count).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import yaml

from dagstorm.core.errors import ConfigError, DagstormError
from dagstorm.core.problems import KeyPath, Problem

#: Refuse larger files outright: no scenario or stack file is anywhere near this.
MAX_BYTES = 1_000_000
#: Aliases (``*name``) allowed in one file: enough for reuse, far from a "billion laughs".
MAX_ALIASES = 100
#: Deepest nesting of mappings and lists (aliases expanded).
MAX_DEPTH = 32
#: Most values (scalars, mappings, lists) in one document once aliases are expanded.
MAX_NODES = 100_000

# libyaml's parser when present: ~25x faster, so even a file at the size limit is
# refused or read in well under a second.
_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

__all__ = [
    "MAX_ALIASES",
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "KeyPath",
    "YamlDocument",
    "load_yaml",
    "parse_value",
]


@dataclass
class YamlDocument:
    """A parsed YAML mapping plus the source position of every key path."""

    path: Path
    data: Any
    positions: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    #: Keys written twice in one mapping (YAML would silently keep the last).
    duplicates: list[Problem] = field(default_factory=list)
    #: The file holds no document (empty, or only comments).
    empty: bool = False

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


@dataclass
class _Frame:
    """An open mapping or list while the event stream is checked."""

    anchor: str | None
    nodes_before: int
    height: int = 1


def _mark(path: Path, mark: Any) -> str:
    return f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else f"{path}:1:1"


_BOMB_FIX = "write the values out; dagstorm refuses alias expansion bombs"


class _ShapeCheck:
    """Refuse alias bombs and deep nesting from the event stream, before building anything.

    Each anchor's expanded size (values) and height are known when it closes; an
    alias adds them where it stands. Nothing is expanded to find out.
    """

    def __init__(self, path: Path, error: type[DagstormError]) -> None:
        self.path = path
        self.error = error
        self.aliases = 0
        self.total = 0
        self.anchors: dict[str, tuple[int, int]] = {}  # name -> (values, height)
        self.stack: list[_Frame] = []

    def refuse(self, what: str, event: Any, fix: str) -> NoReturn:
        raise self.error(what, where=_mark(self.path, event.start_mark), fix=fix)

    def feed(self, event: Any) -> None:
        """Account for one parser event; raise as soon as a bound is crossed."""
        if isinstance(event, yaml.AliasEvent):
            self._alias(event)
        elif isinstance(event, yaml.ScalarEvent):
            self.total += 1
            if event.anchor:
                self.anchors[event.anchor] = (1, 0)
            self._child(0)
        elif isinstance(event, yaml.CollectionStartEvent):
            self.total += 1
            self.stack.append(_Frame(event.anchor, self.total - 1))
            if len(self.stack) > MAX_DEPTH:
                self.refuse(f"nesting deeper than {MAX_DEPTH} levels", event, "flatten it")
        elif isinstance(event, yaml.CollectionEndEvent):
            frame = self.stack.pop()
            if frame.anchor:
                self.anchors[frame.anchor] = (self.total - frame.nodes_before, frame.height)
            self._child(frame.height)
        if self.total > MAX_NODES:
            self.refuse(
                f"more than {MAX_NODES} values in one file",
                event,
                "this does not look like a dagstorm file; split it or write less",
            )

    def _child(self, height: int) -> None:
        if self.stack:
            self.stack[-1].height = max(self.stack[-1].height, height + 1)

    def _alias(self, event: Any) -> None:
        self.aliases += 1
        if self.aliases > MAX_ALIASES:
            self.refuse(f"more than {MAX_ALIASES} YAML aliases (*name)", event, _BOMB_FIX)
        if any(frame.anchor == event.anchor for frame in self.stack):
            self.refuse(
                f"alias *{event.anchor} is inside its own anchor (endless data)",
                event,
                "an alias may only refer to a value written before it",
            )
        values, height = self.anchors.get(event.anchor or "", (1, 0))
        self.total += values
        if self.total > MAX_NODES:
            self.refuse(
                f"more than {MAX_NODES} values once YAML aliases are expanded "
                f"(*{event.anchor} alone stands for {values})",
                event,
                _BOMB_FIX,
            )
        if len(self.stack) + height > MAX_DEPTH:
            self.refuse(
                f"nesting deeper than {MAX_DEPTH} levels once *{event.anchor} is expanded",
                event,
                "flatten it",
            )
        self._child(height)


def _check_shape(text: str, path: Path, error: type[DagstormError]) -> None:
    """Run :class:`_ShapeCheck` over the whole event stream of ``text``."""
    check = _ShapeCheck(path, error)
    for event in yaml.parse(text, Loader=_Loader):
        check.feed(event)


def _walk(
    node: yaml.Node,
    prefix: KeyPath,
    out: dict[KeyPath, tuple[int, int]],
    duplicates: dict[tuple[int, int], tuple[KeyPath, Any]],
) -> None:
    """Record where each value is: scalars at the value, collections at their key."""
    out.setdefault(prefix, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        seen: dict[tuple[str, str], Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            path = (*prefix, key)
            if isinstance(key_node, yaml.ScalarNode) and key != "<<":
                identity = (key_node.tag, key)
                if identity in seen:
                    mark = key_node.start_mark
                    duplicates[(mark.line, mark.column)] = (path, (seen[identity], mark))
                else:
                    seen[identity] = key_node.start_mark
            mark = (
                value_node.start_mark
                if isinstance(value_node, yaml.ScalarNode)
                else (key_node.start_mark)
            )
            out[path] = (mark.line + 1, mark.column + 1)
            out[("__key__", *path)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            _walk(value_node, path, out, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*prefix, index), out, duplicates)


def _nul(node: yaml.Node, seen: set[int]) -> yaml.Node | None:
    r"""The first scalar holding a NUL character (a "\0" escape), if any."""
    if id(node) in seen:
        return None
    seen.add(id(node))
    if isinstance(node, yaml.ScalarNode):
        return node if "\x00" in node.value else None
    children: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    for item in children:
        found = _nul(item, seen)
        if found is not None:
            return found
    return None


def _line_col(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    return f"{line}:{index - (text.rfind(chr(10), 0, index) + 1) + 1}"


def _read_text(path: Path, error: type[DagstormError]) -> str:
    start = f"{path}:1:1"
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise error(
            f"cannot read file: {exc.strerror or exc}", where=start, fix="check the path"
        ) from None
    if len(raw) > MAX_BYTES:
        raise error(
            f"file is {len(raw)} bytes; the limit is {MAX_BYTES}",
            where=start,
            fix="this does not look like a dagstorm file",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = f"{path}:{_line_col(raw.decode('latin-1'), exc.start)}"
        raise error(
            f"not UTF-8 text (byte {exc.start})", where=where, fix="save the file as UTF-8"
        ) from None
    if "\x00" in text:
        where = f"{path}:{_line_col(text, text.index(chr(0)))}"
        raise error("binary data (NUL bytes) is not YAML", where=where, fix="check the file")
    return text


def load_yaml(path: Path, *, error: type[DagstormError] = ConfigError) -> YamlDocument:
    """Read ``path`` as one YAML mapping, with positions; raise ``error`` on bad input."""
    text = _read_text(path, error)
    try:
        _check_shape(text, path, error)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            positions: dict[KeyPath, tuple[int, int]] = {}
            found: dict[tuple[int, int], tuple[KeyPath, Any]] = {}
            if node is not None:
                bad = _nul(node, set())
                if bad is not None:
                    raise error(
                        "a value holds a NUL character (\\0)",
                        where=_mark(path, bad.start_mark),
                        fix="remove the \\0 escape",
                    )
                _walk(node, (), positions, found)
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if "maximum nesting depth" in str(exc.problem):
            # libyaml's own bound (1,000 levels), met while it reads ahead of the events.
            raise error(
                f"nesting deeper than {MAX_DEPTH} levels", where=_mark(path, mark), fix="flatten it"
            ) from None
        raise error(
            f"invalid YAML: {exc.problem or exc.context}",
            where=_mark(path, mark),
            fix="fix the syntax",
        ) from None
    except yaml.reader.ReaderError as exc:  # control characters
        where = f"{path}:{_line_col(text, exc.position)}"
        raise error(f"invalid YAML: {exc.reason}", where=where, fix="remove it") from None
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise error(f"invalid YAML: {first}", where=f"{path}:1:1", fix="fix the syntax") from None
    if data is None:
        return YamlDocument(path=path, data={}, positions=positions, empty=node is None)
    if not isinstance(data, dict):
        raise error(
            f"the top level must be a mapping (key: value lines), not {_kind(data)}",
            where=_mark(path, node.start_mark if node is not None else None),
            fix="start the file with keys such as `name:`",
        )
    duplicates = [
        Problem(
            f"{path}:{mark.line + 1}:{mark.column + 1}",
            f"{'.'.join(str(p) for p in key_path)}: key `{key_path[-1]}` is written twice "
            f"(first on line {first.line + 1}); YAML would silently keep only the last",
            "keep one of them",
        )
        for key_path, (first, mark) in found.values()
    ]
    return YamlDocument(path=path, data=data, positions=positions, duplicates=duplicates)


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    return "a single value"


def parse_value(text: str, *, where: str, error: type[DagstormError] = ConfigError) -> Any:
    """One YAML value written outside a file (a command line's ``key=value``).

    The limits of a file hold (size, aliases, nesting, expanded values); a problem is
    ``error`` at ``where`` (the argument as written), never a parser's exception.
    """
    fix = "quote it to pass text, or write a number, a word or [a, b]"
    if len(text) > MAX_BYTES or "\x00" in text:
        raise error(f"a value of {len(text)} characters, or with a NUL byte", where=where, fix=fix)
    try:
        _check_shape(text, Path("value"), error)
        loader = _Loader(text)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except DagstormError as exc:
        raise error(exc.what, where=where, fix=exc.fix or fix) from None
    except yaml.MarkedYAMLError as exc:
        raise error(
            f"not a YAML value: {exc.problem or exc.context}", where=where, fix=fix
        ) from None
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise error(f"not a YAML value: {first}", where=where, fix=fix) from None
