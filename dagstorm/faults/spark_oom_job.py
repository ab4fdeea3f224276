"""A PySpark job that exhausts executor heap on purpose (the `spark executor_oom` fault).

All rows go to one key and `collect_list` gathers their ids into one array on one
executor: with a 512 MB executor heap the JVM dies with
``java.lang.OutOfMemoryError: Java heap space`` (exit code 52); Spark retries the
task on fresh executors until spark.task.maxFailures, then aborts the job.
Usage: spark-submit spark_oom_job.py [ROWS]
"""

import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

if __name__ == "__main__":
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 60_000_000
    # No appName here: spark-submit --name (dagstorm-oom-<fault id>) names the app.
    spark = SparkSession.builder.getOrCreate()
    frame = spark.range(0, rows, numPartitions=4).withColumn("k", F.lit(1))
    grouped = frame.groupBy("k").agg(F.collect_list("id").alias("ids"))
    print("size", grouped.select(F.size("ids")).collect(), flush=True)
    spark.stop()
