"""Which JVMs a ``jvm`` fault acts on: the running applications it names, their JVMs.

Applications come from the Spark master's REST answer (``/json/``: the running
ones, ``activeapps``), matched by name with a glob. Their JVMs are found on this
host: an executor names its application (``--app-id``) and its driver's RPC
address (``--driver-url``) on its command line; the driver is the JVM listening
on that address (or, before any executor runs, the ``spark-submit`` JVM started
``--name`` the application). Only JVMs that load the stack's Byteman agent jar
get a port (and a rule), so nothing outside the stack is touched. Evidence of an
executor's end comes from the driver's (or the history server's) REST API.
"""

from __future__ import annotations

import contextlib
import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import psutil

from dagstorm.core.boot_clock import alive_since, started_since_boot
from dagstorm.core.errors import FaultError
from dagstorm.stack.embedded.byteman import AGENT_PORTS

EXECUTOR_CLASS = "org.apache.spark.executor.CoarseGrainedExecutorBackend"
SUBMIT_CLASS = "org.apache.spark.deploy.SparkSubmit"
_DRIVER_URL = re.compile(r"@[^:/]+:(\d+)$")
_LOOPBACK = ("127.0.0.1", "::ffff:127.0.0.1")
Role = Literal["executor", "driver"]
_UI_PORTS = range(4040, 4200)


@dataclass(frozen=True)
class SparkApp:
    """A running application, as the master lists it."""

    app_id: str
    name: str


@dataclass(frozen=True)
class TargetJvm:
    """One JVM of a target application, and where its agent listens (None: no agent)."""

    pid: int
    #: Seconds from boot to the JVM's start (steps of the wall clock never move it).
    started: float
    role: Role
    app_id: str
    executor_id: str | None
    port: int | None

    @property
    def key(self) -> str:
        """Identity across pid reuse: pid and start time."""
        return f"{self.pid}@{self.started:.2f}"


def running_apps(master_ui: str, *, client: httpx.Client | None = None) -> list[SparkApp]:
    """The master's running applications (``/json/`` ``activeapps``)."""
    http = client or httpx.Client(timeout=5.0)
    try:
        state = http.get(f"{master_ui.rstrip('/')}/json/").json()
    except (httpx.HTTPError, ValueError) as exc:
        raise FaultError(
            f"the Spark master does not answer ({exc.__class__.__name__})",
            where=f"{master_ui}/json/",
            fix="`dagstorm stack status`",
        ) from None
    finally:
        if client is None:
            http.close()
    return apps_of(state)


def apps_of(state: dict[str, Any]) -> list[SparkApp]:
    """``activeapps`` of a master's ``/json/`` document."""
    return [
        SparkApp(str(app["id"]), str(app.get("name", "")))
        for app in state.get("activeapps", [])
        if app.get("id") and app.get("state", "RUNNING") in ("RUNNING", "WAITING")
    ]


def matching(apps: Iterable[SparkApp], pattern: str) -> list[SparkApp]:
    """The applications whose name matches the glob ``pattern``."""
    return [app for app in apps if fnmatch.fnmatchcase(app.name, pattern)]


def _option(cmdline: Sequence[str], name: str) -> str | None:
    for index, part in enumerate(cmdline[:-1]):
        if part == name:
            return cmdline[index + 1]
    return None


def executor_of(cmdline: Sequence[str]) -> tuple[str, str, int | None] | None:
    """(app id, executor id, driver RPC port) of an executor's command line, else None."""
    if EXECUTOR_CLASS not in cmdline:
        return None
    app_id = _option(cmdline, "--app-id")
    executor_id = _option(cmdline, "--executor-id")
    if app_id is None or executor_id is None:
        return None
    url = _option(cmdline, "--driver-url") or ""
    match = _DRIVER_URL.search(url)
    return app_id, executor_id, int(match.group(1)) if match else None


def submitted_name(cmdline: Sequence[str]) -> str | None:
    """The ``--name`` a ``spark-submit`` JVM was started with, else None."""
    if SUBMIT_CLASS not in cmdline:
        return None
    return _option(cmdline, "--name")


def loads_agent(cmdline: Sequence[str], agent_jar: str) -> bool:
    """Whether the JVM was started with the stack's Byteman agent."""
    return any(part.startswith(f"-javaagent:{agent_jar}=") for part in cmdline)


def agent_port(listening: Iterable[tuple[str, int]]) -> int | None:
    """The agent's port among a JVM's listening (ip, port) pairs: loopback, in range."""
    ports = sorted(port for ip, port in listening if ip in _LOOPBACK and port in AGENT_PORTS)
    return ports[0] if ports else None


def _listening(proc: psutil.Process) -> list[tuple[str, int]]:
    with contextlib.suppress(psutil.Error):
        return [
            (c.laddr.ip, c.laddr.port)
            for c in proc.net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN
        ]
    return []


def find_jvms(apps: Sequence[SparkApp], agent_jar: str, roles: frozenset[Role]) -> list[TargetJvm]:
    """The JVMs on this host of ``apps`` (in ``roles``).

    A JVM started without the stack's agent is listed with ``port`` None (so a
    fault can say why it loads nothing); only those with the agent get a port.
    """
    wanted = {app.app_id: app for app in apps}
    by_name = {app.name: app for app in apps}
    executors: list[tuple[psutil.Process, str, str, int | None, bool]] = []
    submits: list[tuple[psutil.Process, str, bool]] = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = proc.info.get("cmdline") or []
        agent = loads_agent(cmdline, agent_jar)
        found = executor_of(cmdline)
        if found is not None and found[0] in wanted:
            executors.append((proc, *found, agent))
            continue
        name = submitted_name(cmdline)
        if name is not None:
            submits.append((proc, name, agent))
    out: list[TargetJvm] = []
    driver_ports = {app_id: port for _, app_id, _, port, _ in executors if port is not None}
    if "executor" in roles:
        for proc, app_id, executor_id, _, agent in executors:
            out.append(_target(proc, "executor", app_id, executor_id, None if agent else []))
    if "driver" in roles:
        for proc, name, agent in submits:
            listening = _listening(proc)
            ports = {port for _, port in listening}
            owner = next((a for a, p in driver_ports.items() if p in ports), None)
            if owner is None and name in by_name:
                owner = by_name[name].app_id
            if owner is not None:
                out.append(_target(proc, "driver", owner, None, listening if agent else []))
    return out


def _target(
    proc: psutil.Process,
    role: Role,
    app_id: str,
    executor_id: str | None,
    listening: list[tuple[str, int]] | None = None,
) -> TargetJvm:
    return TargetJvm(
        pid=proc.pid,
        started=started_since_boot(proc.pid) or 0.0,
        role=role,
        app_id=app_id,
        executor_id=executor_id,
        port=agent_port(listening if listening is not None else _listening(proc)),
    )


def still_running(pid: int, started: float) -> psutil.Process | None:
    """The process, if ``pid`` is still the JVM that started ``started`` s after boot."""
    if not alive_since(pid, started):
        return None
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


def recorded_still_running(entry: Mapping[str, Any]) -> psutil.Process | None:
    """The JVM of a fault's record entry, if it still runs (see :func:`still_running`).

    Entries written before the start was counted from boot hold only the wall-clock
    ``create_time``: those are compared as they were.
    """
    pid = int(entry["pid"])
    if entry.get("started") is not None:
        return still_running(pid, float(entry["started"]))
    try:
        proc = psutil.Process(pid)
        if abs(proc.create_time() - float(entry.get("create_time", 0.0))) > 0.05:
            return None
        return None if proc.status() == psutil.STATUS_ZOMBIE else proc
    except psutil.Error:
        return None


def oom_exits(executors: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Executors of a REST ``allexecutors`` answer removed by heap OOM (exit code 52)."""
    return [
        e
        for e in executors
        if e.get("id") != "driver"
        and not e.get("isActive", True)
        and (
            "code 52" in str(e.get("removeReason", ""))
            or "OutOfMemory" in str(e.get("removeReason", ""))
        )
    ]


def rest_executors(base_urls: Sequence[str], app_id: str) -> list[dict[str, Any]] | None:
    """``allexecutors`` of ``app_id`` from the first REST API that knows it."""
    for base in base_urls:
        with contextlib.suppress(httpx.HTTPError, ValueError):
            response = httpx.get(
                f"{base.rstrip('/')}/api/v1/applications/{app_id}/allexecutors", timeout=3.0
            )
            if response.status_code == 200:
                body = response.json()
                if isinstance(body, list):
                    return body
    return None


def driver_ui(pid: int) -> str | None:
    """The REST base of the driver JVM ``pid`` (the listening port answering as Spark's UI)."""
    try:
        proc = psutil.Process(pid)
    except psutil.Error:
        return None
    # Spark's UI ports (4040 up) first: the others speak Spark's RPC, not HTTP.
    for ip, port in sorted(_listening(proc), key=lambda pair: (pair[1] not in _UI_PORTS, pair)):
        if port in AGENT_PORTS or ip not in (*_LOOPBACK, "0.0.0.0", "::"):
            continue
        base = f"http://127.0.0.1:{port}"
        with contextlib.suppress(httpx.HTTPError, ValueError):
            response = httpx.get(f"{base}/api/v1/applications", timeout=1.0)
            if response.status_code == 200 and isinstance(response.json(), list):
                return base
    return None
