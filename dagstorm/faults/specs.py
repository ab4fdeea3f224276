"""What a fault is, as data: the models scenario files and `dagstorm fault inject` share.

Each family is one model with a ``kind`` (the registry in
:mod:`dagstorm.faults.kinds` picks the model by it); unknown keys are errors.
Specs say *what* to break; when and for how long is the scenario's business (or
``--duration`` on the command line).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dagstorm.core.problems import raise_all
from dagstorm.stack.parts import Part
from dagstorm.stack.topology import LinkName

StreamChoice = Literal["upstream", "downstream", "both"]


class FaultSpecBase(BaseModel):
    """What every fault spec is: strict (unknown keys are errors), frozen, with a ``kind``.

    A plugin's fault spec subclasses it, declares ``kind: Literal["my_kind"] =
    "my_kind"`` and its own fields, and says in :meth:`describe` what it breaks.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    #: The fault's kind (each subclass narrows it to one ``Literal``).
    kind: str

    def describe(self) -> str:
        """A short human description, e.g. ``network latency 300 ms on kafka``."""
        raise NotImplementedError

    def needs(self) -> frozenset[Part]:
        """The stack parts this fault acts on (a run refuses it where they are not declared)."""
        return frozenset()

    def deprecation(self) -> tuple[str, str, str] | None:
        """(key, what, fix) if this spec is written in a deprecated way (a validation warning)."""
        return None


class NetworkFault(FaultSpecBase):
    """A Toxiproxy toxic (or the proxy down / flapping) on one declared link."""

    kind: Literal["network"] = "network"
    link: LinkName
    effect: Literal[
        "latency",
        "bandwidth",
        "stall",
        "reset",
        "slicer",
        "limit_data",
        "slow_close",
        "down",
        "flap",
    ]
    stream: StreamChoice = "both"
    toxicity: float = Field(1.0, ge=0.0, le=1.0)
    latency_ms: int = Field(0, ge=0, le=600_000)
    jitter_ms: int = Field(0, ge=0, le=600_000)
    rate_kb_per_s: int = Field(0, ge=0)
    timeout_ms: int = Field(0, ge=0, description="stall: 0 holds data until reverted")
    delay_ms: int = Field(0, ge=0, description="slow_close delay")
    average_size: int = Field(0, ge=0)
    size_variation: int = Field(0, ge=0)
    delay_us: int = Field(0, ge=0)
    max_bytes: int = Field(0, ge=0)
    period_s: float = Field(0.0, ge=0.0, description="flap: seconds down, then as many up")

    @model_validator(mode="after")
    def _needs(self) -> NetworkFault:
        required = {
            "latency": ("latency_ms",),
            "bandwidth": ("rate_kb_per_s",),
            "slicer": ("average_size",),
            "limit_data": ("max_bytes",),
            "flap": ("period_s",),
        }.get(self.effect, ())
        findings = [
            ((name,), f"effect {self.effect} needs {name} > 0")
            for name in required
            if not getattr(self, name)
        ]
        if self.effect == "slicer" and 0 < self.average_size <= self.size_variation:
            findings.append((("size_variation",), "slicer needs size_variation < average_size"))
        raise_all("NetworkFault", findings)
        return self

    def describe(self) -> str:
        """Short description."""
        detail = {
            "latency": f" {self.latency_ms} ms" + (f" ±{self.jitter_ms}" if self.jitter_ms else ""),
            "bandwidth": f" {self.rate_kb_per_s} KB/s",
            "flap": f" every {self.period_s:g} s",
        }.get(self.effect, "")
        return f"network {self.effect}{detail} on {self.link} ({self.stream})"

    def needs(self) -> frozenset[Part]:
        """Toxiproxy (the link's proxy is checked against the stack's declared links)."""
        return frozenset({"toxiproxy"})


class BrokerFault(FaultSpecBase):
    """The Kafka broker process: SIGKILL (restarted on revert), SIGSTOP, or a restart."""

    kind: Literal["broker"] = "broker"
    action: Literal["kill", "pause", "restart"]

    def describe(self) -> str:
        """Short description."""
        return f"kafka broker {self.action}"

    def needs(self) -> frozenset[Part]:
        """Kafka, and its broker as a process dagstorm owns."""
        return frozenset({"kafka", "processes"})


class CeleryFault(FaultSpecBase):
    """A Celery worker of a CeleryExecutor stack: SIGKILL mid-task, SIGSTOP, warm shutdown.

    ``kill`` loses the tasks the worker was running (Airflow must notice and retry
    them); ``pause`` freezes it (its tasks stop heartbeating); ``warm_shutdown`` is
    Celery's SIGTERM: it takes no new tasks and finishes the running ones. Every
    action is reverted by starting the worker again (or SIGCONT for a pause).
    """

    kind: Literal["celery"] = "celery"
    action: Literal["kill", "pause", "warm_shutdown"]
    #: Which worker (``airflow-celery-worker-<n>``), from 1.
    worker: int = Field(1, ge=1, le=16)

    def describe(self) -> str:
        """Short description."""
        return f"celery worker {self.worker} {self.action.replace('_', ' ')}"

    def needs(self) -> frozenset[Part]:
        """Airflow, and its workers as processes dagstorm owns."""
        return frozenset({"airflow", "processes"})


HostAction = Literal["partition", "latency", "loss"]
#: The settings each host action takes (any other one given is refused).
_HOST_SETTINGS: dict[str, tuple[str, ...]] = {
    "partition": (),
    "latency": ("latency_ms", "jitter_ms"),
    "loss": ("loss_pct",),
}


class HostFault(FaultSpecBase):
    """A Celery worker's host (its network namespace): cut off, slowed, or lossy.

    ``partition`` takes the host-side link down (new connections fail, open ones
    hang); ``latency`` delays what the host sends (``tc netem`` in the namespace, or
    latency toxics on the host's own proxies where the kernel has no netem);
    ``loss`` drops a share of it (netem only). Needs ``celery.worker_hosts: true``.
    """

    kind: Literal["host"] = "host"
    action: HostAction
    #: Which worker's host (``airflow-celery-worker-<n>`` in namespace ``…-w<n>``), from 1.
    worker: int = Field(1, ge=1, le=16)
    latency_ms: int | None = Field(None, ge=0, le=600_000, description="latency: added delay")
    jitter_ms: int | None = Field(None, ge=0, le=600_000, description="latency: ± this much")
    loss_pct: float | None = Field(None, description="loss: share of packets dropped, (0, 100]")

    @model_validator(mode="after")
    def _settings_fit_the_action(self) -> HostFault:
        findings: list[tuple[tuple[str, ...], str]] = []
        if self.action == "latency" and not self.latency_ms:
            findings.append((("latency_ms",), "action latency needs latency_ms > 0"))
        if self.action == "loss" and (self.loss_pct is None or not 0 < self.loss_pct <= 100):
            findings.append((("loss_pct",), "action loss needs loss_pct in (0, 100]"))
        allowed = _HOST_SETTINGS[self.action]
        for name in ("latency_ms", "jitter_ms", "loss_pct"):
            if name not in allowed and getattr(self, name) is not None:
                findings.append(((name,), f"action {self.action} takes no `{name}`"))
        raise_all("HostFault", findings)
        return self

    def describe(self) -> str:
        """Short description."""
        match self.action:
            case "latency":
                jitter = f" ±{self.jitter_ms}" if self.jitter_ms else ""
                return f"worker host {self.worker} latency {self.latency_ms}{jitter} ms"
            case "loss":
                return f"worker host {self.worker} loss {self.loss_pct:g} %"
            case _:
                return f"worker host {self.worker} partitioned"

    def needs(self) -> frozenset[Part]:
        """Airflow, and its workers' hosts as namespaces dagstorm made."""
        return frozenset({"airflow", "processes"})


class SparkFault(FaultSpecBase):
    """Spark: a bystander OOM job, an executor JVM killed, the worker lost, the master restarted.

    ``cluster_pressure`` submits a job of dagstorm's own that exhausts its own
    executor's heap (exit 52) while the pipeline's jobs wait for the cores; the
    pipeline's own jobs run out of memory with ``{kind: jvm, action: memory_stress}``.
    ``executor_oom`` is the old name of ``cluster_pressure`` (accepted, with a warning).
    """

    kind: Literal["spark"] = "spark"
    action: Literal[
        "cluster_pressure", "executor_oom", "executor_kill", "worker_loss", "master_restart"
    ]
    executor_memory: str = Field("512m", pattern=r"^\d+[mg]$")

    def describe(self) -> str:
        """Short description."""
        return f"spark {self.action.replace('_', ' ')}"

    def deprecation(self) -> tuple[str, str, str] | None:
        """``executor_oom`` is ``cluster_pressure`` now: the OOM is not the pipeline's."""
        if self.action != "executor_oom":
            return None
        return (
            "action",
            "`executor_oom` is deprecated: it runs a bystander job that OOMs on its own "
            "executor, the pipeline's jobs only wait for cores",
            "write `action: cluster_pressure` for that, or `{kind: jvm, action: memory_stress, "
            "app: ...}` to OOM the pipeline's own executor",
        )

    def needs(self) -> frozenset[Part]:
        """Spark, and its processes (executors, worker, master) as dagstorm's own."""
        return frozenset({"spark", "processes"})


AirflowComponent = Literal["scheduler", "triggerer", "dag-processor", "api-server"]

#: Actions on Airflow's processes (embedded stack: dagstorm owns the processes).
PROCESS_ACTIONS = ("kill", "pause", "restart", "kill_task")
#: Actions through Airflow's REST API (any stack with Airflow; DAG files: a declared folder).
API_ACTIONS = (
    "squeeze_pool",
    "pause_dag",
    "clear_runs",
    "break_connection",
    "break_dag",
    "deploy_dag",
)
AirflowAction = Literal[
    "kill",
    "pause",
    "restart",
    "kill_task",
    "squeeze_pool",
    "pause_dag",
    "clear_runs",
    "break_connection",
    "break_dag",
    "deploy_dag",
]

# What each action needs (other settings are refused, so a typo never passes silently).
_REQUIRED: dict[str, tuple[str, ...]] = {
    "kill": ("component",),
    "pause": ("component",),
    "restart": ("component",),
    "squeeze_pool": ("pool", "slots"),
    "pause_dag": ("dag_id",),
    "clear_runs": ("dag_id",),
    "break_connection": ("connection_id",),
    "break_dag": ("dag_id",),
    "deploy_dag": ("dag_id", "dag_file"),
}
_ALLOWED: dict[str, tuple[str, ...]] = {
    "kill_task": ("dag_id",),
    "clear_runs": ("dag_id", "runs", "only_failed"),
    "break_connection": ("connection_id", "breaks"),
}
_OPTIONAL = ("component", "dag_id", "pool", "slots", "connection_id", "dag_file", "runs")


class AirflowFault(FaultSpecBase):
    """Airflow: its processes, or its own objects through the REST API.

    Processes: kill, pause, restart a component; kill a running task. Objects:
    pools, DAGs, runs, connections, DAG files.
    """

    kind: Literal["airflow"] = "airflow"
    action: AirflowAction
    component: AirflowComponent | None = None
    dag_id: str | None = Field(
        None,
        description="kill_task: only tasks of this DAG; pause_dag, clear_runs, break_dag,"
        " deploy_dag: the DAG",
    )
    pool: str | None = Field(None, description="squeeze_pool: the pool whose slots are cut")
    slots: int | None = Field(None, ge=0, le=100_000, description="squeeze_pool: slots while held")
    connection_id: str | None = Field(None, description="break_connection: the Connection")
    breaks: Literal["host", "login"] = Field(
        "host",
        description="break_connection: `host` points it at 127.0.0.1:1 (refused), `login`"
        " changes the user name (authentication fails); the password is never read or written",
    )
    dag_file: str | None = Field(
        None,
        description="deploy_dag: the new version's file (a path on this machine, relative to"
        " the working directory); it replaces the DAG's file while the fault is held",
    )
    runs: int = Field(5, ge=1, le=500, description="clear_runs: how many finished runs")
    only_failed: bool = Field(False, description="clear_runs: clear only failed tasks")

    @model_validator(mode="after")
    def _settings_fit_the_action(self) -> AirflowFault:
        required = _REQUIRED.get(self.action, ())
        allowed = set(required) | set(_ALLOWED.get(self.action, ()))
        findings: list[tuple[tuple[str, ...], str]] = [
            ((name,), f"action {self.action} needs `{name}`")
            for name in required
            if getattr(self, name) is None
        ]
        # A setting counts as given when it differs from its default: a spec read back
        # from a journal (every field written out) is the same spec.
        defaults = {"breaks": "host", "only_failed": False, "runs": 5}
        for name in (*_OPTIONAL, "breaks", "only_failed"):
            if name not in allowed and getattr(self, name) != defaults.get(name):
                findings.append(((name,), f"action {self.action} takes no `{name}`"))
        raise_all("AirflowFault", findings)
        return self

    def describe(self) -> str:
        """Short description."""
        match self.action:
            case "kill_task":
                return "airflow task killed" + (f" ({self.dag_id})" if self.dag_id else "")
            case "squeeze_pool":
                return f"airflow pool {self.pool} squeezed to {self.slots} slots"
            case "pause_dag":
                return f"airflow DAG {self.dag_id} paused"
            case "clear_runs":
                return f"airflow {self.runs} finished runs of {self.dag_id} cleared"
            case "break_connection":
                return f"airflow connection {self.connection_id} broken ({self.breaks})"
            case "break_dag":
                return f"airflow DAG {self.dag_id} broken (its file fails to import)"
            case "deploy_dag":
                return f"airflow DAG {self.dag_id} deployed from {self.dag_file}"
            case _:
                return f"airflow {self.component} {self.action}"

    @property
    def through_api(self) -> bool:
        """True for the actions done through the REST API (no process touched)."""
        return self.action in API_ACTIONS

    def needs(self) -> frozenset[Part]:
        """Airflow; its processes for process actions; a DAGs folder for DAG-file actions."""
        if self.action in ("break_dag", "deploy_dag"):
            return frozenset({"airflow", "dag_files"})
        if self.through_api:
            return frozenset({"airflow"})
        return frozenset({"airflow", "processes"})


JvmAction = Literal["memory_stress", "exception", "latency", "gc_pressure", "python_oom"]
#: A Java class or method name, dotted (``$`` for nested classes); nothing a rule could
#: be broken out of.
_JAVA_NAME = r"^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)+$"
#: Where a task's work starts on an executor: memory_stress and gc_pressure fire there.
TASK_START = "org.apache.spark.scheduler.Task.run"
#: Where a job starts on the driver.
JOB_START = "org.apache.spark.scheduler.DAGScheduler.submitJob"


class JvmFault(FaultSpecBase):
    """A Byteman rule in the JVMs of a running Spark application: the pipeline's own job.

    ``memory_stress`` fills the heap until ``OutOfMemoryError: Java heap space``
    (an executor exits 52); ``exception`` throws in a method; ``latency`` delays
    one; ``gc_pressure`` forces full collections at each call. The application is
    found by name (``app``, a glob: SparkSubmitOperator's ``name``) among the
    running ones, in its ``jvm``: executors (default), the driver, or both.
    ``python_oom`` is no Byteman rule: the executors' Python workers (PySpark UDFs,
    RDD functions) fill their declared memory and die, and Spark fails the task
    with "Python worker exited unexpectedly (crashed)".
    """

    kind: Literal["jvm"] = "jvm"
    action: JvmAction
    app: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"^[^\n]+$",
        description="glob over running Spark application names, e.g. my_dag-aggregate-*",
    )
    jvm: Literal["executor", "driver", "all"] = "executor"
    method: str | None = Field(
        None,
        pattern=_JAVA_NAME,
        max_length=300,
        description="Class.method the rule fires in (memory_stress/gc_pressure: a default)",
    )
    exception: str = Field("java.lang.RuntimeException", pattern=_JAVA_NAME, max_length=300)
    message: str = Field("dagstorm jvm fault", max_length=200, pattern=r'^[^"\\\n\r]*$')
    latency_ms: int = Field(0, ge=0, le=600_000)
    gc_count: int = Field(3, ge=1, le=100, description="gc_pressure: full collections a call")

    @model_validator(mode="after")
    def _needs(self) -> JvmFault:
        findings: list[tuple[tuple[str, ...], str]] = []
        if self.action in ("exception", "latency") and self.method is None:
            findings.append((("method",), f"action {self.action} needs a method (Class.method)"))
        if self.action == "latency" and self.latency_ms <= 0:
            findings.append((("latency_ms",), "action latency needs latency_ms > 0"))
        if self.action != "latency" and self.latency_ms:
            findings.append(
                (("latency_ms",), f"latency_ms is for action latency, not {self.action}")
            )
        if self.action == "memory_stress" and self.jvm != "executor":
            # An executor that OOMs exits (52) and its held heap goes with it; a
            # driver survives an OOM in a caller's thread and would keep it after revert.
            findings.append((("jvm",), "memory_stress is for executors (jvm: executor)"))
        if self.action == "python_oom":
            # No rule and no JVM method: the Python workers of executors take it.
            if self.method is not None:
                findings.append((("method",), "python_oom takes no method (no Byteman rule)"))
            if self.jvm != "executor":
                findings.append(
                    (("jvm",), "python_oom is for the executors' Python workers (jvm: executor)")
                )
        if self.action == "gc_pressure" and self.jvm == "all" and self.method is None:
            findings.append(
                (("method",), f"{self.action} on jvm all needs a method both run (no default)")
            )
        raise_all("JvmFault", findings)
        return self

    def rule_method(self) -> str:
        """The method the rule fires in: the one written, or where tasks (jobs) start."""
        if self.method is not None:
            return self.method
        return JOB_START if self.jvm == "driver" else TASK_START

    def describe(self) -> str:
        """Short description."""
        if self.action == "python_oom":
            return f"python worker oom (executors of {self.app})"
        detail = {
            "latency": f" {self.latency_ms} ms in {self.method}",
            "exception": f" {self.exception} in {self.method}",
        }.get(self.action, "")
        return f"jvm {self.action.replace('_', ' ')}{detail} ({self.jvm} of {self.app})"

    def needs(self) -> frozenset[Part]:
        """Spark, and its JVMs on this host (the agent listens on loopback only)."""
        return frozenset({"spark", "processes"})
