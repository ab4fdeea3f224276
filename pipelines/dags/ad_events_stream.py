"""ad_events_stream: a completion signal on Kafka → that topic range, served.

wait_for_signal (apache-kafka AwaitMessageSensor on ad_events_control, deferred
in the triggerer, offset not committed) → route_signal (branch) →
aggregate_events (spark-submit, Kafka source, pool spark_pool) → load_events
(delete + insert the batch, one transaction) → check_events → ack_signal
(commits the signal's offset). A signal whose signal_id is already loaded goes
to skip_duplicate, an invalid one to reject_signal (alert); both are acked.

Runs continuously (one run at a time): each run waits for the next signal.
Signal format and serving tables: docs/pipeline.md.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ad_pipeline import serving, signals
from ad_pipeline.alerts import notice
from ad_pipeline.defaults import default_args
from ad_pipeline.settings import (
    CONTROL_TOPIC,
    EVENTS_TOPIC,
    KAFKA_CONN_ID,
    PRIORITY_CRITICAL,
    PRIORITY_PIPELINE,
    SPARK_CONN_ID,
    SPARK_POOL,
)
from airflow.providers.apache.kafka.sensors.kafka import AwaitMessageSensor
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import BranchPythonOperator, PythonOperator
from airflow.sdk import DAG

WORK_DIR = "{{ var.value.ad_pipeline_work_dir }}"
SIGNAL_ID = "{{ ti.xcom_pull(task_ids='route_signal', key='signal')['signal_id'] }}"
OUTPUT = f"{WORK_DIR}/output/ad_events/signal={SIGNAL_ID}"
SPARK_CONF = {
    "spark.cores.max": "1",
    "spark.driver.memory": "512m",
    "spark.executor.memory": "512m",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    # Batches are small: adaptive execution's extra planning jobs cost more than they save.
    "spark.sql.adaptive.enabled": "false",
}


def _route(ti: Any) -> str:
    return signals.route_signal(ti.xcom_pull(task_ids="wait_for_signal"), ti, serving.batch_loaded)


def _reject(ti: Any, **context: Any) -> None:
    reason = ti.xcom_pull(task_ids="route_signal", key="rejection")
    notice("signal_rejected", {"ti": ti, **context}, reason=reason)


def _ack(ti: Any) -> dict[str, Any]:
    return signals.ack_signal(ti.xcom_pull(task_ids="wait_for_signal"), CONTROL_TOPIC)


with DAG(
    dag_id="ad_events_stream",
    description="Kafka completion signal → ad_events range aggregated and served",
    schedule="@continuous",
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(
        priority_weight=PRIORITY_PIPELINE, execution_timeout=timedelta(minutes=20)
    ),
    tags=["ad-pipeline", "kafka", "spark"],
    doc_md=__doc__,
) as dag:
    wait_for_signal = AwaitMessageSensor(
        task_id="wait_for_signal",
        kafka_config_id=KAFKA_CONN_ID,
        topics=[CONTROL_TOPIC],
        apply_function=None,  # the message's text is the event: nothing to import
        commit_offset=False,  # ack_signal commits once the batch is handled
        poll_timeout=1,
        poll_interval=1,
        # No soft_fail: it would turn a broken trigger (say a missing connection) into
        # a skipped run, and the continuous schedule into a silent busy loop.
        timeout=int(timedelta(hours=24).total_seconds()),
        execution_timeout=timedelta(hours=25),
    )
    route_signal = BranchPythonOperator(task_id="route_signal", python_callable=_route)
    aggregate_events = SparkSubmitOperator(
        task_id="aggregate_events",
        conn_id=SPARK_CONN_ID,
        pool=SPARK_POOL,
        application="{{ var.value.ad_pipeline_jobs_dir }}/aggregate_ad_events.py",
        jars="{{ var.value.spark_kafka_jars }}",
        application_args=[
            "--bootstrap",
            "{{ conn.kafka_events.extra_dejson['bootstrap.servers'] }}",
            "--topic",
            EVENTS_TOPIC,
            "--ranges",
            "{{ ti.xcom_pull(task_ids='route_signal', key='ranges_json') }}",
            "--output",
            OUTPUT,
            "--signal-id",
            SIGNAL_ID,
            "--run-id",
            "{{ run_id }}",
        ],
        conf=SPARK_CONF,
        name=f"ad_events_stream-{SIGNAL_ID}",
        execution_timeout=timedelta(minutes=30),
    )
    load_events = PythonOperator(
        task_id="load_events",
        python_callable=serving.load_events,
        op_kwargs={"output_dir": OUTPUT, "run_id": "{{ run_id }}"},
        priority_weight=PRIORITY_CRITICAL,
    )
    check_events = PythonOperator(
        task_id="check_events",
        python_callable=serving.check_events,
        op_kwargs={"output_dir": OUTPUT, "run_id": "{{ run_id }}"},
        priority_weight=PRIORITY_CRITICAL,
    )
    skip_duplicate = EmptyOperator(task_id="skip_duplicate")
    reject_signal = PythonOperator(task_id="reject_signal", python_callable=_reject)
    ack_signal = PythonOperator(
        task_id="ack_signal",
        python_callable=_ack,
        trigger_rule="none_failed_min_one_success",
        priority_weight=PRIORITY_CRITICAL,
    )

    wait_for_signal >> route_signal >> [aggregate_events, skip_duplicate, reject_signal]
    aggregate_events >> load_events >> check_events >> ack_signal
    [skip_duplicate, reject_signal] >> ack_signal
