"""The ``kafka_burst`` workload: ad events produced to Kafka, with exact ground truth.

- :mod:`.burst`: the :class:`~dagstorm.workloads.base.Workload` (generate, send, account);
- :mod:`.record_sender`: events handed to the producer as record batches, within the
  in-flight bound (the ``written`` count, send errors, a producer made anew);
- :mod:`.config`: ``KafkaBurstConfig`` (pydantic, light to import);
- :mod:`.messages`: events → JSON messages keyed by campaign, and their partitions;
- :mod:`.records`, :mod:`.record_batch`: record batches built from columns, and the
  batch object kafka-python's sender sends;
- :mod:`.producer`: kafka-python's producer, handed whole record batches;
- :mod:`.delivery`, :mod:`.retries`, :mod:`.stats`: which records were acknowledged,
  re-sent, and the per-interval ``workload_stats``;
- :mod:`.signal`, :mod:`.signal_sender`: completion signals (acked offset ranges) and
  their way to the control topic (cut ledgers, re-sends).

Nothing is imported here (kafka-python prints warnings at import).
"""
