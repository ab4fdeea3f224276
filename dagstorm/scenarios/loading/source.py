"""Reading a scenario file: its ``extends`` chain and its ``${VAR}`` substitutions.

- ``extends: base.yaml`` (relative to the file): the base is read first and this
  file's keys override it; mappings merge recursively, lists are replaced. At most
  :data:`MAX_EXTENDS` levels; a loop, a missing base or a bad name is an
  :class:`Extends` problem (the rest of the file means little without its base).
- ``${VAR}`` and ``${VAR:-default}`` in any string are replaced from the
  environment; an unset variable without a default is a problem.

Positions (``file:line:column`` per key path) follow the merge, so every problem
found later names the file and line where the value was written.
:class:`ScenarioInvalid` is the loader's error (re-exported by
:mod:`dagstorm.scenarios.loader`); reading raises it for a file that is empty or
is a suite.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from dagstorm.core.errors import ScenarioError
from dagstorm.core.problems import Problem
from dagstorm.core.yamlsource import KeyPath, load_yaml

__all__ = [
    "MAX_EXTENDS",
    "Extends",
    "ScenarioInvalid",
    "merge",
    "position_of",
    "read",
    "substitute",
]

MAX_EXTENDS = 5
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ScenarioInvalid(ScenarioError):
    """A scenario with one or more problems (all of them are listed, one line each)."""

    def __init__(
        self, path: Path, problems: list[Problem], warnings: list[Problem] | None = None
    ) -> None:
        first = problems[0]
        super().__init__(
            first.what if len(problems) == 1 else f"{len(problems)} problems",
            where=first.where if len(problems) == 1 else f"{path}:1:1",
            fix=first.fix if len(problems) == 1 else "see each line",
        )
        self.problems = problems
        self.warnings = list(warnings or [])

    def render(self) -> str:
        """One line per problem, then one per warning."""
        return "\n".join(str(p) for p in [*self.problems, *self.warnings])

    def __str__(self) -> str:
        return self.render()


def merge(
    base: dict[str, Any],
    top: dict[str, Any],
    base_pos: dict[KeyPath, str],
    top_pos: dict[KeyPath, str],
    prefix: KeyPath = (),
) -> tuple[dict[str, Any], dict[KeyPath, str]]:
    """``top`` merged over ``base`` (mappings recursively), and the positions that follow."""
    merged = dict(base)
    positions = dict(base_pos) if not prefix else {}
    for key, value in top.items():
        path = (*prefix, key)
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key], sub = merge(merged[key], value, base_pos, top_pos, path)
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


def read(
    path: Path, problems: list[Problem], chain: tuple[Path, ...] = ()
) -> tuple[dict[str, Any], dict[KeyPath, str]]:
    """The file's data and positions, merged over its ``extends`` chain.

    Problems with the chain itself go to ``problems`` with the ``extends`` marker
    (the rest of the file means little without its base).
    """
    doc = load_yaml(path, error=ScenarioError)
    if doc.empty:
        raise ScenarioInvalid(
            path,
            [
                Problem(
                    f"{path}:1:1",
                    "the file is empty: a scenario needs at least `name:` and `duration:`",
                    "start from one of the library, e.g. `cp scenarios/smoke.yaml "
                    f"{path.name}` (docs/scenarios.md)",
                )
            ],
        )
    if "suite" in doc.data:
        raise ScenarioInvalid(
            path,
            [
                Problem(
                    doc.where(("suite",), key=True),
                    f"this file is a suite ({_name(doc.data['suite'])}), not a scenario",
                    f"run it with `dagstorm nightly {path}`; `dagstorm validate {path}` checks it",
                )
            ],
        )
    if "scenarios" in doc.data and "name" not in doc.data:
        raise ScenarioInvalid(
            path,
            [
                Problem(
                    doc.where(("scenarios",), key=True),
                    "this looks like a suite without its `suite:` name, not a scenario",
                    "add `suite: NAME` at the top and run it with `dagstorm nightly` "
                    "(docs/nightly.md)",
                )
            ],
        )
    problems.extend(doc.duplicates)
    positions = {key: doc.where(key) for key in doc.positions if key[:1] != ("__key__",)}
    positions.update(
        {key: doc.where(key[1:], key=True) for key in doc.positions if key[:1] == ("__key__",)}
    )
    positions.setdefault((), f"{path}:1:1")
    data = dict(doc.data)
    parent = data.pop("extends", None)
    if parent is None:
        return data, positions
    where = doc.where(("extends",))
    if not isinstance(parent, str) or not parent.strip():
        problems.append(Extends(where, "`extends` must be a file name", "extends: base.yaml"))
        return data, positions
    try:
        base_path = (path.parent / parent).resolve()
        found = base_path.is_file()
    except (OSError, ValueError) as exc:  # a name too long for the file system, …
        reason = getattr(exc, "strerror", None) or str(exc)
        problems.append(Extends(where, f"cannot use {_name(parent)}: {reason}", "check the path"))
        return data, positions
    if base_path in chain or base_path == path.resolve():
        problems.append(Extends(where, f"`extends` loops back to {parent}", "break the cycle"))
        return data, positions
    if len(chain) >= MAX_EXTENDS:
        problems.append(Extends(where, f"more than {MAX_EXTENDS} levels of extends", "flatten"))
        return data, positions
    if not found:
        problems.append(Extends(where, f"base scenario {parent} not found", "check the path"))
        return data, positions
    base, base_positions = read(base_path, problems, (*chain, path.resolve()))
    return merge(base, data, base_positions, positions)


class Extends(Problem):
    """A problem with the ``extends`` chain: validating the rest would only add noise."""


def _name(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 and text.isprintable() else repr(text[:37]) + "…"


def substitute(
    value: Any,
    env: dict[str, str],
    path: KeyPath,
    positions: dict[KeyPath, str],
    problems: list[Problem],
) -> Any:
    """``value`` with every ``${VAR}`` replaced; each unset one goes to ``problems``."""
    if isinstance(value, dict):
        return {k: substitute(v, env, (*path, k), positions, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, env, (*path, i), positions, problems) for i, v in enumerate(value)]
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
                position_of(path, positions),
                f"${{{name}}} is not set in the environment",
                f"export {name}=… or write ${{{name}:-default}}",
            )
        )
        return match.group(0)

    return _VAR.sub(replace, value)


def position_of(path: KeyPath, positions: dict[KeyPath, str]) -> str:
    """Where ``path`` (or the nearest key above it) was written."""
    probe = tuple(path)
    while probe and probe not in positions:
        probe = probe[:-1]
    return positions.get(probe, positions.get((), "scenario:1:1"))
