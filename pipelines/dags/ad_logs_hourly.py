"""ad_logs_hourly: one landing partition of ad logs → served hourly stats.

wait_for_partition (deferrable FileSensor on _SUCCESS) → validate (schema check,
quarantine, counts) → choose_spark_profile (branch on volume) →
aggregate_light | aggregate_heavy (spark-submit, pool spark_pool) →
load_serving (delete + insert the hour, one transaction) → check_serving.

The partition is ``params.partition_hour`` (YYYY-MM-DDTHH, UTC) when given,
otherwise the hour starting at ``data_interval_start``. docs/pipeline.md has the
landing contract, the serving schema and how to run it by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ad_pipeline import landing, serving
from ad_pipeline.alerts import on_deadline_missed, parse_time_sink_url
from ad_pipeline.defaults import default_args
from ad_pipeline.settings import (
    LANDING_FS_CONN_ID,
    PRIORITY_CRITICAL,
    PRIORITY_PIPELINE,
    SPARK_CONN_ID,
    SPARK_POOL,
)
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.providers.standard.operators.python import BranchPythonOperator, PythonOperator
from airflow.providers.standard.sensors.filesystem import FileSensor
from airflow.sdk import (
    DAG,
    CronDataIntervalTimetable,
    DeadlineAlert,
    DeadlineReference,
    Param,
    SyncCallback,
)

PARTITION = "{{ partition_hour(params, data_interval_start) }}"
PART_PATH = "{{ partition_path(partition_hour(params, data_interval_start)) }}"
WORK_DIR = "{{ var.value.ad_pipeline_work_dir }}"
JOBS_DIR = "{{ var.value.ad_pipeline_jobs_dir }}"
STAGING = f"{WORK_DIR}/staging/{PART_PATH}"
OUTPUT = f"{WORK_DIR}/output/{PART_PATH}"
#: Hour H must be served by H + 90 min (its run is due at H + 60 min), or the deadline
#: alert fires. Measured from the logical date (= the hour), not from queued_at: Airflow
#: 3.3.2 cannot clear a run that has a pending DAGRUN_QUEUED_AT deadline (HTTP 500 in
#: _recalculate_dagrun_queued_at_deadlines), and clearing is how a failed hour is rerun.
#: Manual runs without a logical date get no deadline.
DEADLINE = timedelta(minutes=90)

SPARK_PROFILES: dict[str, dict[str, str]] = {
    "light": {
        "spark.cores.max": "1",
        "spark.driver.memory": "512m",
        "spark.executor.memory": "512m",
        "spark.sql.shuffle.partitions": "2",
        "spark.default.parallelism": "2",
        # Small inputs: adaptive execution's extra planning jobs cost more than they save.
        "spark.sql.adaptive.enabled": "false",
    },
    "heavy": {
        "spark.cores.max": "1",
        "spark.driver.memory": "1g",
        "spark.executor.memory": "1g",
        "spark.sql.shuffle.partitions": "8",
        "spark.sql.files.maxPartitionBytes": "64m",
    },
}


def _choose(threshold: str, ti: Any) -> str:
    return landing.choose_profile(ti.xcom_pull(task_ids="validate"), int(threshold))


def _load(output_dir: str, run_id: str, ti: Any) -> dict[str, Any]:
    return serving.load_hourly(output_dir, ti.xcom_pull(task_ids="validate"), run_id)


with DAG(
    dag_id="ad_logs_hourly",
    description="Hourly ad-log partition → validated, aggregated, served",
    # Data intervals [H, H+1h), run at H+1h: Airflow 3's plain "@hourly" would be a
    # CronTriggerTimetable with an empty interval at the start of the hour.
    schedule=CronDataIntervalTimetable("0 * * * *", timezone="UTC"),
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=4,
    default_args=default_args(
        priority_weight=PRIORITY_PIPELINE, execution_timeout=timedelta(minutes=20)
    ),
    params={
        "partition_hour": Param(
            None,
            type=["null", "string"],
            pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}$",
            description="Partition to process (UTC hour); empty: the data interval's hour",
        ),
        "volume_threshold": Param(
            1_000_000, type="integer", minimum=1, description="Valid records for heavy Spark"
        ),
    },
    user_defined_macros={
        "partition_hour": landing.partition_hour,
        "partition_path": landing.partition_path,
    },
    deadline=DeadlineAlert(
        reference=DeadlineReference.DAGRUN_LOGICAL_DATE,
        interval=DEADLINE,
        callback=SyncCallback(
            on_deadline_missed,
            kwargs={
                "deadline_seconds": int(DEADLINE.total_seconds()),
                "sink_url": parse_time_sink_url(),
            },
        ),
    ),
    tags=["ad-pipeline", "hourly", "spark"],
    doc_md=__doc__,
) as dag:
    wait_for_partition = FileSensor(
        task_id="wait_for_partition",
        fs_conn_id=LANDING_FS_CONN_ID,
        filepath=f"{PART_PATH}/_SUCCESS",
        deferrable=True,
        poke_interval=5,
        timeout=int(timedelta(hours=2).total_seconds()),
        execution_timeout=timedelta(hours=3),
    )
    validate = PythonOperator(
        task_id="validate",
        python_callable=landing.validate_partition,
        op_kwargs={
            "landing_dir": "{{ var.value.ad_pipeline_landing_dir }}",
            "work_dir": WORK_DIR,
            "partition": PARTITION,
            "jobs_dir": JOBS_DIR,
        },
    )
    choose_spark_profile = BranchPythonOperator(
        task_id="choose_spark_profile",
        python_callable=_choose,
        op_kwargs={"threshold": "{{ params.volume_threshold }}"},
    )
    aggregate = [
        SparkSubmitOperator(
            task_id=f"aggregate_{profile}",
            conn_id=SPARK_CONN_ID,
            pool=SPARK_POOL,
            application=f"{JOBS_DIR}/aggregate_ad_logs.py",
            application_args=[
                "--input",
                STAGING,
                "--output",
                OUTPUT,
                "--partition-hour",
                PARTITION,
                "--run-id",
                "{{ run_id }}",
            ],
            conf=conf,
            name=f"ad_logs_hourly-{profile}-{PARTITION}",
            execution_timeout=timedelta(minutes=30),
        )
        for profile, conf in SPARK_PROFILES.items()
    ]
    load_serving = PythonOperator(
        task_id="load_serving",
        python_callable=_load,
        op_kwargs={"output_dir": OUTPUT, "run_id": "{{ run_id }}"},
        trigger_rule="none_failed_min_one_success",
        priority_weight=PRIORITY_CRITICAL,
    )
    check_serving = PythonOperator(
        task_id="check_serving",
        python_callable=serving.check_hourly,
        op_kwargs={"output_dir": OUTPUT, "run_id": "{{ run_id }}"},
        priority_weight=PRIORITY_CRITICAL,
    )

    wait_for_partition >> validate >> choose_spark_profile >> aggregate
    aggregate >> load_serving >> check_serving
