"""Kafka topic end offsets and consumer-group lag, through the stack's bootstrap address."""

from __future__ import annotations

from typing import Any

from dagstorm.clients.kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from dagstorm.probes.base import Probe
from dagstorm.run.events import KafkaLag, KafkaOffsets


class KafkaLagProbe(Probe):
    """``kafka_offsets`` (per topic: end offset sum) and ``kafka_lag`` (per group) events."""

    name = "kafka"

    def __init__(
        self,
        *args: Any,
        bootstrap: str,
        topics: list[str],
        groups: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.bootstrap = bootstrap
        self.topics = topics
        self.groups = groups or []
        self._consumer: KafkaConsumer | None = None
        self._admin: KafkaAdminClient | None = None

    def _clients(self) -> tuple[KafkaConsumer, KafkaAdminClient]:
        if self._consumer is None:
            self._consumer = KafkaConsumer(
                bootstrap_servers=self.bootstrap,
                enable_auto_commit=False,
                request_timeout_ms=5000,
                client_id="dagstorm-probe",
            )
        if self._admin is None:
            self._admin = KafkaAdminClient(
                bootstrap_servers=self.bootstrap,
                request_timeout_ms=5000,
                client_id="dagstorm-probe",
            )
        return self._consumer, self._admin

    def end_offsets(self, topic: str) -> dict[int, int]:
        """Per-partition end offsets of ``topic`` (empty if it does not exist yet)."""
        consumer, _ = self._clients()
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return {}
        return {tp.partition: offset for tp, offset in consumer.end_offsets(tps).items()}

    def sample(self) -> None:
        """End offsets per topic, and lag per group over those topics."""
        ends: dict[str, dict[int, int]] = {}
        for topic in self.topics:
            ends[topic] = self.end_offsets(topic)
            self.journal.emit(
                KafkaOffsets(
                    topic=topic,
                    end_offset_total=sum(ends[topic].values()),
                    partitions=len(ends[topic]),
                )
            )
        _, admin = self._clients()
        for group in self.groups:
            committed = admin.list_group_offsets({group: None}).get(group, {})
            for topic in self.topics:
                lag = 0
                for partition, end in ends[topic].items():
                    meta = committed.get(TopicPartition(topic, partition))
                    lag += end - (meta.offset if meta is not None and meta.offset >= 0 else 0)
                self.journal.emit(KafkaLag(topic=topic, group=group, lag=lag))

    def teardown(self) -> None:
        """Close clients."""
        if self._consumer is not None:
            self._consumer.close()
        if self._admin is not None:
            self._admin.close()
