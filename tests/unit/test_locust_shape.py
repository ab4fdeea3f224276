"""Locust load shapes from dagstorm shapes: the formula, and the locustfile's class.

The class lives in a locustfile, which imports Locust (and so patches the process
with gevent): it is exercised in a child process, never in the test process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dagstorm.workloads.locust_swarm.shape_users import users_at
from dagstorm.workloads.locust_swarm.spec import KafkaUserSpec
from dagstorm.workloads.locust_swarm.stats_lines import EndLine, parse_line
from dagstorm.workloads.locust_swarm.swarm_config import CONFIG_ENV, SwarmConfig
from dagstorm.workloads.traffic.shapes import Ramp, Spike, SquareWave

SPIKE = Spike(at=60, duration=60, factor=3.0)


@pytest.mark.parametrize(
    ("wall", "expected"),
    [(0, 4), (29.9, 4), (30, 12), (59.9, 12), (60, 4)],  # compression 2: sim 60..120 is 3x
)
def test_users_follow_the_shape_at_simulated_time(wall: float, expected: int) -> None:
    assert users_at(wall, users=4, max_users=100, compression=2.0, shape=SPIKE) == expected


def test_users_are_rounded_and_clamped() -> None:
    ramp = Ramp(start=0.0, end=10.0, until=100)
    assert [
        users_at(t, users=3, max_users=20, compression=1, shape=ramp) for t in (0, 5, 50, 100)
    ] == [
        0,
        2,  # 3 x 0.5 = 1.5 rounds to 2 (half to even)
        15,
        20,  # 30 capped at max_users
    ]
    square = SquareWave(period=10, high=2.0, low=0.0)
    assert users_at(7, users=5, max_users=50, compression=1, shape=square) == 0
    assert users_at(123.0, users=5, max_users=50, compression=9, shape=None) == 5


SCRIPT = """
import json, sys
from dagstorm.workloads.locust_swarm.locustfiles import kafka_locustfile as lf
from dagstorm.workloads.locust_swarm.locustfiles.swarm_runtime import MASTER

class Clients:
    all = []

class FakeMaster:
    clients = Clients()
    sent = []
    def send_message(self, kind, data=None):
        self.sent.append(kind)

MASTER.runner = FakeMaster()
shape = lf.SwarmShape()
ticks = []
for t in json.loads(sys.argv[1]):
    shape.get_run_time = lambda t=t: t
    ticks.append(shape.tick())
print(json.dumps({"ticks": ticks, "sent": FakeMaster.sent, "patched": "gevent" in sys.modules}))
"""


def test_the_locustfile_shape_ticks_the_formula_then_drains_and_stops(tmp_path: Path) -> None:
    config = SwarmConfig(
        name="t",
        user=KafkaUserSpec(),
        workers=1,
        users=4,
        max_users=100,
        spawn_rate=7,
        shape=SPIKE,
        compression=2.0,
        duration_s=90,
        max_requests=10,
        drain_timeout_s=5,
        stats_path=tmp_path / "stats.jsonl",
        stop_path=tmp_path / "stop",
    )
    path = config.write(tmp_path / "config.json")
    times = [0, 10, 30, 45, 59, 60, 89, 90]
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(times)],
        env={**os.environ, CONFIG_ENV: str(path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    expected = [
        [users_at(t, users=4, max_users=100, compression=2.0, shape=SPIKE), 7.0] for t in times[:-1]
    ]
    assert result["ticks"] == [*expected, None]
    assert result["sent"] == ["dagstorm_drain"]
    assert result["patched"] is True
    (end,) = [parse_line(line) for line in config.stats_path.read_text().splitlines()]
    assert end == EndLine(complete=True, reason="duration", requests=0)
