"""Locust never runs in the harness process; its processes are recorded and swept by pid."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil

from dagstorm.stack.embedded import processes
from dagstorm.workloads.locust_swarm.swarm_process import (
    SWARM_SUFFIX,
    master_argv,
    stop_orphan_swarms,
    swarm_env,
    worker_argv,
)

CHECK = """
import importlib, json, pkgutil, sys
import dagstorm
skipped = ("dagstorm.workloads.locust_swarm.locustfiles", "dagstorm.tui", "dagstorm.__main__")
names = []
for info in pkgutil.walk_packages(dagstorm.__path__, "dagstorm."):
    if info.name.startswith(skipped) or info.name.endswith("_job"):
        continue
    importlib.import_module(info.name)
    names.append(info.name)
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("locust", "gevent", "geventhttpclient"))
print(json.dumps({"imported": len(names), "locust_or_gevent": bad}))
"""


def test_no_harness_module_imports_locust_or_gevent() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, check=True, timeout=300
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["imported"] > 100  # the walk really imported the package
    assert result["locust_or_gevent"] == []


def test_the_command_lines_stay_on_loopback_and_carry_no_credentials(tmp_path: Path) -> None:
    locust, file = Path("/venv/bin/locust"), Path("/x/kafka_locustfile.py")
    master = master_argv(locust, file, port=5557, workers=3, stop_timeout=20)
    assert "--master-bind-host=127.0.0.1" in master and "--expect-workers=3" in master
    assert "--headless" in master and "--stop-timeout=20" in master
    worker = worker_argv(locust, file, port=5557)
    assert "--master-host=127.0.0.1" in worker and "--master-port=5557" in worker
    env = swarm_env(
        {"PATH": "/bin", "DAGSTORM_AIRFLOW_PASSWORD": "inherited"},
        {"DAGSTORM_AIRFLOW_PASSWORD": "s3cret", "DAGSTORM_LOCUST_CONFIG": "/c.json"},
    )
    assert env["DAGSTORM_AIRFLOW_PASSWORD"] == "s3cret" and env["PATH"] == "/bin"
    assert not any("s3cret" in part for part in master + worker)


def _swarm_file(pid_dir: Path, owner: psutil.Process, records: list[processes.PidRecord]) -> Path:
    path = pid_dir / f"locust-demo{SWARM_SUFFIX}"
    body = {
        "owner_pid": owner.pid,
        "owner_create_time": owner.create_time(),
        "records": [vars(r) for r in records],
    }
    path.write_text(json.dumps(body))
    return path


def test_recover_stops_swarms_whose_owner_is_gone_and_spares_live_ones(tmp_path: Path) -> None:
    marker = str(tmp_path)
    pid_dir = tmp_path / "run"
    pid_dir.mkdir()
    record = processes.spawn(
        "locust-demo-master",
        [sys.executable, "-c", "import time; time.sleep(120)"],
        env=dict(os.environ),
        log_path=tmp_path / "master.log",
        pid_path=pid_dir / "locust-demo-master.pid",
        marker=marker,
    )
    try:
        path = _swarm_file(pid_dir, psutil.Process(), [record])  # owner: this live process
        assert stop_orphan_swarms(pid_dir) == []
        assert processes.process_of(record) is not None
        gone = subprocess.Popen([sys.executable, "-c", "pass"])
        owner = psutil.Process(gone.pid)
        _swarm_file(pid_dir, owner, [record])
        gone.wait()
        assert stop_orphan_swarms(pid_dir) == ["demo"]
        assert processes.process_of(record) is None
        assert not path.exists() and not (pid_dir / "locust-demo-master.pid").exists()
    finally:
        processes.stop(record, timeout=5)


LOCUSTFILE_DEPENDENCIES = """
import json, sys
import dagstorm.clients.kafka
import dagstorm.workloads.locust_swarm.ad_records
import dagstorm.workloads.locust_swarm.shape_users
import dagstorm.workloads.locust_swarm.spec
import dagstorm.workloads.locust_swarm.stats_lines
import dagstorm.workloads.locust_swarm.swarm_config
roots = ("requests", "urllib3", "httpx", "airflow_client", "locust", "gevent")
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in roots)))
"""


def test_what_the_locustfiles_import_pulls_in_no_http_client() -> None:
    # Harmless after Locust's patching anyway; keeps the locustfiles' imports clean.
    done = subprocess.run(
        [sys.executable, "-c", LOCUSTFILE_DEPENDENCIES],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
