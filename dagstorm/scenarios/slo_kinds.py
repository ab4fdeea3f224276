"""The SLO kinds: dagstorm's own, and those plugins add (entry points ``dagstorm.slos``).

A kind pairs the model of its scenario entry (``- sla: {…}``, tagged by ``type``)
with its judge (:mod:`dagstorm.plugin.slo`): dagstorm's own kinds name the
analysis' measure that judges them (:func:`~dagstorm.plugin.slo.judge_by_measure`);
a plugin's kind brings its own judge. Writing an SLO kind: docs/plugins.md.

A scenario's ``slos`` list is read here: each item is one key naming the kind,
with its settings (or, for a kind with a ``shorthand`` field, a bare value).
"""

from __future__ import annotations

import difflib
import functools
from typing import Annotated, Any, Union

from pydantic import BaseModel, BeforeValidator, Field, TypeAdapter

from dagstorm.core.problems import FixableValueError, show
from dagstorm.plugin.registry import Kind, OneOfKinds, Registry
from dagstorm.plugin.slo import SloReading, judge_by_measure
from dagstorm.scenarios.slos import (
    DuplicateEventsSlo,
    LostEventsSlo,
    RecoveryTimeSlo,
    SchedulerThroughputSlo,
    SlaSlo,
    SloSpecBase,
    TriesNeverStartedSlo,
    TriggerErrorsSlo,
)

#: Every SLO kind, looked up by the ``type`` of an SLO spec.
SLO_KINDS: Registry[SloReading] = Registry("dagstorm.slos", "SLO", tag="type")

for _spec in (
    SlaSlo,
    RecoveryTimeSlo,
    SchedulerThroughputSlo,
    LostEventsSlo,
    DuplicateEventsSlo,
    TriggerErrorsSlo,
    TriesNeverStartedSlo,
):
    SLO_KINDS.register(Kind(spec=_spec, build=judge_by_measure))


def slo_types() -> list[str]:
    """Every SLO a scenario may list, as written (``- <type>: …``), plugins' included."""
    return SLO_KINDS.names()


@functools.cache
def _union(specs: tuple[type[BaseModel], ...]) -> TypeAdapter[Any]:
    """A ``type``-tagged union of ``specs`` (pydantic puts the tag in error paths)."""
    if len(specs) == 1:
        return TypeAdapter(specs[0])
    union: Any = Annotated[Union[specs], Field(discriminator="type")]  # noqa: UP007
    return TypeAdapter(union)


def parse_slo(value: Any) -> SloSpecBase:
    """``{type: <kind>, …}`` as its kind's model (errors keep the ``<kind>.field`` path)."""
    if isinstance(value, SloSpecBase):
        return value
    parsed = _union(SLO_KINDS.specs()).validate_python(value)
    assert isinstance(parsed, SloSpecBase)
    return parsed


def normalise_slo(item: Any) -> Any:
    """``{sla: {...}}`` → ``{type: sla, ...}``; ``{lost_events: 0}`` → ``{type: …, max: 0}``."""
    if isinstance(item, dict) and len(item) == 1 and "type" not in item:
        ((key, value),) = item.items()
        if isinstance(value, dict):
            return {"type": key, **value}
        shorthand = _shorthand(key)
        return {"type": key, (shorthand or "value"): value}
    return item


def _shorthand(key: Any) -> str | None:
    if not isinstance(key, str) or key not in SLO_KINDS.names():
        return None
    spec = SLO_KINDS.get(key).spec
    assert issubclass(spec, SloSpecBase)
    return spec.shorthand


def slo_entry(item: Any) -> Any:
    """:func:`normalise_slo` for a scenario's list, with a clear error for anything else.

    Raises ValueError (with a fix) for what is not one SLO written as one key.
    """
    if isinstance(item, dict) and "type" in item:
        return item
    if not isinstance(item, dict) or len(item) != 1:
        raise FixableValueError(
            "an SLO is one key naming it, with its settings",
            "write e.g. `- lost_events: 0` or `- sla: {dag: …, within: 2h}`",
        )
    ((key, value),) = item.items()
    known = slo_types()
    if key not in known:
        close = difflib.get_close_matches(str(key), known, n=1)
        raise FixableValueError(
            f"unknown SLO {show(key)}; known: {', '.join(known)}",
            f"did you mean `{close[0]}`?" if close else "use one of the known ones",
        )
    if isinstance(value, dict) and "type" in value:
        raise FixableValueError(f"`{key}` already says the SLO type", "remove `type:`")
    if not isinstance(value, dict) and _shorthand(key) is None:
        spec = SLO_KINDS.get(key).spec
        example = getattr(spec, "example", "") or f"{key}: {{…}}"
        raise FixableValueError(
            f"`{key}` takes a mapping of settings, got {show(value)}",
            f"write e.g. `{example}`",
        )
    return normalise_slo(item)


SloEntry = Annotated[
    SloSpecBase,
    BeforeValidator(lambda item: parse_slo(slo_entry(item))),
    OneOfKinds(SLO_KINDS),
]
"""One item of a scenario's ``slos`` list, as written."""
