"""Completion signals on the control topic: parse, route, acknowledge.

A signal (JSON, one Kafka message on ``ad_events_control``) names a range of
the ``ad_events`` topic that a producer has finished writing::

    {"signal_id": "burst-42", "topic": "ad_events",
     "ranges": {"0": [0, 5000], "1": [0, 4980]},   # partition -> [start, end)
     "records": 9980}                              # optional: must equal the ranges' sum

The sensor does not commit the signal's offset; ``ack_signal`` does, once the
batch is loaded (or known to be a duplicate, or rejected), so a failed run
leaves the signal to be read again: at-least-once delivery, and the load is
idempotent by ``signal_id``, so a repeated signal never double-counts.
"""

# ruff: noqa: PLC0415 - heavy or Airflow-runtime imports stay inside functions: DAG files parse fast

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from ad_pipeline.settings import EVENTS_TOPIC, KAFKA_CONN_ID

log = logging.getLogger(__name__)

SIGNAL_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
#: Seconds the ack task waits for the control topic's next message.
ACK_POLL_SECONDS = 15.0


class BadSignal(ValueError):
    """The message on the control topic is not a valid signal."""


def parse_signal(raw: Any) -> dict[str, Any]:
    """Decode and check one signal; raises BadSignal with the reason."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise BadSignal("not JSON") from None
    if not isinstance(raw, dict):
        raise BadSignal("not a JSON object")
    signal_id = raw.get("signal_id")
    if not isinstance(signal_id, str) or not SIGNAL_ID.match(signal_id):
        raise BadSignal("signal_id must be 1-128 characters of [A-Za-z0-9._:-]")
    topic = raw.get("topic", EVENTS_TOPIC)
    if topic != EVENTS_TOPIC:
        raise BadSignal(f"topic must be {EVENTS_TOPIC!r}, got {topic!r}")
    ranges = raw.get("ranges")
    if not isinstance(ranges, dict) or not ranges:
        raise BadSignal('ranges must be a non-empty object {"<partition>": [start, end]}')
    checked: dict[str, list[int]] = {}
    for partition, bounds in ranges.items():
        if not str(partition).isdigit():
            raise BadSignal(f"partition {partition!r} is not a number")
        if (
            not isinstance(bounds, list)
            or len(bounds) != 2
            or not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds)
            or not 0 <= bounds[0] <= bounds[1]
        ):
            raise BadSignal(
                f"range of partition {partition} must be [start, end], 0 <= start <= end"
            )
        checked[str(int(partition))] = [bounds[0], bounds[1]]
    total = sum(end - start for start, end in checked.values())
    declared = raw.get("records")
    if declared is not None and declared != total:
        raise BadSignal(f"records says {declared}, the ranges hold {total}")
    if total == 0:
        raise BadSignal("the ranges are empty")
    return {"signal_id": signal_id, "topic": topic, "ranges": checked, "records": total}


def route_signal(raw: Any, ti: Any, already_loaded: Any) -> str:
    """Branch: ``aggregate_events`` (new), ``skip_duplicate`` or ``reject_signal``."""
    try:
        signal = parse_signal(raw)
    except BadSignal as exc:
        log.warning("rejecting signal: %s", exc)
        ti.xcom_push(key="rejection", value=str(exc))
        return "reject_signal"
    ti.xcom_push(key="signal", value=signal)
    ti.xcom_push(key="ranges_json", value=json.dumps(signal["ranges"], sort_keys=True))
    if already_loaded(signal["signal_id"]):
        log.info("signal %s is already loaded: not counting it twice", signal["signal_id"])
        return "skip_duplicate"
    return "aggregate_events"


def _consumer_config() -> dict[str, Any]:
    from airflow.sdk import Connection

    extra = dict(Connection.get(KAFKA_CONN_ID).extra_dejson)
    extra["enable.auto.commit"] = False
    return extra


def ack_signal(raw: Any, topic: str) -> dict[str, Any]:
    """Commit the group's offset past the signal this run handled."""
    from confluent_kafka import Consumer, TopicPartition

    expected = raw.encode() if isinstance(raw, str) else raw
    consumer = Consumer(_consumer_config())
    try:
        meta = consumer.list_topics(topic, timeout=10)
        partitions = sorted(meta.topics[topic].partitions)
        committed = consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
        for tp in committed:
            offset = tp.offset
            if offset < 0:  # nothing committed yet: the sensor read from the start
                offset = consumer.get_watermark_offsets(
                    TopicPartition(topic, tp.partition), timeout=10
                )[0]
            consumer.assign([TopicPartition(topic, tp.partition, offset)])
            deadline = time.monotonic() + ACK_POLL_SECONDS
            message = None
            while time.monotonic() < deadline:
                message = consumer.poll(1.0)
                if message is not None and not message.error():
                    break
                message = None
            if message is not None and message.value() == expected:
                consumer.commit(
                    offsets=[TopicPartition(topic, tp.partition, message.offset() + 1)],
                    asynchronous=False,
                )
                return {"partition": tp.partition, "committed": message.offset() + 1}
    finally:
        consumer.close()
    log.warning("the signal is not the next message of any partition: already acknowledged?")
    return {"partition": None, "committed": None}
