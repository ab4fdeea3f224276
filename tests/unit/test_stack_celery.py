"""The CeleryExecutor stack's shape: components, links, config, env, faults, the check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from dagstorm.core.progress import Progress
from dagstorm.faults.kinds import parse_fault_spec
from dagstorm.faults.specs import CeleryFault
from dagstorm.stack.config import StackConfig, load_stack_config
from dagstorm.stack.credentials import CREDENTIALS_FILE, load_or_create
from dagstorm.stack.embedded.catalogue import ports_of
from dagstorm.stack.embedded.components.airflow import AirflowCeleryWorker, airflow_env
from dagstorm.stack.embedded.components.redis import Redis
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.embedded.launcher import EmbeddedStack
from dagstorm.stack.executor_check import CheckDagClient, ran_on
from dagstorm.stack.topology import START_ORDER, component_order, stack_links


def _ctx(tmp_path: Path, **airflow: object) -> StackContext:
    config = StackConfig.model_validate(
        {"state_dir": str(tmp_path), "airflow": airflow, "celery": {"workers": 3}}
    )
    return StackContext(config=config, progress=Progress(quiet=True))


def test_local_is_the_default_and_has_no_broker() -> None:
    config = StackConfig()
    assert config.airflow.executor == "local"
    assert config.component_names == START_ORDER
    assert "celery-broker" not in config.link_names


def test_celery_adds_redis_after_toxiproxy_and_workers_after_the_scheduler() -> None:
    order = component_order("celery", 2)
    assert order.index("redis") == order.index("toxiproxy") + 1
    at = order.index("airflow-scheduler")
    assert order[at + 1 : at + 3] == ("airflow-celery-worker-1", "airflow-celery-worker-2")
    assert set(order) - set(START_ORDER) == {
        "redis",
        "airflow-celery-worker-1",
        "airflow-celery-worker-2",
    }
    assert [link.name for link in stack_links("celery")][-1] == "celery-broker"


def test_the_stack_file_sets_executor_and_workers(tmp_path: Path) -> None:
    stack_file = tmp_path / "dagstorm.stack.yaml"
    stack_file.write_text("airflow:\n  executor: celery\ncelery:\n  workers: 2\n  concurrency: 3\n")
    config = load_stack_config(stack_file, env={})
    assert config.celery.concurrency == 3
    assert config.component_names[-5:] == (
        "airflow-scheduler",
        "airflow-celery-worker-1",
        "airflow-celery-worker-2",
        "airflow-dag-processor",
        "airflow-triggerer",
    )


def test_a_bad_executor_is_refused_with_where(tmp_path: Path) -> None:
    stack_file = tmp_path / "dagstorm.stack.yaml"
    stack_file.write_text("airflow:\n  executor: kubernetes\n")
    with pytest.raises(Exception) as info:
        load_stack_config(stack_file, env={})
    assert "dagstorm.stack.yaml:2" in str(info.value) and "executor" in str(info.value)


def test_celery_env_reaches_the_broker_and_results_through_the_proxies(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, executor="celery")
    env = airflow_env(ctx)
    ports = ctx.config.ports
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].endswith(f"@127.0.0.1:{ports.celery_broker}/0")
    assert f"@127.0.0.1:{ports.airflow_db}/" in env["AIRFLOW__CELERY__RESULT_BACKEND"]
    assert ctx.credentials.redis_password in env["AIRFLOW__CELERY__BROKER_URL"]
    assert airflow_env(_ctx(tmp_path / "l"))["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"


def test_the_components_are_built_from_the_config(tmp_path: Path) -> None:
    stack = EmbeddedStack(_ctx(tmp_path, executor="celery"))
    worker = stack.components["airflow-celery-worker-3"]
    assert isinstance(worker, AirflowCeleryWorker) and worker.hostname == "worker3@dagstorm"
    assert "--celery-hostname" in worker.argv() and "worker3@dagstorm" in worker.argv()
    assert "redis" in stack.components["airflow-scheduler"].depends_on
    assert "redis" in worker.depends_on
    assert "celery_broker" in ports_of(stack.ctx, "toxiproxy")
    assert (
        "redis"
        not in EmbeddedStack(_ctx(tmp_path / "l")).components["airflow-scheduler"].depends_on
    )


def test_down_also_finds_workers_a_bigger_stack_left(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)  # local now; a celery stack ran here before
    ctx.layout.ensure()
    for name in ("redis", "airflow-celery-worker-5"):
        ctx.layout.pid_file(name).write_text("{}")
    known = EmbeddedStack(ctx)._every_known()
    assert known.index("redis") == known.index("toxiproxy") + 1
    assert known.index("airflow-celery-worker-5") == known.index("airflow-scheduler") + 1


def test_redis_config_is_private_and_keeps_the_password_off_the_command_line(
    tmp_path: Path,
) -> None:
    ctx = _ctx(tmp_path, executor="celery")
    redis = Redis(ctx)
    redis.prepare()
    conf = ctx.layout.secrets_dir / "redis.conf"
    assert conf.stat().st_mode & 0o777 == 0o600
    text = conf.read_text()
    assert "bind 127.0.0.1" in text and f"requirepass {ctx.credentials.redis_password}" in text
    assert ctx.credentials.redis_password not in " ".join(redis.argv())


def test_worker_health_needs_ready_after_this_start(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, executor="celery")
    ctx.layout.ensure()
    worker = AirflowCeleryWorker(ctx, 1)
    assert not worker.health().ok  # not running


def test_an_older_credentials_file_gains_a_redis_password(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    first = load_or_create(secrets)
    raw = json.loads((secrets / CREDENTIALS_FILE).read_text())
    del raw["redis_password"]
    (secrets / CREDENTIALS_FILE).write_text(json.dumps(raw))
    again = load_or_create(secrets)
    assert again.redis_password and again.airflow_db_password == first.airflow_db_password
    assert json.loads((secrets / CREDENTIALS_FILE).read_text())["redis_password"]


def test_celery_fault_names_a_worker() -> None:
    spec = parse_fault_spec({"kind": "celery", "action": "warm_shutdown", "worker": 2})
    assert isinstance(spec, CeleryFault)
    assert spec.describe() == "celery worker 2 warm shutdown"
    with pytest.raises(ValidationError):
        parse_fault_spec({"kind": "celery", "action": "kill", "worker": 0})


@pytest.mark.parametrize(
    ("ancestors", "expected"),
    [
        (
            [
                "python task",
                "[celeryd: worker2@dagstorm:ForkPoolWorker-1]",
                "/venv/bin/python /venv/bin/airflow celery worker --skip-serve-logs"
                " --celery-hostname worker2@dagstorm --concurrency 4",
            ],
            ("celery", "worker2@dagstorm"),
        ),
        (["python task", "airflow scheduler --skip-serve-logs"], ("local", None)),
        (["python task", "bash"], ("unknown", None)),
    ],
)
def test_what_ran_a_task_is_read_from_its_ancestors(
    ancestors: list[str], expected: tuple[str, str | None]
) -> None:
    assert ran_on(ancestors) == expected


class _ScriptedCheckClient(CheckDagClient):
    """A check client whose run goes through the given states (no Airflow)."""

    def __init__(self, states: list[str]) -> None:
        self.states = states
        self.asked = 0

    def run_state(self, run_id: str) -> str:
        self.asked += 1
        return self.states[min(self.asked, len(self.states)) - 1]


def test_the_check_client_waits_until_the_run_ends() -> None:
    client = _ScriptedCheckClient(["queued", "running", "success"])
    assert client.wait("r1", timeout=5.0, interval=0.0) == "success"
    assert client.asked == 3


def test_the_check_client_gives_the_last_state_when_the_time_is_up() -> None:
    client = _ScriptedCheckClient(["queued", "running"])
    assert client.wait("r1", timeout=0.05, interval=0.01) == "running"
    assert client.asked >= 2
