"""Names the DAGs share with dagstorm's deploy step (dagstorm/stack/deploy.py).

The deploy step creates every connection, pool and variable named here; the DAG
integrity test checks that the two lists agree.
"""

from __future__ import annotations

from datetime import timedelta

#: Spark standalone master (conn_type spark, host spark://HOST, port).
SPARK_CONN_ID = "spark_standalone"
#: The serving PostgreSQL database, through the serving-db Toxiproxy link.
SERVING_CONN_ID = "serving_db"
#: Kafka through the kafka Toxiproxy link (extra: librdkafka config of the sensor).
KAFKA_CONN_ID = "kafka_events"
#: Filesystem connection whose extra ``path`` is the landing zone.
LANDING_FS_CONN_ID = "landing_fs"

#: Pool of the Spark submissions, sized for the cluster's executor cores.
SPARK_POOL = "spark_pool"

#: Where callbacks post alerts (dagstorm's alert sink).
VAR_ALERT_SINK_URL = "dagstorm_alert_sink_url"
#: Directory of the PySpark jobs (pipelines/jobs).
VAR_JOBS_DIR = "ad_pipeline_jobs_dir"
#: Staging, quarantine and job output live below this directory.
VAR_WORK_DIR = "ad_pipeline_work_dir"
#: The landing zone the generator writes.
VAR_LANDING_DIR = "ad_pipeline_landing_dir"
#: Comma-separated jar paths of Spark's Kafka source (resolved at install time).
VAR_KAFKA_JARS = "spark_kafka_jars"
#: JSON {"dags": N, "tasks": M, "shape": "..."} read by scheduler_bench at parse time.
VAR_SCHEDULER_BENCH = "scheduler_bench"

#: Topic of the ad events and of the completion signals.
EVENTS_TOPIC = "ad_events"
CONTROL_TOPIC = "ad_events_control"
#: Consumer group of the signal sensor (offsets committed by the ack task).
SIGNAL_GROUP = "ad_events_stream"

#: Retry policy of every task: 5 s, then x2 per try (with jitter), at most 60 s.
RETRIES = 3
RETRY_DELAY = timedelta(seconds=5)
RETRY_BACKOFF = 2.0
MAX_RETRY_DELAY = timedelta(seconds=60)

#: Priority weights (absolute): business-critical loads beat experimental jobs.
PRIORITY_CRITICAL = 100
PRIORITY_PIPELINE = 50
PRIORITY_EXPERIMENTAL = 1

#: Variables every DAG template may read (deploy sets them all).
VARIABLES = (
    VAR_ALERT_SINK_URL,
    VAR_JOBS_DIR,
    VAR_WORK_DIR,
    VAR_LANDING_DIR,
    VAR_KAFKA_JARS,
    VAR_SCHEDULER_BENCH,
)
