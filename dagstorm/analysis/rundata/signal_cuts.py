# mypy: disable-error-code="import-untyped"
"""The stream path's cuts of completion signals, as the Kafka workload wrote them.

Per cut of signals, the acked counts those signals cover
(``ledger/kafka/signals/cut-NNNNN/``: a ``summary.json`` and a ledger). The stream
completeness measure (:mod:`dagstorm.analysis.measures.data.stream`) uses them to set
apart what was still in flight at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson
import pandas as pd

from dagstorm.run.rundir import RunDirectory
from dagstorm.workloads.sinks.ledger import SUMMARY_FILE, load_ledger


@dataclass(frozen=True)
class SignalCut:
    """The acked counts (a ledger frame) one cut of completion signals covers."""

    signal_ids: tuple[str, ...]
    records: int
    ledger: pd.DataFrame


def read_signal_cuts(kafka_ledger: Path) -> tuple[SignalCut, ...]:
    """Every cut under ``kafka_ledger/signals/`` (none when the directory is absent)."""
    cuts = []
    for directory in sorted((kafka_ledger / RunDirectory.SIGNAL_LEDGERS).glob("cut-*")):
        summary = orjson.loads((directory / SUMMARY_FILE).read_bytes())
        ids = tuple(str(i) for i in summary.get("signal_ids", []))
        cuts.append(SignalCut(ids, int(summary.get("records", 0)), load_ledger(directory)))
    return tuple(cuts)
