"""Kafka output checks (`kind: kafka`) against the real broker, counted two ways.

A pipeline profile's Kafka check counts the messages a topic received during the
run (end offsets at the end minus at the start) or a consumer group's lag. Here a
fresh 3-partition topic gets 250 keyed messages; ``kafka_messages`` must say 250,
and so must a consumer that reads the topic from the beginning (the records
themselves, not the offsets). A group then consumes what one poll gives it and
commits; ``kafka_lag`` must be 250 minus what that group actually received.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from kafka.admin import NewTopic

from dagstorm.clients.kafka import (
    KafkaAdminClient,
    KafkaConsumer,
    KafkaProducer,
)
from dagstorm.engine.output.output_sources import kafka_lag, kafka_messages, topic_end
from dagstorm.stack.endpoints import Stack
from tests.integration.helpers import read_topic

pytestmark = [pytest.mark.integration]

MESSAGES = 250


@pytest.fixture
def topic(stack: Stack) -> Iterator[str]:
    """A fresh 3-partition topic, deleted afterwards."""
    name = f"dagstorm-check-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap, request_timeout_ms=30_000)
    try:
        admin.create_topics([NewTopic(name, 3, 1)])
        yield name
    finally:
        admin.delete_topics([name])
        admin.close()


def _produce(stack: Stack, topic: str, count: int) -> None:
    producer = KafkaProducer(bootstrap_servers=stack.kafka_bootstrap, acks="all")
    try:
        for n in range(count):
            producer.send(topic, key=f"k{n % 7}".encode(), value=f"event-{n}".encode())
        producer.flush(timeout=30)
    finally:
        producer.close()


def test_messages_and_lag_agree_with_the_records_themselves(stack: Stack, topic: str) -> None:
    start_total = topic_end(stack, topic)
    assert start_total == 0
    _produce(stack, topic, MESSAGES)

    assert kafka_messages(stack, topic, start_total) == MESSAGES
    values = [value for _, _, value, _ in read_topic(stack, topic)]
    assert len(values) == len(set(values)) == MESSAGES

    # A group that received part of the topic and committed: lag = what it did not get.
    group = f"dagstorm-check-group-{uuid.uuid4().hex[:6]}"
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=stack.kafka_bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=100,
    )
    try:
        received = 0
        deadline = time.monotonic() + 30
        while received == 0:  # the group's first poll may come back empty (assignment)
            assert time.monotonic() < deadline, "the group received nothing within 30 s"
            received = sum(len(r) for r in consumer.poll(timeout_ms=1000).values())
        consumer.commit()
    finally:
        consumer.close()
    assert 0 < received <= 100
    assert kafka_lag(stack, topic, group) == MESSAGES - received
    print(f"kafka checks: {MESSAGES} messages; the group got {received}, lag {MESSAGES - received}")
