"""The scenario a run's ``run_start`` event describes, and the journal's field readers.

``run_start`` carries the scenario as the run saw it (name, compression, phases,
SLOs, executor); :func:`scenario_info` turns it into a :class:`ScenarioInfo`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from dagstorm.analysis.rundata.model import Phase, RunDirectoryError, ScenarioInfo, Slo
from dagstorm.scenarios.slo_kinds import normalise_slo, parse_slo, slo_types
from dagstorm.scenarios.slos import SlaSlo


def scenario_info(start: Mapping[str, Any], where: str) -> ScenarioInfo:
    """The scenario ``run_start`` describes, its SLOs parsed; ``where`` names the journal line.

    Raises :class:`RunDirectoryError` for a ``run_start`` no analysis can use: no
    numeric time compression, or an SLO no installed package provides or that is
    not valid.
    """
    compression = start.get("time_compression")
    if isinstance(compression, bool) or not isinstance(compression, int | float):
        raise RunDirectoryError(
            "run_start has no numeric time_compression", where=where, fix="check the journal"
        )
    if compression <= 0:
        raise RunDirectoryError(
            f"run_start's time_compression must be > 0, not {compression}", where=where
        )
    slos: list[Slo] = []
    for position, raw in enumerate(start.get("slos") or [], start=1):
        kind = normalise_slo(raw).get("type") if isinstance(raw, Mapping) else None
        if isinstance(kind, str) and kind not in slo_types():
            raise RunDirectoryError(
                f"SLO #{position} in run_start is of kind `{kind}`, which no installed"
                " package provides",
                where=where,
                fix="install the plugin that provides it (entry points `dagstorm.slos`)",
            )
        try:
            slo = parse_slo(normalise_slo(raw))
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise RunDirectoryError(
                f"SLO #{position} in run_start is not valid: {loc}: {first['msg']}",
                where=where,
                fix="re-run with a valid scenario (`dagstorm validate`)",
            ) from None
        if isinstance(slo, SlaSlo) and slo.within is None:
            # The loader fills it from the profile; a journal without one cannot be judged.
            raise RunDirectoryError(
                f"SLO #{position} in run_start (sla:{slo.dag}) has no deadline (`within`)",
                where=where,
                fix="re-run with a scenario `dagstorm validate` accepts",
            )
        slos.append(slo)
    phases = tuple(
        Phase(str(p.get("name")), number(p.get("start_s")), number(p.get("end_s")))
        for p in start.get("phases") or []
        if isinstance(p, Mapping)
    )
    seed = start.get("seed")
    duration = start.get("duration_s")
    return ScenarioInfo(
        name=str(start.get("scenario") or "unnamed"),
        description=str(start.get("description") or ""),
        seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
        time_compression=float(compression),
        duration_s=float(duration) if isinstance(duration, int | float) else None,
        stack_kind=text_or_none(start.get("stack_kind")),
        dagstorm_version=text_or_none(start.get("dagstorm_version")),
        phases=phases,
        slos=tuple(slos),
        executor=_executor(start),
    )


def _executor(start: Mapping[str, Any]) -> str | None:
    """The executor ``run_start`` names: its own field, else the environment's."""
    environment = start.get("environment")
    named = start.get("executor")
    if named is None and isinstance(environment, Mapping):
        named = environment.get("executor")
    return str(named) if named else None


def number(value: Any) -> float:
    """A journal field as a number: 0.0 when it is missing or not one."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return 0.0


def text_or_none(value: Any) -> str | None:
    """A journal field as text; None stays None."""
    return None if value is None else str(value)


def texts(value: Any) -> tuple[str, ...]:
    """A journal list field as texts; anything else as none."""
    return tuple(str(v) for v in value) if isinstance(value, list) else ()
