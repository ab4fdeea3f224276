"""The pipeline profile's output checks, run at the end of a run (what the pipeline produced).

Each check reads only what this run's pipeline runs produced: a SQL query gets
the DAG runs this run triggered (``run_ids``), the completion signals it sent
(``signal_ids``), the landing partitions it finished (``partitions``) and the
run's wall interval (``start``, ``end``); a Kafka check counts messages since the
run started (or a group's lag at the end); a files check counts rows in files
written since the run started.

Checks compared with a ledger write their rows where the analysis reads them
(``serving.parquet``, ``partition_loads.parquet``, ``stream_serving.parquet``,
``stream_batches.parquet``); every check's figures (rows, distinct ids, the
declared expectation, or why it failed) go to ``output_checks.json``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg

from dagstorm.core.atomic import atomic_write
from dagstorm.engine.output.output_sources import file_rows, kafka_lag, kafka_messages, topic_end
from dagstorm.profiles.loader import LoadedProfile
from dagstorm.profiles.model import FileCheck, KafkaCheck, OutputCheck, SqlCheck
from dagstorm.run.events import Kind
from dagstorm.run.follow import Event, events_of_kinds
from dagstorm.run.rundir import RunDirectory
from dagstorm.stack.endpoints import Stack
from dagstorm.stack.profile_env import check_env

__all__ = [
    "TRIGGERED_KINDS",
    "OutputChecks",
    "OutputFigures",
    "ok_values",
    "run_ids_of",
    "sent_signal_ids",
    "sql_rows",
    "triggered_run_ids",
]

_INTEGER_COLUMNS = ("impressions", "clicks", "conversions")
_TIME_COLUMNS = ("hour", "loaded_at")


#: The kinds :func:`triggered_run_ids` reads.
TRIGGERED_KINDS = (Kind.DAG_TRIGGERED, Kind.ASSET_RUNS)


def ok_values(events: Iterable[Event], kind: Kind, field: str) -> set[str]:
    """Distinct ``field`` of the successful ``kind`` events among ``events``."""
    return {str(e[field]) for e in events if e.get("kind") == kind and e.get("ok") and e.get(field)}


def run_ids_of(events: Iterable[Event]) -> set[str]:
    """Run ids of the DAG runs ``events`` say this run created (triggers, asset events' runs)."""
    found: set[str] = set()
    for event in events:
        kind = event.get("kind")
        if kind == Kind.DAG_TRIGGERED and event.get("ok") and event.get("run_id"):
            found.add(str(event["run_id"]))
        elif kind == Kind.ASSET_RUNS:
            found.update(str(run[1]) for run in event.get("runs") or [] if len(run) == 2)
    return found


def triggered_run_ids(journal_path: Path) -> list[str]:
    """Run ids of the DAG runs this run created: its API triggers, and its asset events' runs."""
    return sorted(run_ids_of(events_of_kinds(journal_path, TRIGGERED_KINDS)))


def sent_signal_ids(journal_path: Path) -> list[str]:
    """signal_ids of the completion signals this run sent (acknowledged by Kafka)."""
    events = events_of_kinds(journal_path, (Kind.KAFKA_SIGNAL,))
    return sorted(ok_values(events, Kind.KAFKA_SIGNAL, "signal_id"))


def finished_partitions(journal_path: Path) -> list[str]:
    """Landing partitions (``YYYY-MM-DDTHH``) this run finished."""
    found = set()
    for event in events_of_kinds(journal_path, (Kind.PARTITION_WRITTEN,)):
        if event.get("dt") is not None:
            found.add(f"{event['dt']}T{int(event.get('hour') or 0):02d}")
    return sorted(found)


def sql_rows(
    dsn: str, query: str, params: Mapping[str, Any]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and rows of ``query`` with named ``params``."""
    with psycopg.connect(dsn, connect_timeout=10) as conn:
        cursor = conn.execute(query, dict(params))
        columns = [c.name for c in cursor.description or ()]
        return columns, cursor.fetchall()


@dataclass(frozen=True)
class OutputFigures:
    """What one output check found (``output_checks.json``)."""

    name: str
    kind: str
    compare: str
    #: Rows (or messages, or the count a query returned); None when the check failed.
    count: int | None
    #: Distinct values of ``id_column``; None without ids.
    distinct_ids: int | None
    id_column: str | None
    expected: int | None
    per_run: bool
    #: What ``count`` counts: ``rows`` (SQL, files), ``messages`` or ``lag`` (Kafka).
    measure: str = "rows"
    #: Why the check has no figures (None when it has them).
    error: str | None = None


class OutputChecks:
    """A profile's output checks for one run: offsets at the start, figures at the end."""

    def __init__(
        self,
        loaded: LoadedProfile,
        stack: Stack,
        run_dir: Path,
        *,
        state_dir: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.loaded = loaded
        self.stack = stack
        self.directory = RunDirectory(run_dir)
        self.state_dir = state_dir
        self.env = check_env(stack, loaded.profile, env)
        self.started = datetime.now(UTC)
        self._start_offsets: dict[str, int] = {}

    def begin(self) -> None:
        """Record what the end compares with: each Kafka topic's end offsets now."""
        self.started = datetime.now(UTC)
        for check in self.loaded.profile.outputs:
            if isinstance(check, KafkaCheck) and check.measure == "messages":
                try:
                    self._start_offsets[check.name] = topic_end(self.stack, check.topic)
                except Exception:  # noqa: BLE001 - the end says the check failed
                    continue

    def finish(self) -> list[OutputFigures]:
        """Run every check, write the rows and ``output_checks.json`` (a failure stops none)."""
        params = self._params()
        figures = []
        for check in self.loaded.profile.outputs:
            try:
                figures.append(self._run(check, params))
            except Exception as exc:  # noqa: BLE001 - a failed check is "not measured"
                figures.append(_figures(check, None, None, f"{exc.__class__.__name__}: {exc}"))
        document = {"profile": self.loaded.profile.name, "checks": [asdict(f) for f in figures]}
        atomic_write(self.directory.output_checks, json.dumps(document, indent=2) + "\n")
        return figures

    def _params(self) -> dict[str, Any]:
        journal = self.directory.journal
        return {
            "run_ids": triggered_run_ids(journal),
            "signal_ids": sent_signal_ids(journal),
            "partitions": finished_partitions(journal),
            "start": self.started,
            "end": datetime.now(UTC),
        }

    def _run(self, check: OutputCheck, params: Mapping[str, Any]) -> OutputFigures:
        if isinstance(check, SqlCheck):
            return self._sql(check, params)
        if isinstance(check, KafkaCheck):
            if check.measure == "lag":
                assert check.group is not None
                return _figures(check, kafka_lag(self.stack, check.topic, check.group), None)
            if check.name not in self._start_offsets:
                raise RuntimeError("no start offsets (Kafka did not answer at the start)")
            start = self._start_offsets[check.name]
            return _figures(check, kafka_messages(self.stack, check.topic, start), None)
        assert isinstance(check, FileCheck)
        rows = file_rows(self._path(check.path), check.glob, check.format, since=self.started)
        return self._frame_figures(check, rows)

    def _path(self, text: str) -> Path:
        path = Path(text.replace("${state_dir}", str(self.state_dir)))
        return self.loaded.resolve(path)

    def _sql(self, check: SqlCheck, params: Mapping[str, Any]) -> OutputFigures:
        dsn = self.env.get(check.dsn_env)
        if not dsn:
            raise RuntimeError(f"environment variable {check.dsn_env} is not set")
        columns, rows = sql_rows(dsn, check.query, params)
        one_number = len(rows) == 1 and len(rows[0]) == 1
        if check.compare == "count" and one_number and not check.id_column:
            return _figures(check, int(rows[0][0] or 0), None)
        return self._frame_figures(check, pd.DataFrame(list(rows), columns=columns))

    def _frame_figures(self, check: OutputCheck, frame: pd.DataFrame) -> OutputFigures:
        target = {
            "ledger": self.directory.serving,
            "load_stats": self.directory.partition_loads,
            "stream_ledger": self.directory.stream_serving,
            "stream_loads": self.directory.stream_batches,
        }.get(check.compare)
        if target is not None:
            _to_parquet(frame, target)
        distinct = None
        if check.id_column is not None:
            if check.id_column not in frame.columns:
                raise RuntimeError(f"no column `{check.id_column}` in the rows")
            distinct = int(frame[check.id_column].nunique(dropna=True))
        return _figures(check, len(frame), distinct)


def _figures(
    check: OutputCheck, count: int | None, distinct: int | None, error: str | None = None
) -> OutputFigures:
    return OutputFigures(
        name=check.name,
        kind=check.kind,
        compare=check.compare,
        count=count,
        distinct_ids=distinct,
        id_column=check.id_column,
        expected=check.expected,
        per_run=check.per_run,
        measure=check.measure if isinstance(check, KafkaCheck) else "rows",
        error=None if error is None else error[:300],
    )


def _to_parquet(frame: pd.DataFrame, path: Path) -> None:
    """The rows as Parquet, times as UTC and event counts as integers (what analysis reads)."""
    frame = frame.copy()
    for column in _TIME_COLUMNS:
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], utc=True)
    for column in _INTEGER_COLUMNS:
        if column in frame:
            frame[column] = frame[column].astype("int64")
    frame.to_parquet(path, index=False)
