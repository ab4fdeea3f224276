# mypy: disable-error-code="import-untyped"
"""Completeness of the stream path: the Kafka ledger's acked column vs ``ad_events_stats``.

Like the landing path (:mod:`completeness`), with one more rule for what is not
expected yet: the completion signals still being served when the run ended. The
Kafka workload writes, per cut of signals, the acked counts those signals cover
(``ledger/kafka/signals/cut-NNNNN/``). A cut none of whose signals has an
``ad_events_batches`` row (``stream_batches.parquet``) while the consumer DAG
(``ad_events_stream``) still had a run queued or running at the end is *in
flight*: its counts leave the expected basis and are reported apart. A cut not
served with no run in flight is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pandas as pd

from dagstorm.analysis.measures.data.completeness import DataCompleteness, data_completeness
from dagstorm.analysis.rundata.model import RunData
from dagstorm.analysis.rundata.signal_cuts import SignalCut
from dagstorm.workloads.sinks.ledger import KEY_COLUMNS

#: The reference pipeline's consumer of completion signals (docs/pipeline.md).
STREAM_DAG = "ad_events_stream"


def _stream_run_in_flight(dag_runs: pd.DataFrame) -> bool:
    if dag_runs.empty or "dag_id" not in dag_runs:
        return False
    runs = dag_runs[dag_runs["dag_id"] == STREAM_DAG]
    return bool(runs["state"].isin(("queued", "running")).any())


def in_flight_cuts(data: RunData) -> list[SignalCut]:
    """Cuts not served at all while the consumer DAG was still at work at the end."""
    if data.stream_served is None or not _stream_run_in_flight(data.dag_runs):
        return []
    return [c for c in data.stream_cuts if not set(c.signal_ids) & data.stream_served]


def _without(ledger: pd.DataFrame, cuts: Sequence[SignalCut]) -> pd.DataFrame:
    """``ledger`` with the acked counts of ``cuts`` taken out of its acked column."""
    frames = [c.ledger for c in cuts if len(c.ledger)]
    if not frames:
        return ledger
    keys = list(KEY_COLUMNS)
    taken = pd.concat(frames).groupby(keys, as_index=False)["acked"].sum()
    merged = ledger.merge(taken.rename(columns={"acked": "_taken"}), on=keys, how="left")
    merged["acked"] = (merged["acked"] - merged["_taken"].fillna(0)).astype("Int64")
    return merged.drop(columns=["_taken"])


def stream_completeness(data: RunData) -> DataCompleteness | None:
    """Completeness of the stream path; None when the run had no Kafka workload."""
    if data.stream_ledger is None and "stream_ledger" not in data.absent:
        return None
    absent = {
        "ledger": data.absent.get("stream_ledger", "no stream ledger"),
        "serving": data.absent.get("stream_serving", "no stream_serving.parquet"),
    }
    flying = in_flight_cuts(data) if data.stream_ledger is not None else []
    ledger = _without(data.stream_ledger, flying) if data.stream_ledger is not None else None
    measured = data_completeness(
        ledger, data.stream_serving, partitions=data.partitions.iloc[0:0], absent=absent
    )
    return replace(
        measured,
        in_flight_partitions=sum(len(c.signal_ids) for c in flying),
        in_flight_partition_events=sum(c.records for c in flying),
    )
