"""Helpers several integration tests share: the pipeline's tools, waits, a SIGKILLed fault,
a Kafka topic read back."""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from dagstorm.clients.kafka import KafkaConsumer, TopicPartition
from dagstorm.faults.journal import FaultJournal
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.endpoints import Stack

TOOLS = Path(__file__).resolve().parents[2] / "pipelines" / "tools"


def tool(name: str) -> ModuleType:
    """A module of pipelines/tools, imported by path (once)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def wait_for(what: str, check: Any, timeout: float) -> Any:
    """``check()``'s first truthy answer, asked every second; AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(1.0)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def dagstorm_command(ctx: StackContext, *args: str) -> list[str]:
    """``python -m dagstorm --state-dir <the stack's> ARGS…``."""
    return [sys.executable, "-m", "dagstorm", "--state-dir", str(ctx.layout.root), *args]


def inject_then_sigkill(
    ctx: StackContext,
    journal: FaultJournal,
    spec: list[str],
    *,
    ready: Callable[[dict[str, Any]], bool] | None = None,
) -> dict[str, Any]:
    """`dagstorm fault inject SPEC` in a child, SIGKILLed once its fault is verified.

    With ``ready``, the kill waits (≤ 300 s) until ``ready(verified entry)`` also
    holds: e.g. until the fault reached every process it is meant to (a fault that
    keeps acting on new targets while it holds acts on none after the kill).
    Returns the fault journal's ``verified`` entry: the fault is left applied and
    orphaned, for `recover` to find.
    """
    child = subprocess.Popen(
        dagstorm_command(ctx, "-q", "fault", "inject", *spec, "--duration", "10m"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def verified() -> dict[str, Any] | None:
            assert child.poll() is None, f"`dagstorm fault inject` exited ({child.returncode})"
            return next(
                (
                    e
                    for e in journal.entries()
                    if e.get("event") == "verified" and e.get("pid") == child.pid
                ),
                None,
            )

        applied: dict[str, Any] = wait_for("the fault applied", verified, 300)
        if ready is not None:
            wait_for("the fault ready to be orphaned", lambda: ready(applied), 300)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    return applied


def read_topic(stack: Stack, topic: str) -> list[tuple[int, int, bytes, bytes]]:
    """(partition, offset, value, key) of every record in ``topic``, read from the start.

    Bounded: 120 s; a topic not read to its end offsets by then comes back short.
    """
    consumer = KafkaConsumer(bootstrap_servers=stack.kafka_bootstrap, enable_auto_commit=False)
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        out: list[tuple[int, int, bytes, bytes]] = []
        deadline = time.monotonic() + 120
        while any(consumer.position(p) < ends[p] for p in parts) and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=1000).items():
                out.extend((tp.partition, r.offset, r.value, r.key) for r in records)
        return out
    finally:
        consumer.close()
