"""The stats file: how Locust's numbers reach dagstorm's journal.

Path: each worker accumulates per-second windows from Locust's ``request``
events (:class:`WindowAccumulator`) and attaches them, with the DAG runs it
triggered, to the report it sends the master every 3 s; the master appends them
as JSON lines to ``stats.jsonl`` in the run directory; the harness tails the file
(:class:`StatsTail`), merges the workers' windows per second
(:class:`SecondAggregator`) and journals ``workload_stats`` and ``dag_triggered``.
This works the same with workers on other machines: only the master writes.

Line types (one JSON object a line):

- ``window``: ``worker``, ``second`` (epoch), ``requests``, ``failures``,
  ``records``, ``acked``, ``failed``, ``bytes``, ``latency_ms`` (a histogram:
  whole milliseconds → count);
- ``triggered``: ``worker``, ``dag_id``, ``run_id``, ``ok``, ``status``,
  ``latency_ms``, ``error``, ``conf``;
- ``end``: ``complete`` (every worker's last window arrived), ``reason``,
  ``requests``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from dagstorm.core.errors import InfrastructureError
from dagstorm.core.quantiles import histogram_quantile


class StatsFormatError(InfrastructureError):
    """A line of the stats file that is not one of the documented types."""


class _Line(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WindowLine(_Line):
    """One worker's requests that ended in one wall second."""

    type: Literal["window"] = "window"
    worker: int = Field(ge=0)
    second: int
    requests: int = Field(0, ge=0)
    failures: int = Field(0, ge=0)
    records: int = Field(0, ge=0)
    acked: int = Field(0, ge=0)
    failed: int = Field(0, ge=0)
    bytes: int = Field(0, ge=0)
    latency_ms: dict[int, int] = Field(default_factory=dict)


class TriggeredLine(_Line):
    """One DAG run a trigger user POSTed (``ok`` when Airflow created it)."""

    type: Literal["triggered"] = "triggered"
    worker: int = Field(ge=0)
    dag_id: str
    run_id: str | None = None
    ok: bool
    status: int = 0
    latency_ms: float = 0.0
    error: str | None = None
    conf: dict[str, Any] = Field(default_factory=dict)


class EndLine(_Line):
    """The master's last line."""

    type: Literal["end"] = "end"
    complete: bool
    reason: str
    requests: int = Field(0, ge=0)


AnyLine = WindowLine | TriggeredLine | EndLine
StatsLine = Annotated[AnyLine, Field(discriminator="type")]
_LINE: TypeAdapter[AnyLine] = TypeAdapter(StatsLine)


def parse_line(text: str | bytes, *, where: str = "stats.jsonl") -> AnyLine:
    """One line of the stats file; :class:`StatsFormatError` if it is not a documented type."""
    try:
        return _LINE.validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "line"
        raise StatsFormatError(
            f"unreadable Locust stats line ({loc}: {first['msg']})",
            where=where,
            fix="the locustfile and the harness must come from the same dagstorm version",
        ) from None


@dataclass
class _Window:
    requests: int = 0
    failures: int = 0
    records: int = 0
    acked: int = 0
    failed: int = 0
    bytes: int = 0
    latency_ms: dict[int, int] = field(default_factory=dict)


class WindowAccumulator:
    """Per-second windows of one worker's requests (fed from Locust's ``request`` event)."""

    def __init__(self, worker: int = 0) -> None:
        self.worker = worker
        self._windows: dict[int, _Window] = {}

    def add(
        self,
        second: int,
        *,
        records: int,
        acked: int,
        size: int,
        latency_ms: float,
        ok: bool,
    ) -> None:
        """Count one request that ended in ``second``."""
        window = self._windows.setdefault(second, _Window())
        window.requests += 1
        window.failures += not ok
        window.records += records
        window.acked += acked
        window.failed += records - acked
        window.bytes += size
        bucket = max(0, round(latency_ms))
        window.latency_ms[bucket] = window.latency_ms.get(bucket, 0) + 1

    def drain(self, before: int | None = None) -> list[WindowLine]:
        """Remove and return the windows of seconds before ``before`` (all with None)."""
        seconds = sorted(s for s in self._windows if before is None or s < before)
        return [
            WindowLine(worker=self.worker, second=s, **vars(self._windows.pop(s))) for s in seconds
        ]

    def __len__(self) -> int:
        return len(self._windows)


@dataclass(frozen=True)
class SecondStats:
    """Every worker's windows of one wall second, merged."""

    second: int
    workers: int
    requests: int
    failures: int
    records: int
    acked: int
    failed: int
    bytes: int
    p50_ms: float | None
    p99_ms: float | None

    def event_fields(self) -> dict[str, Any]:
        """The fields of its ``workload_stats`` event (besides workload name and kind)."""
        fields = {
            "second": self.second,
            "interval_s": 1.0,
            "workers": self.workers,
            "requests": self.requests,
            "failures": self.failures,
            "records": self.records,
            "acked": self.acked,
            "failed": self.failed,
            "bytes": self.bytes,
        }
        if self.p50_ms is not None and self.p99_ms is not None:
            fields.update(p50_ms=self.p50_ms, p99_ms=self.p99_ms)
        return fields


class SecondAggregator:
    """Merges the workers' windows per second; a second is released once it is complete.

    Workers report every 3 s, so a second is released ``lag`` seconds after it
    ended (or at the end, with :meth:`flush_all`). A window arriving for a second
    already released becomes a second event of that second: nothing is dropped.
    """

    def __init__(self, lag: float = 6.0) -> None:
        self.lag = lag
        self._pending: dict[int, list[WindowLine]] = {}

    def add(self, window: WindowLine) -> None:
        """Hold a window until its second is released."""
        self._pending.setdefault(window.second, []).append(window)

    def flush(self, now: float) -> list[SecondStats]:
        """Release the seconds that ended at least ``lag`` seconds before ``now`` (epoch)."""
        due = sorted(s for s in self._pending if s + 1 + self.lag <= now)
        return [self._merge(s, self._pending.pop(s)) for s in due]

    def flush_all(self) -> list[SecondStats]:
        """Release everything held."""
        return [self._merge(s, self._pending.pop(s)) for s in sorted(self._pending)]

    @staticmethod
    def _merge(second: int, windows: list[WindowLine]) -> SecondStats:
        histogram: dict[int, int] = {}
        for w in windows:
            for value, count in w.latency_ms.items():
                histogram[value] = histogram.get(value, 0) + count
        return SecondStats(
            second=second,
            workers=len({w.worker for w in windows}),
            requests=sum(w.requests for w in windows),
            failures=sum(w.failures for w in windows),
            records=sum(w.records for w in windows),
            acked=sum(w.acked for w in windows),
            failed=sum(w.failed for w in windows),
            bytes=sum(w.bytes for w in windows),
            p50_ms=histogram_quantile(histogram, 0.50),
            p99_ms=histogram_quantile(histogram, 0.99),
        )


class StatsTail:
    """Reads the complete lines appended to the stats file since the last call."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._line_no = 0

    def read(self) -> list[AnyLine]:
        """New complete lines (a partly written last line waits for the next call)."""
        try:
            with self.path.open("rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n") + 1
        self._offset += end
        lines = []
        for raw in data[:end].splitlines():
            self._line_no += 1
            if raw.strip():
                lines.append(parse_line(raw, where=f"{self.path}:{self._line_no}"))
        return lines
