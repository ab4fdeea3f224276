"""Submitting the Spark backend's job: package zip, spark-submit, progress, errors.

:func:`run_on_spark` checks the master answers (``spark://`` and ``k8s://`` URLs:
a TCP connect, so an unreachable master fails in seconds instead of a driver
waiting for executors forever), builds a zip of the dagstorm package for
``--py-files`` (executors import dagstorm from it; they still need numpy,
pyarrow, pydantic, orjson and pandas in their Python), writes the config as
JSON and runs ``spark-submit`` on :mod:`job`, relaying its progress lines.
Spark's own log goes to ``log_path``. Bounded by ``timeout_s``: on expiry or
Ctrl-C the spark-submit process group is stopped.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

import dagstorm
from dagstorm.core.errors import InfrastructureError, ServiceUnreachableError
from dagstorm.workloads.config import GeneratorConfig

PROGRESS = "DAGSTORM_PROGRESS "
JOB = Path(__file__).with_name("job.py")

Progress = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class SparkOptions:
    """Where and how the job runs."""

    master: str
    spark_home: Path
    env: dict[str, str]
    log_path: Path
    chunks_per_hour: int = 1
    #: Ship dagstorm as a --py-files zip (a real cluster needs it); else executors
    #: import the dagstorm installed in their Python (one machine, same venv).
    ship_package: bool = True
    conf: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 86_400.0


def master_addresses(master: str) -> list[tuple[str, int]]:
    """Host and port to probe for a ``spark://`` (HA lists too) or ``k8s://`` master."""
    if master.startswith("spark://"):
        out = []
        for item in master.removeprefix("spark://").split(","):
            host, _, port = item.rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"bad Spark master URL {master!r} (expected spark://host:port)")
            out.append((host, int(port)))
        return out
    if master.startswith("k8s://"):
        url = urlsplit(master.removeprefix("k8s://"))
        if url.hostname is None:
            raise ValueError(f"bad Kubernetes master URL {master!r}")
        return [(url.hostname, url.port or (443 if url.scheme == "https" else 80))]
    return []


def check_master(master: str, *, timeout_s: float = 3.0) -> None:
    """Raise :class:`ServiceUnreachableError` unless the master accepts a TCP connection."""
    addresses = master_addresses(master)
    for host, port in addresses:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout_s):
            return
    if addresses:
        raise ServiceUnreachableError(
            "the Spark master does not answer",
            where=master,
            fix="start it (`dagstorm stack up` for the embedded stack) or pass --master URL",
        )


def package_zip(directory: Path) -> Path:
    """A zip of the dagstorm package's files (no bytecode) for ``--py-files``."""
    root = Path(dagstorm.__file__).parent
    path = directory / "dagstorm.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in sorted(root.rglob("*")):
            if item.is_file() and "__pycache__" not in item.parts and item.suffix != ".pyc":
                archive.write(item, item.relative_to(root.parent))
    return path


def submit_argv(
    options: SparkOptions,
    *,
    config_path: Path,
    zip_path: Path | None,
    duration_s: float,
    ledger_dir: Path,
) -> list[str]:
    """The spark-submit command line."""
    argv = [str(options.spark_home / "bin" / "spark-submit"), "--master", options.master]
    argv += ["--name", "dagstorm-generate"]
    for key, value in sorted(options.conf.items()):
        argv += ["--conf", f"{key}={value}"]
    if zip_path is not None:
        argv += ["--py-files", str(zip_path)]
    argv += [str(JOB), "--config", str(config_path), "--duration", repr(duration_s)]
    argv += ["--chunks-per-hour", str(options.chunks_per_hour), "--ledger", str(ledger_dir)]
    return argv


def _log_error(log_path: Path) -> str:
    """The most telling line of Spark's log: the last exception or error."""
    try:
        lines = log_path.read_text(errors="replace").splitlines()[-400:]
    except OSError:
        return ""
    for line in reversed(lines):
        if "Error" in line or "Exception" in line:
            return line.strip()[:300]
    return ""


def run_on_spark(
    config: GeneratorConfig,
    duration_s: float,
    options: SparkOptions,
    *,
    ledger_dir: Path,
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    """Run the job; every progress event by name (``session``, ``plan``, ``done``, ...)."""
    check_master(options.master)
    events: dict[str, Any] = {}
    options.log_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dagstorm-generate-") as tmp:
        config_path = Path(tmp) / "config.json"
        config_path.write_bytes(config.model_dump_json().encode())
        zip_path = package_zip(Path(tmp)) if options.ship_package else None
        argv = submit_argv(
            options,
            config_path=config_path,
            zip_path=zip_path,
            duration_s=duration_s,
            ledger_dir=ledger_dir.resolve(),
        )
        with open(options.log_path, "wb") as log:
            proc = subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                stderr=log,
                env=options.env,
                start_new_session=True,
            )

            def relay() -> None:
                assert proc.stdout is not None
                for raw in proc.stdout:
                    line = raw.decode(errors="replace")
                    if line.startswith(PROGRESS):
                        event = orjson.loads(line[len(PROGRESS) :])
                        events[event["event"]] = event
                        if on_progress is not None:
                            on_progress(event)
                    else:
                        log.write(raw)

            reader = threading.Thread(target=relay, name="spark-submit-stdout", daemon=True)
            reader.start()
            try:
                code = proc.wait(timeout=options.timeout_s)
            except subprocess.TimeoutExpired:
                _stop(proc)
                raise InfrastructureError(
                    f"the Spark job did not finish within {options.timeout_s:.0f} s",
                    where=str(options.log_path),
                    fix="raise --timeout or check the cluster has free cores",
                ) from None
            except BaseException:
                _stop(proc)
                raise
            reader.join(timeout=10)
    if code != 0 or "done" not in events:
        cause = _log_error(options.log_path)
        raise InfrastructureError(
            f"spark-submit exited with code {code}" + (f": {cause}" if cause else ""),
            where=str(options.log_path),
            fix="see the log; check the master URL and that executors can run "
            f"{options.env.get('PYSPARK_PYTHON', 'python3')} with numpy and pyarrow",
        )
    return events


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the spark-submit process group, then SIGKILL after 10 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
