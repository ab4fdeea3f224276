"""A fault spec from ``KIND key=value…`` arguments (`fault inject`, `control … inject`).

Each value is read as YAML (``latency_ms=300`` is a number, ``app=[a, b]`` a list)
with the limits of an input file; every problem is named by the argument as written,
in the words `dagstorm validate` uses, all at once: one line each, exit code 2.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from dagstorm.core.errors import UsageError
from dagstorm.core.problems import Problem
from dagstorm.core.validation_words import problems_from_validation
from dagstorm.core.yamlsource import parse_value
from dagstorm.faults.kinds import FAULT_KINDS, parse_fault_spec
from dagstorm.faults.specs import FaultSpecBase

#: The fix of a problem that has no more precise one.
SCHEMA_FIX = "`dagstorm schema` lists every fault field; see docs/faults.md"


class FaultArgsInvalid(UsageError):
    """Fault arguments with one or more problems, each rendered on its own line."""

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0]
        super().__init__(first.what, where=first.where, fix=first.fix)
        self.problems = problems

    def render(self) -> str:
        """One line per problem."""
        return "\n".join(str(p) for p in self.problems)


def spec_from_args(kind: str, pairs: tuple[str, ...] | list[str]) -> FaultSpecBase:
    """The spec of ``KIND key=value…``; :class:`UsageError` naming each bad argument."""
    known = FAULT_KINDS.names()
    if kind not in known:
        raise UsageError(
            f"unknown fault kind `{kind}`", where="KIND", fix=f"use one of: {', '.join(known)}"
        )
    data: dict[str, Any] = {"kind": kind}
    written: dict[str, str] = {}
    problems: list[Problem] = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            problems.append(Problem(pair, "not key=value", "e.g. link=kafka latency_ms=300"))
            continue
        written[key] = pair
        try:
            data[key] = parse_value(value, where=pair, error=UsageError) if value else ""
        except UsageError as exc:
            problems.append(Problem(pair, exc.what, exc.fix or SCHEMA_FIX))
    try:
        spec = parse_fault_spec(data)
    except ValidationError as exc:
        # Every problem at once; with a value that could not be read, the spec's own
        # checks (a field required, one field needing another) are left for the next try.
        unread = {k for k, pair in written.items() if k not in data}
        problems += [
            _on_the_command_line(p, kind)
            for p in problems_from_validation(
                exc,
                data,
                lambda path, _key: (
                    written.get(str(path[0]), f"fault {kind}") if path else f"fault {kind}"
                ),
                model=FAULT_KINDS.get(kind).spec,
                default_fix=SCHEMA_FIX,
            )
            if not (unread and p.where == f"fault {kind}")
        ]
        raise FaultArgsInvalid(problems) from None
    if problems:
        raise FaultArgsInvalid(problems)
    return spec


def _on_the_command_line(problem: Problem, kind: str) -> Problem:
    """A problem of the spec as a whole (a field missing) worded for ``key=value`` arguments."""
    if problem.where != f"fault {kind}":
        return problem
    fix = re.sub(r"^add `(\w+):`$", r"add \1=…", problem.fix)
    return Problem(problem.where, problem.what.removeprefix("(top level): "), fix)


__all__ = ["FaultArgsInvalid", "spec_from_args"]
