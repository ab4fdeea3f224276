"""A tiny PySpark job: proves the master schedules work on a worker's executor.

Run by `dagstorm stack check` through spark-submit; prints one line
``dagstorm-smoke rows=<n> sum=<s>`` that the check parses.
"""

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

if __name__ == "__main__":
    spark = SparkSession.builder.appName("dagstorm-smoke").getOrCreate()
    frame = spark.range(0, 100_000, numPartitions=4)
    row = frame.agg(F.count("id").alias("n"), F.sum("id").alias("s")).collect()[0]
    print(f"dagstorm-smoke rows={row['n']} sum={row['s']}", flush=True)
    spark.stop()
