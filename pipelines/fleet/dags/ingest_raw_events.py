"""ingest_raw_events (v1): the fleet's shared upstream, in a file of its own.

The raw ad events every report, attribution and feature DAG depends on:
extract → land → publish (emits the asset ``fleet_raw_events``) → one
TriggerDagRunOperator per DAG of the ``trigger`` families (fleet.yaml). A file
of its own so that a ``deploy_dag`` fault replaces this DAG alone: its v2 is
pipelines/fleet/v2/ingest_raw_events.py (not deployed; the fault writes it here).
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
VERSION = "v1"


def _land(ti: Any) -> int:
    """A stand-in for landing a batch of raw events."""
    return len(ti.run_id)


fleet = load_fleet()
upstream = fleet.upstream(DAG_ID)

with DAG(
    dag_id=DAG_ID,
    description=f"shared upstream of the fleet ({VERSION}): raw ad events",
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
    land = PythonOperator(task_id="land", python_callable=_land)
    publish = EmptyOperator(task_id="publish", outlets=[Asset(upstream.asset)])
    extract >> land >> publish
    for downstream in fleet.downstream_of(DAG_ID, "trigger"):
        publish >> TriggerDagRunOperator(
            task_id=f"trigger_{downstream.dag_id}",
            trigger_dag_id=downstream.dag_id,
            conf={"upstream_run_id": "{{ run_id }}"},
            wait_for_completion=False,
        )
