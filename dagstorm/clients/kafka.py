"""kafka-python, imported once with its import-time DeprecationWarnings silenced.

kafka-python 3.x emits ~200 DeprecationWarnings (importlib.resources) when
imported; everything in dagstorm imports Kafka classes from here instead.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.errors import KafkaError, KafkaTimeoutError

__all__ = [
    "KafkaAdminClient",
    "KafkaConsumer",
    "KafkaError",
    "KafkaProducer",
    "KafkaTimeoutError",
    "TopicPartition",
]
