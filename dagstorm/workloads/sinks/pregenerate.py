"""Pre-generating a data set (``dagstorm generate``): config, output checks, local backend.

A pre-generated data set is a landing zone and its ledger written as fast as the
backend goes (no pacing): the local backend is :class:`AdLogGenerator` advanced
hour by hour; the Spark backend is :mod:`dagstorm.workloads.spark_backend`. For the
same config both write the same data set (``docs/workloads.md``).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dagstorm.core.errors import UsageError
from dagstorm.workloads.config import GeneratorConfig
from dagstorm.workloads.encoding.jsonl import mean_record_bytes
from dagstorm.workloads.model.schedule import MS_PER_HOUR
from dagstorm.workloads.sinks.generator import AdLogGenerator

#: Parquet (snappy) bytes per JSON-lines byte, roughly (docs/benchmarks.md: ~65 B vs ~340 B).
PARQUET_SHARE = 0.25
#: Windows generated between two progress reports within a simulated hour.
PROGRESS_BATCHES = 64


@dataclass(frozen=True)
class GenerationSummary:
    """What a pre-generation wrote and how long it took (wall seconds)."""

    partitions: int
    records: int
    bytes: int
    wall_s: float
    details: dict[str, Any]


def build_config(source: dict[str, Any], *, root: Path, landing: dict[str, Any]) -> GeneratorConfig:
    """A :class:`GeneratorConfig` from generator fields and landing options, or a UsageError."""
    fields = dict(source)
    landing = {**landing, "root": root.resolve()}
    if "format" in fields:
        landing.setdefault("format", fields.pop("format"))
    try:
        return GeneratorConfig.model_validate({**fields, "landing": landing})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "config"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise UsageError(
            f"invalid generator setting: {message}",
            where=where,
            fix=None if "fix:" in message else "see `dagstorm generate --help`, docs/workloads.md",
        ) from None


def estimated_bytes(config: GeneratorConfig, duration_s: float) -> float:
    """Expected output size: the rate's bytes over the simulated period (Parquet ~1/4)."""
    plan = config.rate_plan(mean_record_bytes(config.model))
    share = PARQUET_SHARE if config.landing.format == "parquet" else 1.0
    return plan.sim_bytes_per_second * duration_s * share


def prepare_output(
    config: GeneratorConfig, ledger_dir: Path, duration_s: float, *, overwrite: bool
) -> None:
    """Refuse to mix with an earlier data set (unless ``overwrite``) or to overfill the disk."""
    root = config.landing.root
    old = sorted(root.glob("dt=*")) if root.is_dir() else []
    old_ledger = ledger_dir.is_dir() and any(ledger_dir.iterdir())
    if (old or old_ledger) and not overwrite:
        raise UsageError(
            "the output directory holds partitions or a ledger from an earlier run",
            where=str(root if old else ledger_dir),
            fix="choose an empty --out, or pass --overwrite to delete them first",
        )
    for path in old:
        shutil.rmtree(path)
    if old_ledger:
        shutil.rmtree(ledger_dir)
    root.mkdir(parents=True, exist_ok=True)
    need = estimated_bytes(config, duration_s)
    free = shutil.disk_usage(root).free
    if need > 0.9 * free:
        raise UsageError(
            f"the data set needs about {need / 1e9:,.1f} GB; {free / 1e9:,.1f} GB are free",
            where=str(root),
            fix="lower --scale or --duration, or write to a bigger filesystem",
        )


def generate_local(
    config: GeneratorConfig,
    duration_s: float,
    *,
    ledger_dir: Path,
    on_hour: Callable[[dict[str, Any]], None] | None = None,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
) -> GenerationSummary:
    """Generate ``duration_s`` simulated seconds in this process, one simulated hour at a time.

    ``on_hour`` is called when each simulated hour is done, ``on_progress`` after
    every :data:`PROGRESS_BATCHES` windows within it (a large hour takes a while);
    both get ``sim_s``, ``records``, ``bytes`` and ``wall_s`` so far. The data does
    not depend on how often they are called.
    """
    started = time.monotonic()
    generator = AdLogGenerator(config, ledger_dir=ledger_dir)
    start_ms = generator.source.start_ms
    hours: set[int] = set()
    sim = 0.0

    def so_far() -> dict[str, Any]:
        return {
            "sim_s": min(generator.sim_seconds, duration_s),
            "records": generator.records,
            "bytes": generator.bytes,
            "wall_s": time.monotonic() - started,
        }

    while sim < duration_s:
        # Advance to the next hour boundary (a partition finishes there), or the end.
        next_hour_ms = (start_ms + int(sim * 1000)) // MS_PER_HOUR * MS_PER_HOUR + MS_PER_HOUR
        sim = min(duration_s, (next_hour_ms - start_ms) / 1000)
        while True:
            batches = generator.advance_to(sim, max_batches=PROGRESS_BATCHES)
            hours.update(b.window.hour_ms for b in batches)
            if len(batches) < PROGRESS_BATCHES:
                break  # every window ending by `sim` is written
            if on_progress is not None:
                on_progress(so_far())
        if on_hour is not None:
            on_hour({**so_far(), "sim_s": sim})
    generator.close()
    return GenerationSummary(
        partitions=len(hours),
        records=generator.records,
        bytes=generator.bytes,
        wall_s=time.monotonic() - started,
        details={},
    )
