"""Chunk encoding: positions as given, and the same records from a worker process."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import psutil
import pytest

from dagstorm.workloads.kafka.config import KafkaBurstConfig
from dagstorm.workloads.kafka.encode_pool import Encoded, EncodePool, encode_chunk
from dagstorm.workloads.kafka.messages import MessageEncoder
from dagstorm.workloads.kafka.record_batch import PrebuiltRecords
from dagstorm.workloads.model.events import EventColumns
from dagstorm.workloads.source import EventSource

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka.record.default_records import DefaultRecordBatch

PARTITIONS = 5


def _source_events(n: int) -> tuple[EventSource, EventColumns]:
    source = EventSource(KafkaBurstConfig.model_validate({"seed": 11, "rate": "50k events/s"}))
    parts: list[EventColumns] = []
    for _window, events in source.batches(60.0):
        parts.append(events)
        if sum(len(p) for p in parts) >= n:
            break
    return source, EventColumns.concat(parts).take(np.arange(n))


def _decoded(encoded: Encoded) -> dict[int, tuple[int, bytes | None, bytes | None]]:
    """Position in the chunk → (partition, key, value), from the batches' own bytes."""
    out: dict[int, tuple[int, bytes | None, bytes | None]] = {}
    for batch in encoded.batches:
        batch.records.close()
        records = list(DefaultRecordBatch(bytes(batch.records.buffer())))
        assert len(records) == len(batch.index)
        for position, record in zip(batch.index.tolist(), records, strict=True):
            assert position not in out
            out[position] = (batch.partition, record.key, record.value)
    return out


@pytest.mark.parametrize("codec", ["lz4", "none"])
def test_batches_name_each_record_by_its_position_in_the_chunk_as_given(codec: str) -> None:
    source, events = _source_events(5000)
    encoder = MessageEncoder(source.model.catalog, PARTITIONS)
    encoded = encode_chunk(encoder, events, batch_size=64 * 1024, codec=codec)
    decoded = _decoded(encoded)
    assert sorted(decoded) == list(range(len(events)))  # every record once
    values, lengths = encoder.values(events)  # one by one, in the chunk's own order
    assert encoded.value_lengths.tolist() == lengths.tolist()
    assert np.array_equal(encoded.partition, encoder.partitions(events))
    for position, (partition, _key, value) in decoded.items():
        assert value == values[position]
        assert partition == encoded.partition[position]
    assert len(encoded.batches) > PARTITIONS  # cut at 64 KiB, not one batch a partition


def test_a_worker_process_encodes_the_same_records_in_order() -> None:
    source, events = _source_events(20_000)
    encoder = MessageEncoder(source.model.catalog, PARTITIONS)
    chunks = [events.take(np.arange(lo, lo + 4000)) for lo in range(0, 20_000, 4000)]
    pool = EncodePool(
        source.model.catalog, PARTITIONS, workers=2, batch_size=256 * 1024, codec="lz4"
    )
    try:
        futures = [pool.submit(chunk) for chunk in chunks]
        from_pool = [f.result(timeout=60) for f in futures]
    finally:
        pool.close()
    for chunk, remote in zip(chunks, from_pool, strict=True):
        here = encode_chunk(encoder, chunk, batch_size=256 * 1024, codec="lz4")
        assert _decoded(remote) == _decoded(here)
        assert remote.value_bytes == here.value_bytes
    assert pool.depth == 4


@pytest.mark.parametrize("codec", ["lz4", "none"])
def test_a_prebuilt_batch_survives_pickling_before_it_is_closed(codec: str) -> None:
    section = memoryview(b"x" * 5000)
    records = PrebuiltRecords(section, 3, codec=codec, timestamp_ms=1234)
    copy = pickle.loads(pickle.dumps(records))
    records.close()
    copy.close()
    assert bytes(copy.buffer()) == bytes(records.buffer())
    assert copy.size_in_bytes() == records.size_in_bytes()


def test_a_pool_needs_a_worker() -> None:
    source, _ = _source_events(10)
    with pytest.raises(ValueError, match="at least one worker"):
        EncodePool(source.model.catalog, 1, workers=0, batch_size=1024, codec="none")


def test_a_worker_exits_when_its_parent_is_killed(tmp_path: Path) -> None:
    """``kill -9`` of the sending process leaves no encoding worker behind."""
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(
            """
            import time
            from dagstorm.workloads.kafka.config import KafkaBurstConfig
            from dagstorm.workloads.kafka.encode_pool import EncodePool
            from dagstorm.workloads.source import EventSource

            if __name__ == "__main__":
                config = KafkaBurstConfig.model_validate({"seed": 1, "rate": "1k events/s"})
                catalog = EventSource(config).model.catalog
                pool = EncodePool(catalog, 3, workers=1, batch_size=4096, codec="none")
                print("ready", flush=True)
                time.sleep(120)
            """
        ),
        encoding="utf-8",
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        assert parent.stdout.readline().strip() == "ready"
        children = psutil.Process(parent.pid).children(recursive=True)
        assert children  # the worker (and multiprocessing's resource tracker)
    finally:
        parent.kill()
        parent.wait(10)
    deadline = time.monotonic() + 20
    for child in children:
        while _alive(child):
            assert time.monotonic() < deadline, f"{child.pid} outlived its parent"
            time.sleep(0.1)


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
