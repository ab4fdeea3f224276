"""`dagstorm stack check`: each declared part of the stack, through its real API.

Kafka: a message produced and consumed (through the Toxiproxy proxy on the
embedded stack). Spark: a tiny job on the master. Airflow: a token and the DAG
list. Serving database: a query. Toxiproxy: every declared proxy exists and is
up. StatsD (external stacks): a metric arrives on the declared UDP port. A part
the stack does not declare is not checked; a failure is one line.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from airflow_client.client import DAGApi

from dagstorm.clients.airflow import api_client
from dagstorm.clients.kafka import KafkaConsumer, KafkaProducer, TopicPartition
from dagstorm.clients.toxiproxy import ToxiproxyClient
from dagstorm.core.errors import DagstormError
from dagstorm.stack.embedded.context import find_java_home, find_spark_home
from dagstorm.stack.endpoints import Stack
from dagstorm.stack.executor_check import CHECK_DAG, run_check_task
from dagstorm.stack.parts import PART_WORDS, Part
from dagstorm.stack.reach import connect

SMOKE_TOPIC = "dagstorm-smoke"
EXPECTED_SPARK_LINE = "dagstorm-smoke rows=100000 sum=4999950000"


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check."""

    name: str
    ok: bool
    seconds: float
    detail: str
    #: The part checked.
    part: Part


def check_postgres(stack: Stack) -> str:
    """SELECT on the serving database (through the serving-db proxy on the embedded stack)."""
    with psycopg.connect(stack.endpoint("serving_db"), connect_timeout=5) as conn:
        row = conn.execute("SELECT current_database(), version()").fetchone()
    assert row is not None
    return f"{row[0]}: {str(row[1]).split(',')[0]}"


def check_toxiproxy(stack: Stack) -> str:
    """Every declared proxy exists and is enabled."""
    if stack.toxiproxy_url is None:
        return "no Toxiproxy declared (network faults unavailable)"
    with ToxiproxyClient(stack.toxiproxy_url) as client:
        proxies = {p.name: p for p in client.list_proxies()}
    missing = [name for name in stack.links if name not in proxies]
    disabled = [name for name in stack.links if name in proxies and not proxies[name].enabled]
    if missing or disabled:
        raise AssertionError(
            "; ".join(
                text
                for text in (
                    f"no proxy named {', '.join(missing)}" if missing else "",
                    f"proxy {', '.join(disabled)} disabled" if disabled else "",
                )
                if text
            )
        )
    return f"{len(stack.links)} proxy(ies) enabled: {', '.join(stack.links)}"


def check_kafka(stack: Stack) -> str:
    """Produce one message and read it back, through the proxy."""
    payload = uuid.uuid4().hex.encode()
    bootstrap = stack.endpoint("kafka")
    connect("kafka", bootstrap, 9092)  # seconds, not the client's timeouts, when it is down
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        request_timeout_ms=10_000,
        bootstrap_timeout_ms=10_000,
        max_block_ms=20_000,
    )
    try:
        meta = producer.send(SMOKE_TOPIC, payload).get(timeout=30)
    finally:
        producer.close(timeout=5)
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        consumer_timeout_ms=15_000,
        request_timeout_ms=12_000,
    )
    try:
        partition = TopicPartition(SMOKE_TOPIC, meta.partition)
        consumer.assign([partition])
        consumer.seek(partition, meta.offset)
        for message in consumer:
            if message.value == payload:
                return f"round trip via {bootstrap} (partition {meta.partition})"
    finally:
        consumer.close()
    raise AssertionError("the produced message was not read back")


def check_spark(stack: Stack, env: dict[str, str] | None = None) -> str:
    """spark-submit a tiny job to the master and check its answer."""
    master = stack.endpoint("spark")
    connect("spark", master, 7077)  # seconds, not spark-submit's retries, when it is down
    spark_home = find_spark_home()
    job = Path(__file__).with_name("spark_smoke_job.py")
    run_env = (
        dict(env)
        if env
        else {
            **os.environ,
            "SPARK_HOME": str(spark_home),
            "PYSPARK_PYTHON": sys.executable,
            "JAVA_HOME": str(find_java_home()),
        }
    )
    result = subprocess.run(
        [
            str(spark_home / "bin" / "spark-submit"),
            "--master",
            master,
            "--conf",
            "spark.executor.memory=512m",
            "--conf",
            "spark.cores.max=1",
            str(job),
        ],
        env=run_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if EXPECTED_SPARK_LINE not in result.stdout:
        cause = spark_failure(result.stderr or result.stdout)
        raise AssertionError(f"spark-submit exited {result.returncode}: {cause}")
    app = re.search(r"app-\d+-\d+", result.stderr)
    return f"job ran on {master}" + (f" as {app.group(0)}" if app else "")


#: Log lines that say nothing about why a Spark job failed (the JVM shutting down).
_SPARK_NOISE = re.compile(
    "|".join(
        (
            "ShutdownHookManager",
            "Shutdown hook called",
            "Deleting directory",
            "SparkContext: Successfully stopped",
            "MemoryStore cleared",
            "BlockManager stopped",
            "SparkUI: Stopped",
            "OutputCommitCoordinator",
        )
    )
)
_SPARK_CAUSE = re.compile(r"Exception|Error|ERROR|Failed|refused|Cannot|cannot")


def spark_failure(log: str) -> str:
    """The one line of a spark-submit log that says why it failed (never the shutdown lines)."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    telling = [
        line for line in lines if not _SPARK_NOISE.search(line) and " WARN " not in f" {line} "
    ]
    causes = [line for line in telling if _SPARK_CAUSE.search(line)]
    chosen = causes[0] if causes else (telling[-1] if telling else "no output")
    chosen = re.sub(r"^\S+ \S+ (ERROR|WARN|INFO) ", "", chosen)  # the log4j time and level
    return one_line(chosen)


def one_line(text: str, limit: int = 240) -> str:
    """``text`` on one line, at most ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def check_airflow(stack: Stack) -> str:
    """A token, then the DAG list."""
    with api_client(stack) as client:
        dags = DAGApi(client).get_dags(limit=100)
    return f"token ok, {dags.total_entries} DAG(s) listed"


def check_statsd(stack: Stack, wait_s: float = 15.0) -> str:
    """A StatsD metric arrives on the declared UDP port within ``wait_s`` seconds."""
    port = stack.statsd_port
    if port is None:
        raise AssertionError("no StatsD port declared")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            raise AssertionError(
                f"UDP port {port} is taken ({exc.strerror}): is a run receiving StatsD now?"
            ) from None
        sock.settimeout(wait_s)
        try:
            data = sock.recv(65535)
        except TimeoutError:
            raise AssertionError(
                f"no StatsD metric on UDP 127.0.0.1:{port} in {wait_s:g} s: point Airflow's"
                " [metrics] statsd_host/statsd_port at this machine"
            ) from None
    first = data.decode("utf-8", "replace").splitlines()[0].split(":")[0]
    return f"metrics arrive on UDP {port} (e.g. {first})"


def check_dags_folder(stack: Stack) -> str:
    """The declared DAGs folder is a directory dagstorm can write (DAG-file faults)."""
    folder = stack.dags_folder
    if folder is None or not folder.is_dir():
        raise AssertionError(f"{folder} is not a directory")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise AssertionError(f"{folder} is not writable by this user")
    count = sum(1 for _ in folder.rglob("*.py"))
    return f"{folder} writable ({count} Python files)"


#: The checks, in the order they run, with the part each checks.
CHECKS: tuple[tuple[Part, str], ...] = (
    ("toxiproxy", "toxiproxy"),
    ("serving_db", "serving-db"),
    ("kafka", "kafka"),
    ("airflow", "airflow"),
    ("spark", "spark"),
    ("statsd", "statsd"),
    ("dag_files", "dags-folder"),
)


def run_checks(stack: Stack, *, spark_env: dict[str, str] | None = None) -> list[CheckResult]:
    """Check every part the stack declares; a failing check is reported, never raised.

    StatsD and the DAGs folder are checked on external stacks only (dagstorm
    configures the others').
    """
    run: dict[Part, Callable[[], str]] = {
        "toxiproxy": lambda: check_toxiproxy(stack),
        "serving_db": lambda: check_postgres(stack),
        "kafka": lambda: check_kafka(stack),
        "airflow": lambda: check_airflow(stack),
        "spark": lambda: check_spark(stack, spark_env),
        "statsd": lambda: check_statsd(stack),
        "dag_files": lambda: check_dags_folder(stack),
    }
    results: list[CheckResult] = []
    for part, name in CHECKS:
        if not stack.declares(part) or (
            part in ("statsd", "dag_files") and stack.kind != "external"
        ):
            continue
        started = time.monotonic()
        try:
            detail, ok = run[part](), True
        except DagstormError as exc:
            detail, ok = one_line(exc.render()), False
        except Exception as exc:  # noqa: BLE001 - a check reports every failure as data
            detail, ok = one_line(failure_text(exc)), False
        results.append(CheckResult(name, ok, time.monotonic() - started, detail, part))
    if stack.executor == "celery" and stack.declares("airflow"):
        started = time.monotonic()
        try:
            detail, ok = check_celery(stack), True
        except Exception as exc:  # noqa: BLE001 - a check reports every failure as data
            detail, ok = one_line(failure_text(exc)), False
        results.append(CheckResult("celery", ok, time.monotonic() - started, detail, "airflow"))
    return results


def check_celery(stack: Stack) -> str:
    """A task of dagstorm's check DAG runs to success on a Celery worker."""
    done = run_check_task(stack, timeout=120.0)
    if done.state != "success":
        raise AssertionError(
            f"{CHECK_DAG} run {done.run_id} ended {done.state} after {done.seconds:.0f} s"
            " (is a Celery worker consuming? `dagstorm stack logs airflow-celery-worker-1`)"
        )
    if done.ran_on != "celery":
        raise AssertionError(f"the check task ran under {done.ran_on}, not a Celery worker")
    return f"a task ran on Celery worker {done.worker} in {done.seconds:.1f} s"


def failure_text(exc: Exception) -> str:
    """An exception as one short text: its message, named by its class unless it says it."""
    message = str(exc).strip()
    name = exc.__class__.__name__
    if isinstance(exc, AssertionError) and message:
        return message
    while message.startswith(f"{name}: "):  # kafka-python repeats the class name
        message = message[len(name) + 2 :]
    return f"{name}: {message}" if message else name


def failure_fix(stack: Stack, failed: list[CheckResult]) -> str:
    """What the user can do about the failed checks, for this kind of stack."""
    if stack.kind == "embedded":
        return "see `dagstorm stack status` and `dagstorm stack logs <component>`"
    if stack.kind == "compose":
        return "see `docker compose ps` and `docker compose logs <service>`"
    keys = ", ".join(f"`{PART_WORDS[r.part][1]}`" for r in failed)
    return (
        f"make each answer from this machine at the address {stack.source} declares"
        f" (credentials: docs/stack.md), or remove {keys} if the stack has no such part"
    )
