"""What the non-SQL output checks read: Kafka end offsets and lag, rows in files."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pandas as pd

from dagstorm.clients.kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from dagstorm.stack.endpoints import Stack

__all__ = ["file_rows", "kafka_lag", "kafka_messages", "topic_end"]


def _ends(consumer: KafkaConsumer, topic: str) -> dict[int, int]:
    partitions = consumer.partitions_for_topic(topic) or set()
    tps = [TopicPartition(topic, p) for p in sorted(partitions)]
    if not tps:
        return {}
    return {tp.partition: int(offset) for tp, offset in consumer.end_offsets(tps).items()}


def _consumer(stack: Stack) -> KafkaConsumer:
    return KafkaConsumer(
        bootstrap_servers=stack.kafka_bootstrap,
        enable_auto_commit=False,
        request_timeout_ms=10_000,
        client_id="dagstorm-output-check",
    )


def topic_end(stack: Stack, topic: str) -> int:
    """The sum of ``topic``'s end offsets (0 when it does not exist yet)."""
    consumer = _consumer(stack)
    try:
        return sum(_ends(consumer, topic).values())
    finally:
        consumer.close()


def kafka_messages(stack: Stack, topic: str, start_total: int) -> int:
    """Messages ``topic`` received since its end offsets summed to ``start_total``."""
    return topic_end(stack, topic) - start_total


def kafka_lag(stack: Stack, topic: str, group: str) -> int:
    """``group``'s lag on ``topic``: end offsets minus committed offsets, summed."""
    consumer = _consumer(stack)
    admin = KafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap, request_timeout_ms=10_000)
    try:
        ends = _ends(consumer, topic)
        committed = admin.list_group_offsets({group: None}).get(group, {})
    finally:
        consumer.close()
        admin.close()
    lag = 0
    for partition, end in ends.items():
        meta = committed.get(TopicPartition(topic, partition))
        lag += end - (meta.offset if meta is not None and meta.offset >= 0 else 0)
    return lag


def _read(path: Path, fmt: str) -> pd.DataFrame:
    if fmt == "parquet":
        return pd.read_parquet(path)
    if fmt == "csv":
        return pd.read_csv(path)
    with path.open() as lines:
        return pd.DataFrame([json.loads(line) for line in lines if line.strip()])


def file_rows(root: Path, glob: str, fmt: str, *, since: datetime) -> pd.DataFrame:
    """Rows of the ``fmt`` files under ``root`` matching ``glob``, modified since ``since``.

    Hidden files and markers (``_SUCCESS``, ``.crc``) are skipped.
    """
    frames = []
    cutoff = since.timestamp()
    for path in sorted(root.glob(glob)) if root.is_dir() else []:
        if not path.is_file() or path.name.startswith((".", "_")):
            continue
        if path.stat().st_mtime < cutoff:
            continue
        frames.append(_read(path, fmt))
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)
