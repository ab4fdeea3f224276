"""pydantic's validation errors in human words: one :class:`Problem` each.

Scenario, suite and stack files are validated by pydantic; its error texts
("Input tag 'x' found using 'kind' does not match …", "String should match
pattern '^…'") are for programmers. :func:`problems_from_validation` turns each
error into a :class:`~dagstorm.core.problems.Problem`, named the way the file names
it (``unknown fault kind `lost_event`; known: …``).
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from dagstorm.core.problems import CHECK_ERROR, KeyPath, Problem, describe_value, one_line, show

#: Every ``pattern=`` of the input models, said in words, with an example (tests keep
#: this complete).
PATTERNS: dict[str, tuple[str, str]] = {
    r"^[a-z0-9][a-z0-9_-]{0,62}$": (
        "must be 1-63 lowercase letters, digits, _ or -, starting with a letter or digit",
        "write e.g. `smoke` or `soak-nightly`",
    ),
    r"^\d+[mg]$": ("must be a memory size like 512m or 2g", "write e.g. 512m"),
    r"^\d+[mMgG]$": ("must be a memory size like 512m or 2g", "write e.g. 2g"),
    r"^spark://": (
        "must be a Spark master URL starting with spark://",
        "write e.g. spark://spark-master:7077",
    ),
    r"^[A-Za-z0-9._-]{1,200}$": (
        "must be a Kafka topic: 1-200 letters, digits, . _ or -",
        "write e.g. ad_events",
    ),
    r"^[A-Za-z0-9._:-]{1,40}$": ("must be 1-40 letters, digits, . _ : or -", "write e.g. nightly"),
    r"^[A-Za-z_][A-Za-z0-9_]*$": (
        "must be an environment variable's name (letters, digits, _)",
        "write e.g. SERVING_DB_DSN",
    ),
    r"^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)+$": (
        "must be a fully qualified Java name (package.Class or package.Class.method)",
        "write e.g. org.apache.spark.scheduler.Task.run",
    ),
    r'^[^"\\\n\r]*$': (
        "must be one line without double quotes or backslashes",
        "write e.g. injected by dagstorm",
    ),
    r"^[^\n]+$": ("must be one line", "write e.g. my_dag-aggregate-*"),
}


def _listed(expected: str) -> list[str]:
    """``"'a', 'b' or 'c'"`` → ``[a, b, c]``."""
    quoted = re.findall(r"'((?:[^'\\]|\\.)*)'", expected)
    return quoted or [p for p in re.split(r", | or ", expected) if p]


def _strip_type(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _members(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return [_strip_type(a) for a in typing.get_args(annotation) if a is not type(None)]
    return [annotation]


def _tags(model: type[BaseModel]) -> set[str]:
    tags: set[str] = set()
    for field in model.model_fields.values():
        if typing.get_origin(field.annotation) is typing.Literal:
            tags.update(str(a) for a in typing.get_args(field.annotation))
    return tags


def model_at(root: type[BaseModel], loc: Iterable[str | int]) -> type[BaseModel] | None:
    """The model class found at pydantic location ``loc`` under ``root`` (None if unsure)."""
    current: Any = root
    for part in loc:
        current = _strip_type(current)
        members = _members(current)
        if len(members) > 1:
            chosen = [
                m
                for m in members
                if isinstance(m, type)
                and issubclass(m, BaseModel)
                and (part in _tags(m) or part == m.__name__)
            ]
            if len(chosen) != 1:
                return None
            current = chosen[0]
            continue
        current = members[0]
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return None
            current = field.annotation
            continue
        origin = typing.get_origin(current)
        args = typing.get_args(current)
        if origin in (list, tuple, set, frozenset) and args:
            current = args[0]
        elif origin is dict and args:
            current = args[1]
        else:
            return None
    members = _members(_strip_type(current))
    found = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
    return found[0] if len(found) == 1 else None


_NOUNS = {"slos": "SLO", "faults": "fault", "fault": "fault", "workloads": "workload"}


def _noun(loc: Sequence[str | int]) -> str:
    named = [p for p in loc if isinstance(p, str)]
    if not named:
        return "value"
    name = named[-1]
    return _NOUNS.get(name, name.removesuffix("s") if name.endswith("s") else name)


def _suggest(word: str, choices: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(word, [c for c in choices if c != word], n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


#: How each error type says what was expected (used when a union's branches all failed).
_EXPECTED = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "int_parsing_size": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "text",
    "string_unicode": "text",
    "dict_type": "a mapping (key: value)",
    "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
    "list_type": "a list",
    "tuple_type": "a list",
    "none_required": "null",
    "path_type": "a file path",
    "datetime_type": "a date-time",
    "datetime_parsing": "a date-time",
}


def expected_phrase(err: ErrorDetails) -> str | None:
    """What a failed union branch wanted, in words (None: no short way to say it)."""
    if err["type"] == "literal_error":
        return "one of " + ", ".join(f"`{v}`" for v in _listed(str(err["ctx"]["expected"])))
    return _EXPECTED.get(err["type"])


@dataclass(frozen=True)
class _Error:
    """One pydantic error, unpacked for the translators below."""

    kind: str
    loc: tuple[str | int, ...]
    value: Any
    ctx: dict[str, Any]
    msg: str
    keys_here: Sequence[str]
    default_fix: str

    @property
    def field(self) -> str:
        return str(self.loc[-1]) if self.loc else "value"


def _about_keys(e: _Error) -> tuple[str, str] | None:
    if e.kind == "extra_forbidden":
        hint = _suggest(e.field, e.keys_here)
        if hint is None and e.keys_here:
            hint = "remove it; keys here: " + ", ".join(e.keys_here)
        return f"unknown key `{one_line(e.field, 60)}`", hint or "remove it"
    if e.kind == "missing":
        return f"`{e.field}` is required", f"add `{e.field}:`"
    if e.kind == "invalid_key":
        key = e.loc[-1] if e.loc else e.value
        return f"key {show(key)} is not text", "write keys as names (`name:`)"
    return None


def _about_choices(e: _Error) -> tuple[str, str] | None:
    if e.kind == "union_tag_invalid":
        known = _listed(str(e.ctx.get("expected_tags", "")))
        what = str(e.ctx.get("discriminator", "kind")).strip("'")
        tag = e.ctx.get("tag")
        fix = _suggest(str(tag), known) or "use one of the known ones"
        return f"unknown {_noun(e.loc)} {what} {show(tag)}; known: {', '.join(known)}", fix
    if e.kind == "union_tag_not_found":
        what = str(e.ctx.get("discriminator", "kind")).strip("'")
        return f"`{what}` is required (which {_noun(e.loc)} this is)", f"add `{what}:`"
    if e.kind == "literal_error":
        known = _listed(str(e.ctx.get("expected", "")))
        hint = _suggest(e.value, known) if isinstance(e.value, str) else None
        return f"{show(e.value)} is not one of: {', '.join(known)}", hint or "use one of those"
    if e.kind == "string_pattern_mismatch":
        pattern = str(e.ctx.get("pattern", ""))
        words, example = PATTERNS.get(pattern, ("does not have the expected form", e.default_fix))
        return f"{show(e.value)} {words}", example
    return None


_BOUNDS = {
    "greater_than": "more than",
    "greater_than_equal": "at least",
    "less_than": "less than",
    "less_than_equal": "at most",
}


def _about_sizes(e: _Error) -> tuple[str, str] | None:
    if e.kind == "string_too_short":
        return "must not be empty", f"write a {e.field}"
    if e.kind == "string_too_long":
        return f"at most {show(e.ctx.get('max_length'))} characters", "shorten it"
    if e.kind in ("too_short", "too_long"):
        bound = (
            f"at least {show(e.ctx.get('min_length'))}"
            if e.kind == "too_short"
            else f"at most {show(e.ctx.get('max_length'))}"
        )
        return f"needs {bound} item(s), got {e.ctx.get('actual_length')}", e.default_fix
    if e.kind in _BOUNDS:
        limit = next(iter(e.ctx.values()), "?")
        return f"must be {_BOUNDS[e.kind]} {show(limit)}, got {show(e.value)}", e.default_fix
    if e.kind == "finite_number":
        return f"must be a finite number, got {show(e.value)}", "write a number"
    return None


def _about_values(e: _Error) -> tuple[str, str] | None:
    if e.kind in ("value_error", "assertion_error"):
        cause = e.ctx.get("error")
        message = e.msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        # dagstorm's own errors (e.g. RateError) carry what and fix apart.
        message = str(getattr(cause, "what", None) or message)
        return message, str(getattr(cause, "fix", None) or e.default_fix)
    if e.kind == CHECK_ERROR:
        return e.msg, e.default_fix
    got = describe_value(e.value)
    expected = _EXPECTED.get(e.kind)
    if expected is not None:
        return f"expected {expected}, got {got}", f"write {expected} here ({e.default_fix})"
    if e.kind.startswith(("datetime", "date")):
        return f"expected a date-time like 2026-01-05T00:00:00Z, got {got}", e.default_fix
    return None


def humanise(
    err: ErrorDetails, *, keys_here: Sequence[str] = (), default_fix: str
) -> tuple[str, str]:
    """(what, fix) for one pydantic error; ``keys_here``: the keys allowed where it is."""
    unpacked = _Error(
        kind=err["type"],
        loc=tuple(err["loc"]),
        value=err.get("input"),
        ctx=dict(err.get("ctx") or {}),
        msg=err["msg"],
        keys_here=keys_here,
        default_fix=default_fix,
    )
    for translate in (_about_keys, _about_choices, _about_sizes, _about_values):
        said = translate(unpacked)
        if said is not None:
            return said
    # Anything else: pydantic's words, without the value echoed on several lines.
    return one_line(err["msg"]), default_fix


def data_path(loc: Sequence[Any], data: Any) -> KeyPath:
    """Pydantic's error location minus union tags and branch names: the path in the file."""
    path: list[str | int] = []
    current = data
    for part in loc:
        in_mapping = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_mapping or in_list:
            current = current[part]
            path.append(part)
    return tuple(path)


def problems_from_validation(
    exc: ValidationError,
    data: Any,
    where_of: Callable[[KeyPath, bool], str],
    *,
    model: type[BaseModel],
    default_fix: str,
    known_keys: Sequence[str] = (),
) -> list[Problem]:
    """One problem per error (a union's failed branches make one), in the order given.

    ``where_of(path, at_key)`` gives ``file:line:column`` of a path in the file;
    ``known_keys`` are every key of the schema, for "did you mean" when the place of
    an unknown key is not a model.
    """
    grouped: dict[KeyPath, list[ErrorDetails]] = {}
    order: list[tuple[KeyPath, ErrorDetails | None]] = []
    for err in exc.errors():
        path = data_path(err["loc"], data)
        if expected_phrase(err) is not None and len(err["loc"]) > len(path):
            # A branch of a union failed: one problem for all branches at this place.
            if path not in grouped:
                grouped[path] = []
                order.append((path, None))
            grouped[path].append(err)
            continue
        order.append((path, err))
    problems: list[Problem] = []
    for path, alone in order:
        dotted = ".".join(str(p) for p in path) or "(top level)"
        single = alone
        if single is None:
            errors = grouped[path]
            if len(errors) == 1:
                single = errors[0]
            else:
                phrases = list(dict.fromkeys(p for e in errors if (p := expected_phrase(e))))
                got = describe_value(errors[0].get("input"))
                what = f"expected {' or '.join(phrases)}, got {got}"
                problems.append(Problem(where_of(path, False), f"{dotted}: {what}", default_fix))
                continue
        loc = tuple(single["loc"])
        at_key = single["type"] == "extra_forbidden"
        keys_here: Sequence[str] = ()
        if at_key:
            here = model_at(model, loc[:-1])
            keys_here = tuple(here.model_fields) if here is not None else known_keys
        what, fix = humanise(single, keys_here=keys_here, default_fix=default_fix)
        problems.append(Problem(where_of(path, at_key), f"{dotted}: {what}", fix))
    return problems


__all__ = [
    "PATTERNS",
    "data_path",
    "expected_phrase",
    "humanise",
    "model_at",
    "problems_from_validation",
]
