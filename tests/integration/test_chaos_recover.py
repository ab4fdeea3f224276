"""Chaos test of dagstorm itself: SIGKILL it at random moments while faults are active.

After each kill, `dagstorm recover` must leave the stack whole: Toxiproxy has no
toxic and every proxy enabled, no process of the stack is stopped, and every
component is running and healthy. Rounds: ``DAGSTORM_CHAOS_ROUNDS`` (default 20).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import psutil
import pytest

from dagstorm.clients.toxiproxy import ToxiproxyClient
from dagstorm.stack.context import StackContext
from dagstorm.stack.embedded import EmbeddedStack
from dagstorm.stack.endpoints import Stack

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SPECS = [
    ["network", "link=kafka", "effect=latency", "latency_ms=300"],
    ["network", "link=kafka", "effect=bandwidth", "rate_kb_per_s=64"],
    ["network", "link=airflow-db", "effect=down"],
    ["network", "link=serving-db", "effect=flap", "period_s=0.3"],
    ["network", "link=airflow-api", "effect=stall"],
    ["broker", "action=pause"],
    ["broker", "action=kill"],
    ["airflow", "action=pause", "component=scheduler"],
    ["airflow", "action=kill", "component=triggerer"],
]


def _dagstorm(ctx: StackContext, *args: str) -> list[str]:
    return [sys.executable, "-m", "dagstorm", "--state-dir", str(ctx.layout.root), *args]


def _stopped_processes(ctx: StackContext) -> list[str]:
    stopped = []
    for name, comp in EmbeddedStack(ctx).components.items():
        record = comp.record()
        if record is None:
            continue
        for proc in psutil.process_iter():
            try:
                if os.getpgid(proc.pid) == record.pid and proc.status() == psutil.STATUS_STOPPED:
                    stopped.append(f"{name}:{proc.pid}")
            except (psutil.Error, ProcessLookupError):
                continue
    return stopped


def test_sigkill_during_faults_then_recover_leaves_the_stack_whole(
    stack: Stack, stack_context: StackContext
) -> None:
    rounds = int(os.environ.get("DAGSTORM_CHAOS_ROUNDS", "20"))
    rng = random.Random(20261124)
    results = []
    for round_no in range(rounds):
        spec = rng.choice(SPECS)
        delay = rng.uniform(0.05, 2.5)
        child = subprocess.Popen(
            _dagstorm(stack_context, "-q", "fault", "inject", *spec, "--duration", "60s"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        started = time.monotonic()
        recovered = subprocess.run(
            _dagstorm(stack_context, "-q", "recover"),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        took = time.monotonic() - started
        assert recovered.returncode == 0, (spec, recovered.stdout, recovered.stderr)
        assert stack.toxiproxy_url is not None
        with ToxiproxyClient(stack.toxiproxy_url) as client:
            proxies = client.list_proxies()
        assert [p.name for p in proxies if p.toxics] == [], (round_no, spec)
        assert [p.name for p in proxies if not p.enabled] == [], (round_no, spec)
        assert _stopped_processes(stack_context) == [], (round_no, spec)
        status = subprocess.run(
            _dagstorm(stack_context, "stack", "status", "--json"),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        rows = json.loads(status.stdout)
        assert [r["name"] for r in rows if r["state"] != "running"] == [], (round_no, spec, rows)
        results.append((" ".join(spec), round(delay, 2), round(took, 1)))
    print(f"\nchaos rounds: {len(results)}, all recovered")
    for spec_text, delay, took in results:
        print(f"  killed after {delay:>4} s during `{spec_text}` → recover {took} s")
