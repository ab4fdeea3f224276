"""The Spark backend of the ad-log generator: the same model and seeds, on a cluster.

Work is cut into (partition hour, chunk) tasks, each a run of consecutive batch
windows (:mod:`plan`). A task needs the clicks and conversions that earlier
windows left due in its own (the funnel crosses batches), so a job has two stages
(:mod:`tasks`): every task first replays its windows' model to emit what it leaves
due later (a small shuffle, ~0.5% of the rows), then regenerates its windows with
those events pending and writes its part files straight into the landing zone.
The driver (:mod:`commit`) writes each partition's ``_SUCCESS`` once all its parts
exist, and the ledger exactly as the local generator does.

- :mod:`plan`: windows → chunk tasks, and where a late-arriving event lands;
- :mod:`tasks`: the two stages, pure Python (no pyspark), also run in-process;
- :mod:`commit`: markers and ledger on the driver; :mod:`inprocess` runs a plan without Spark;
- :mod:`job`: the PySpark program spark-submit runs; :mod:`submit` builds and runs that.

Nothing is imported here: importing :mod:`plan` does not pull pyspark.
"""
