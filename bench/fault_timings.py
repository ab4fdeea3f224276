"""How long each fault takes to take effect (inject + verify) and to revert, on the real stack.

Usage: .venv/bin/python bench/fault_timings.py [--repeat N]
Needs a running embedded stack (`dagstorm stack up`). Prints one row per fault.
"""

from __future__ import annotations

import argparse
import statistics
import time

from dagstorm.core.progress import Progress
from dagstorm.faults.base import FaultContext
from dagstorm.faults.journal import FaultJournal
from dagstorm.faults.manager import FaultManager
from dagstorm.faults.specs import AirflowFault, BrokerFault, NetworkFault, SparkFault
from dagstorm.stack.config import load_stack_config
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.endpoints import resolve_stack

SPECS = [
    NetworkFault(link="kafka", effect="latency", latency_ms=300),
    NetworkFault(link="airflow-db", effect="down"),
    NetworkFault(link="serving-db", effect="bandwidth", rate_kb_per_s=64),
    BrokerFault(action="pause"),
    BrokerFault(action="kill"),
    BrokerFault(action="restart"),
    AirflowFault(action="kill", component="scheduler"),
    AirflowFault(action="pause", component="triggerer"),
    SparkFault(action="worker_loss"),
    SparkFault(action="master_restart"),
    SparkFault(action="cluster_pressure"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each fault")
    args = parser.parse_args()
    config = load_stack_config()
    stack_ctx = StackContext(config=config, progress=Progress(quiet=True))
    journal = FaultJournal(stack_ctx.layout.root / "faults" / "journal.jsonl")
    ctx = FaultContext(stack=resolve_stack(config), journal=journal, embedded=stack_ctx)
    print(f"{'fault':48} {'take effect s':>14} {'revert s':>10}")
    with FaultManager(ctx) as manager:
        for spec in SPECS:
            effect, revert = [], []
            for _ in range(args.repeat):
                started = time.monotonic()
                active = manager.inject(spec)
                effect.append(time.monotonic() - started)
                started = time.monotonic()
                manager.revert(active)
                revert.append(time.monotonic() - started)
            print(
                f"{spec.describe():48} {statistics.median(effect):>14.2f} "
                f"{statistics.median(revert):>10.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
