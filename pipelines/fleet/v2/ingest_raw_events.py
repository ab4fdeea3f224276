"""ingest_raw_events (v2): the fleet's shared upstream, the version a deploy rolls out.

Not deployed with the fleet: a ``deploy_dag`` fault writes it over v1
(pipelines/fleet/dags/ingest_raw_events.py) mid-run, and its revert puts v1
back. Same dag_id, asset and triggers as v1, so every downstream DAG keeps
working; what changes is a schema check and a dedupe step before ``land``
(``sleep 3``): each run takes a few seconds longer, and the delay propagates to
every DAG that waits on this one — what the cross-DAG waits measure shows.
Lives next to v1 once deployed, so it imports fleet_config the same way.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import DAG, Asset
from fleet_config import load_fleet

DAG_ID = "ingest_raw_events"
VERSION = "v2"


def _land(ti: Any) -> int:
    """A stand-in for landing a batch of raw events."""
    return len(ti.run_id)


fleet = load_fleet()
upstream = fleet.upstream(DAG_ID)

with DAG(
    dag_id=DAG_ID,
    description=f"shared upstream of the fleet ({VERSION}): raw ad events, schema-checked, deduped",
    schedule=fleet.schedule,
    start_date=fleet.start_date,
    catchup=False,
    max_active_runs=3,
    default_args={
        "owner": "ads-data",
        "retries": 2,
        "retry_delay": timedelta(seconds=10),
        "execution_timeout": timedelta(minutes=5),
        "priority_weight": fleet.priority[upstream.tier],
        "weight_rule": "absolute",
    },
    tags=["fleet", "upstream", upstream.tier, VERSION],
) as dag:
    extract = BashOperator(task_id="extract", bash_command="sleep 1")
    check_schema = EmptyOperator(task_id="check_schema")
    dedupe = BashOperator(task_id="dedupe", bash_command="sleep 3")
    land = PythonOperator(task_id="land", python_callable=_land)
    publish = EmptyOperator(task_id="publish", outlets=[Asset(upstream.asset)])
    extract >> check_schema >> dedupe >> land >> publish
    for downstream in fleet.downstream_of(DAG_ID, "trigger"):
        publish >> TriggerDagRunOperator(
            task_id=f"trigger_{downstream.dag_id}",
            trigger_dag_id=downstream.dag_id,
            conf={"upstream_run_id": "{{ run_id }}"},
            wait_for_completion=False,
        )
