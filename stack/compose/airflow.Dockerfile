# Airflow image of the dagstorm compose stack (see docker-compose.yml at the repo root).
#
# The pinned Airflow image plus:
#   - the two providers the reference pipeline uses and the Celery provider (the
#     CeleryExecutor of the `celery` profile), pinned as in stack/airflow/requirements.txt;
#   - the Spark distribution and Java runtime of the pinned Spark image, because the
#     Spark provider installs only pyspark-client (no spark-submit) and
#     SparkSubmitOperator needs spark-submit on PATH with a JVM.
#
# The same image also runs the Spark *worker*: PySpark refuses to run when the
# executors' Python minor version differs from the driver's. The driver runs in this
# image (LocalExecutor: in the scheduler container; CeleryExecutor: in the worker
# containers) on Python 3.11 (the providers require >= 3.11), while the apache/spark
# image ships Ubuntu 22.04's Python 3.10. Running the worker from this image gives
# driver and executors the same Python and the same Spark build.
#
# Keep the Spark tag equal to the one of spark-master/spark-history in
# docker-compose.yml (tests/unit/test_compose.py checks it).

FROM apache/spark:4.0.1-scala2.13-java17-ubuntu AS spark

FROM apache/airflow:3.3.2-python3.11

USER root

COPY --from=spark /opt/java/openjdk /opt/java/openjdk
COPY --from=spark /opt/spark /opt/spark

# Event logs (shared with the history server through a volume), the worker's work
# directory, and the Spark defaults every driver started here picks up.
RUN set -eux; \
    mkdir -p /opt/spark-events /opt/spark-work /opt/spark/conf; \
    printf '%s\n' \
        'spark.eventLog.enabled  true' \
        'spark.eventLog.dir      file:/opt/spark-events' \
        'spark.ui.showConsoleProgress false' \
        > /opt/spark/conf/spark-defaults.conf; \
    chown -R airflow:0 /opt/spark-events /opt/spark-work; \
    chmod 2775 /opt/spark-events /opt/spark-work

ENV JAVA_HOME=/opt/java/openjdk \
    SPARK_HOME=/opt/spark \
    PYSPARK_PYTHON=python3 \
    PATH="${PATH}:/opt/spark/bin:/opt/java/openjdk/bin"

USER airflow

# Pinning apache-airflow to the image's version keeps pip from moving Airflow itself.
RUN pip install --no-cache-dir \
        "apache-airflow==3.3.2" \
        "apache-airflow-providers-apache-spark==6.3.4" \
        "apache-airflow-providers-apache-kafka==2.1.0" \
        "apache-airflow-providers-celery==3.26.0" \
        "celery[redis]==5.6.3"
