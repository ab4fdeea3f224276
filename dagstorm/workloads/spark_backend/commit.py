"""The driver's side: partitions emptied before the tasks; ``_SUCCESS`` and the ledger after.

Before any task writes, :func:`clear_planned` empties every partition of the plan
of an earlier run's files (the tasks each write a slice of a partition, so none of
them may clear it).

Markers are written hour by hour in time order, each only after every part file
its chunks reported is checked on disk (name and size) — on a real cluster that
also catches a landing root that is not one shared filesystem. The ledger gets
the same ``add``/``flush`` sequence as the local generator, so its chunks and
``summary.json`` are the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagstorm.core.errors import InfrastructureError
from dagstorm.workloads.config import GeneratorConfig
from dagstorm.workloads.model.catalog import Catalog
from dagstorm.workloads.sinks.generator import ledger_info, marker_extra
from dagstorm.workloads.sinks.landing import CommittedPart, clear_partition, write_marker
from dagstorm.workloads.sinks.ledger import LedgerWriter
from dagstorm.workloads.spark_backend.plan import GenerationPlan
from dagstorm.workloads.spark_backend.tasks import ChunkResult


def clear_planned(config: GeneratorConfig, plan: GenerationPlan) -> int:
    """Empty every partition of ``plan`` of an earlier run's files; how many were removed."""
    landing = config.landing
    return sum(clear_partition(landing.root, hour, fsync=landing.fsync) for hour in plan.hours)


@dataclass(frozen=True)
class Committed:
    """What the run wrote, once every marker and the ledger are in place."""

    partitions: int
    records: int
    bytes: int
    files: int


def check_parts(parts: list[CommittedPart]) -> None:
    """Every part exists under its final name with the size its task reported."""
    for part in parts:
        try:
            size = part.path.stat().st_size
        except FileNotFoundError:
            raise InfrastructureError(
                f"part file {part.path.name} reported by a Spark task is not there",
                where=str(part.path.parent),
                fix="the landing root must be one filesystem shared by the driver and "
                "every executor (NFS, a local disk on a one-machine cluster)",
            ) from None
        if size != part.bytes:
            raise InfrastructureError(
                f"part file {part.path.name} has {size} bytes, its task wrote {part.bytes}",
                where=str(part.path.parent),
                fix="another writer touched the landing zone; regenerate into an empty root",
            )


def commit_run(
    config: GeneratorConfig,
    plan: GenerationPlan,
    results: list[ChunkResult],
    *,
    ledger_dir: Path,
    on_partition: Callable[[dict[str, Any]], None] | None = None,
) -> Committed:
    """Write every partition's marker and the ledger from the tasks' results."""
    by_index = {r.index: r for r in results}
    missing = [c.index for c in plan.chunks if c.index not in by_index]
    if missing:
        raise InfrastructureError(f"{len(missing)} chunk task(s) returned no result: {missing[:5]}")
    catalog = Catalog(config.model, config.seed)
    ledger = LedgerWriter(ledger_dir, catalog, info=ledger_info(config))
    landing = config.landing
    records = size = files = 0
    for hour in plan.hours:
        chunk_results = [by_index[c.index] for c in plan.of_hour(hour)]
        parts = [p for r in chunk_results for p in r.parts]
        check_parts(parts)
        marker = write_marker(
            landing.root,
            hour,
            parts,
            fmt=landing.format,
            window=plan.hour_span(hour),
            extra=marker_extra(config.seed),
            fsync=landing.fsync,
        )
        for result in chunk_results:
            ledger.add(hour, result.generated, "generated")
            ledger.add(hour, result.written, "written")
            records += result.records
            size += result.bytes
        files += len(parts)
        ledger.flush(hour, marker=marker)
        if on_partition is not None:
            on_partition(marker)
    ledger.close()
    return Committed(partitions=len(plan.hours), records=records, bytes=size, files=files)
