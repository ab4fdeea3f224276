"""The fleet's DAG factory: every DAG of fleet.yaml but ingest_raw_events (its own file).

Builds the shared upstreams ``ingest_campaigns`` and ``ingest_spend`` and the
downstream families (fleet_config.py reads the config). Each downstream DAG is
``[wait_for_<upstream>] → extract → transform → publish``: the sensor only in the
``sensor`` families, ``transform`` in the fleet's small pool, every task with its
tier's priority weight (``weight_rule=absolute``, so the pool's queue is ordered by
tier, not by how many tasks follow). Tasks are cheap (EmptyOperator, ``sleep 1``,
a one-line Python callable): 55 DAGs fit on a 2-core box. One file, one config
read: the whole fleet parses in well under a second.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.providers.standard.sensors.external_task import ExternalTaskSensor
from airflow.sdk import DAG, Asset
from fleet_config import Fleet, FleetDag, Upstream, load_fleet

#: The upstream defined in a file of its own (the one a deploy_dag fault replaces).
OWN_FILE = "ingest_raw_events"


def _rows(ti: Any) -> int:
    """A stand-in for real work: a number the next task could read."""
    return len(ti.task_id) * 1000


def _defaults(fleet: Fleet, tier: str) -> dict[str, Any]:
    return {
        "owner": "ads-data",
        "retries": 2,
        "retry_delay": timedelta(seconds=10),
        "execution_timeout": timedelta(minutes=5),
        "priority_weight": fleet.priority[tier],
        "weight_rule": "absolute",
    }


def upstream_dag(fleet: Fleet, upstream: Upstream) -> DAG:
    """A shared upstream: extract → land → publish (emits its asset)."""
    with DAG(
        dag_id=upstream.dag_id,
        description=f"shared upstream of the fleet ({upstream.tier}); emits asset {upstream.asset}",
        schedule=fleet.schedule,
        start_date=fleet.start_date,
        catchup=False,
        max_active_runs=3,
        default_args=_defaults(fleet, upstream.tier),
        tags=["fleet", "upstream", upstream.tier],
    ) as dag:
        extract = BashOperator(task_id="extract", bash_command="sleep 1")
        land = PythonOperator(task_id="land", python_callable=_rows)
        publish = EmptyOperator(task_id="publish", outlets=[Asset(upstream.asset)])
        extract >> land >> publish
    return dag


def _schedule(fleet: Fleet, spec: FleetDag) -> Any:
    if spec.via == "sensor":
        return fleet.schedule  # same cron as the upstream: the sensor matches logical dates
    if spec.via == "asset":
        return [Asset(fleet.upstream(spec.upstream).asset)]
    return None  # triggered by the upstream's TriggerDagRunOperator


def downstream_dag(fleet: Fleet, spec: FleetDag) -> DAG:
    """A downstream DAG of a family: [wait_for_<upstream>] → extract → transform → publish."""
    with DAG(
        dag_id=spec.dag_id,
        description=f"{spec.family} ({spec.tier}): after {spec.upstream}, by {spec.via}",
        schedule=_schedule(fleet, spec),
        start_date=fleet.start_date,
        catchup=False,
        max_active_runs=2,
        default_args=_defaults(fleet, spec.tier),
        tags=["fleet", spec.family, spec.tier, f"via_{spec.via}"],
    ) as dag:
        extract = PythonOperator(task_id="extract", python_callable=_rows)
        transform = BashOperator(task_id="transform", bash_command="sleep 1", pool=fleet.pool)
        publish = EmptyOperator(task_id="publish")
        if spec.via == "sensor":
            wait = ExternalTaskSensor(
                task_id=f"wait_for_{spec.upstream}",
                external_dag_id=spec.upstream,
                external_task_id=None,  # the whole run: success of the upstream's run
                allowed_states=["success"],
                failed_states=["failed"],
                mode="reschedule",
                poke_interval=fleet.poke_interval,
                timeout=fleet.sensor_timeout,
                retries=0,
            )
            wait >> extract
        extract >> transform >> publish
    return dag


def build(fleet: Fleet) -> dict[str, DAG]:
    """Every DAG this file defines, by id."""
    dags = {u.dag_id: upstream_dag(fleet, u) for u in fleet.upstreams if u.dag_id != OWN_FILE}
    dags.update({d.dag_id: downstream_dag(fleet, d) for d in fleet.dags})
    return dags


globals().update(build(load_fleet()))
