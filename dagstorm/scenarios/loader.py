"""Load a scenario file: hostile-input checks, ``extends``, ``${VAR}``, then validation.

Every problem is reported at once, each with ``file:line:column``, what is
wrong and how to fix it. Nothing touches the stack until the whole file is
valid.

- ``extends: base.yaml`` (relative to the file): the base is loaded first and
  this file's keys override it; mappings merge recursively, lists are replaced.
- ``${VAR}`` and ``${VAR:-default}`` in any string are replaced from the
  environment; an unset variable without a default is an error.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dagstorm.core.errors import ScenarioError
from dagstorm.core.yamlsource import KeyPath, load_yaml
from dagstorm.scenarios.model import Scenario

MAX_EXTENDS = 5
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario."""

    where: str
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what} — fix: {self.fix}"


class ScenarioInvalid(ScenarioError):
    """A scenario with one or more problems (all of them are listed)."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        first = problems[0]
        super().__init__(
            first.what if len(problems) == 1 else f"{len(problems)} problems",
            where=first.where if len(problems) == 1 else str(path),
            fix=first.fix if len(problems) == 1 else "see each line below",
        )
        self.problems = problems

    def render(self) -> str:
        """One line per problem (a single problem renders as one line)."""
        if len(self.problems) == 1:
            return str(self.problems[0])
        return f"{self.where}: {self.what}\n" + "\n".join(f"  {p}" for p in self.problems)


@dataclass
class LoadedScenario:
    """A valid scenario plus where it came from."""

    scenario: Scenario
    path: Path
    resolved: dict[str, Any]
    positions: dict[KeyPath, str] = field(default_factory=dict)


def _merge(
    base: dict[str, Any],
    top: dict[str, Any],
    base_pos: dict[KeyPath, str],
    top_pos: dict[KeyPath, str],
    prefix: KeyPath = (),
) -> tuple[dict[str, Any], dict[KeyPath, str]]:
    merged = dict(base)
    positions = dict(base_pos) if not prefix else {}
    for key, value in top.items():
        path = (*prefix, key)
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key], sub = _merge(merged[key], value, base_pos, top_pos, path)
            positions.update(sub)
        else:
            merged[key] = value
            for pos_key in [k for k in base_pos if k[: len(path)] == path]:
                positions.pop(pos_key, None)
            positions.update({k: v for k, v in top_pos.items() if k[: len(path)] == path})
    if not prefix:
        positions.update({k: v for k, v in top_pos.items() if len(k) <= 1})
        # Where each key of the top file was written (for "unknown key" errors).
        positions.update({k: v for k, v in top_pos.items() if k[:1] == ("__key__",)})
    return merged, positions


def _read(
    path: Path, problems: list[Problem], chain: tuple[Path, ...] = ()
) -> tuple[dict[str, Any], dict[KeyPath, str]]:
    doc = load_yaml(path, error=ScenarioError)
    positions = {key: doc.where(key) for key in doc.positions if key[:1] != ("__key__",)}
    positions.update(
        {key: doc.where(key[1:], key=True) for key in doc.positions if key[:1] == ("__key__",)}
    )
    data = dict(doc.data)
    parent = data.pop("extends", None)
    if parent is None:
        return data, positions
    where = doc.where(("extends",))
    if not isinstance(parent, str):
        problems.append(Problem(where, "`extends` must be a file name", "extends: base.yaml"))
        return data, positions
    base_path = (path.parent / parent).resolve()
    if base_path in chain or base_path == path.resolve():
        problems.append(Problem(where, f"`extends` loops back to {parent}", "break the cycle"))
        return data, positions
    if len(chain) >= MAX_EXTENDS:
        problems.append(Problem(where, f"more than {MAX_EXTENDS} levels of extends", "flatten"))
        return data, positions
    if not base_path.is_file():
        problems.append(Problem(where, f"base scenario {parent} not found", "check the path"))
        return data, positions
    base, base_positions = _read(base_path, problems, (*chain, path.resolve()))
    return _merge(base, data, base_positions, positions)


def _substitute(
    value: Any,
    env: dict[str, str],
    path: KeyPath,
    positions: dict[KeyPath, str],
    problems: list[Problem],
) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, env, (*path, k), positions, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, env, (*path, i), positions, problems) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        problems.append(
            Problem(
                _where(path, positions),
                f"${{{name}}} is not set in the environment",
                f"export {name}=… or write ${{{name}:-default}}",
            )
        )
        return match.group(0)

    return _VAR.sub(replace, value)


def _where(path: KeyPath, positions: dict[KeyPath, str]) -> str:
    probe = tuple(path)
    while probe and probe not in positions:
        probe = probe[:-1]
    return positions.get(probe, positions.get((), "scenario"))


def _data_path(loc: tuple[Any, ...], data: Any) -> KeyPath:
    """Pydantic's error location minus discriminator tags: the path in the file."""
    path: list[str | int] = []
    current = data
    for part in loc:
        in_mapping = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and part < len(current)
        if in_mapping or in_list:
            current = current[part]
            path.append(part)
    return tuple(path)


@functools.cache
def _known_fields() -> tuple[str, ...]:
    """Every field name anywhere in the scenario schema (for "did you mean")."""
    schema = Scenario.model_json_schema()
    names = set(schema.get("properties", {}))
    for definition in schema.get("$defs", {}).values():
        names.update(definition.get("properties", {}))
    return tuple(sorted(names))


def _problems_from(exc: ValidationError, data: Any, positions: dict[KeyPath, str]) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        path = _data_path(loc, data)
        dotted = ".".join(str(p) for p in path) or "(top level)"
        message = err["msg"].removeprefix("Value error, ")
        fix = "see `dagstorm schema` and docs/scenarios.md"
        if err["type"] == "extra_forbidden":
            key = str(loc[-1])
            message = f"unknown key `{key}`"
            close = difflib.get_close_matches(key, _known_fields(), n=1)
            if close:
                fix = f"did you mean `{close[0]}`?"
        elif err["type"] == "missing":
            message = f"`{loc[-1]}` is required"
            fix = f"add `{loc[-1]}:`"
        where = _where(path, positions)
        if err["type"] == "extra_forbidden":
            where = positions.get(("__key__", *path), where)
        problems.append(Problem(where, f"{dotted}: {message}", fix))
    return problems


def load_scenario(
    path: Path,
    *,
    env: dict[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
    override_positions: dict[KeyPath, str] | None = None,
) -> LoadedScenario:
    """Load and validate ``path``; raises :class:`ScenarioInvalid` listing every problem.

    ``overrides`` (a suite's per-scenario changes) merge over the file like an
    ``extends`` child; ``override_positions`` say where they were written.
    """
    env = dict(os.environ) if env is None else env
    problems: list[Problem] = []
    data, positions = _read(path, problems)
    if overrides:
        data, positions = _merge(data, overrides, positions, override_positions or {})
    data = _substitute(data, env, (), positions, problems)
    if problems:
        raise ScenarioInvalid(path, problems)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioInvalid(path, _problems_from(exc, data, positions)) from None
    return LoadedScenario(scenario=scenario, path=path, resolved=data, positions=positions)
