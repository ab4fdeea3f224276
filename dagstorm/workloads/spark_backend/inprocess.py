"""Run a Spark-backend plan in this process, task by task (tests, and the reference).

The same stage functions the Spark job maps, the same routing of carried events
and the same driver commit — without a cluster. Equality of its output with the
local generator's is what the unit tests check; the integration test checks the
cluster's output the same way.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from dagstorm.workloads.config import GeneratorConfig
from dagstorm.workloads.spark_backend.commit import Committed, clear_planned, commit_run
from dagstorm.workloads.spark_backend.plan import GenerationPlan
from dagstorm.workloads.spark_backend.tasks import CarryOver, carry_out, write_chunk


def run_plan_inprocess(
    config: GeneratorConfig, plan: GenerationPlan, *, ledger_dir: Path
) -> Committed:
    """Both stages over every chunk, then the driver's commit."""
    clear_planned(config, plan)
    bounds = plan.bounds
    carried: dict[int, list[CarryOver]] = defaultdict(list)
    for task in plan.chunks:
        for target, carry in carry_out(config, task, bounds):
            carried[target].append(carry)
    results = [write_chunk(config, task, carried[task.index]) for task in plan.chunks]
    return commit_run(config, plan, results, ledger_dir=ledger_dir)
