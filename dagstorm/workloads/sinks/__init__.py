"""Where generated ad logs go: the landing zone, and the ledger of what went there.

- :mod:`.landing`: hourly partitions of part files, each closed by ``_SUCCESS``;
- :mod:`.partition`: labelled batches → part files and ledger counts (shared by the
  local generator and the Spark backend's tasks);
- :mod:`.ledger`: the ground truth — exact counts of what was generated, written
  and acknowledged (also the Kafka workload's), and its readers;
- :mod:`.generator`: ``AdLogGenerator``, the event source written as a landing zone;
- :mod:`.pregenerate`: ``dagstorm generate`` — config, output checks, local backend.

The Kafka sink is :mod:`dagstorm.workloads.kafka`; the Spark backend of the
generator is :mod:`dagstorm.workloads.spark_backend`. Nothing is imported here.
"""
