"""The second shipped pipeline (pipelines/orders_etl/) end to end, deployed without a restart.

Deploys the `orders_etl` profile onto the running stack (`dagstorm stack deploy`'s
code: DAG files linked into the stack's DAGs folder, its database, schema and
Airflow connection), runs scenarios/orders-etl.yaml (a trigger storm and a 20 s
outage of the database link) through the CLI, holds the verdict and the output
check's figures against an independent SQL count over the same runs, then
undeploys the profile.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dagstorm.engine.output.output_checks import triggered_run_ids
from dagstorm.profiles.loader import find_profile
from dagstorm.run.rundir import RunDirectory
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.endpoints import Stack
from dagstorm.stack.profile_deploy import (
    deploy_profile,
    deployed,
    managed_dags_folder,
    undeploy_profile,
)
from dagstorm.stack.profile_env import profile_dsn

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).parents[2]
PER_RUN = 20


@pytest.fixture(scope="module")
def orders_deployed(stack_context: StackContext) -> Iterator[Any]:
    """The orders_etl profile deployed (and undeployed afterwards)."""
    loaded = find_profile("orders_etl")
    try:
        linked = deploy_profile(stack_context, loaded, check_folder=True)
        assert linked == ["orders_etl.py"]
        assert deployed(managed_dags_folder(stack_context))["orders_etl"] == linked
        yield loaded
        assert undeploy_profile(stack_context, "orders_etl") == linked
    finally:
        undeploy_profile(stack_context, "orders_etl")
    assert not (managed_dags_folder(stack_context) / "orders_etl.py").exists()


def test_the_orders_scenario_judges_what_sql_counts(
    orders_deployed: Any, stack: Stack, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "dagstorm",
            "run",
            str(ROOT / "scenarios" / "orders-etl.yaml"),
            "--runs-dir",
            str(runs),
        ],
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
        cwd=ROOT,
    )
    run_dir = next(p for p in runs.iterdir() if p.is_dir())  # runs/history.jsonl beside it
    result = json.loads(RunDirectory(run_dir).result.read_text())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert result["verdict"]["passed"] is True
    assert result["verdict"]["slos_failed"] == 0
    checks = result["measures"]["output_checks"]
    assert [c["name"] for c in checks] == ["orders"]
    orders = checks[0]
    run_ids = triggered_run_ids(RunDirectory(run_dir).journal)
    assert len(run_ids) >= 10
    dsn = profile_dsn(stack, orders_deployed.profile, "DAGSTORM_ORDERS_DB_DSN")
    assert dsn is not None
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT order_id) FROM orders WHERE run_id = ANY(%s)",
            (run_ids,),
        ).fetchone()
    assert row is not None
    rows, distinct = int(row[0]), int(row[1])
    assert orders["basis"] == "ids"
    assert (orders["found"], orders["distinct_ids"]) == (rows, distinct)
    assert orders["expected"] == PER_RUN * len(run_ids)
    assert orders["lost"] == PER_RUN * len(run_ids) - distinct
    assert orders["duplicated"] == rows - distinct
    assert (orders["lost"], orders["duplicated"]) == (0, 0)
    assert json.loads(RunDirectory(run_dir).pipeline.read_text())["name"] == "orders_etl"
    journal = RunDirectory(run_dir).journal.read_text()
    assert '"kind":"fault_applied"' in journal.replace(" ", "")
    assert '"kind":"fault_reverted"' in journal.replace(" ", "")
