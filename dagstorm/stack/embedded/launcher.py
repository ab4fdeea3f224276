"""The embedded stack: start, probe and stop every component on 127.0.0.1.

`up` starts each component as soon as the ones it depends on are healthy (so
independent JVMs start side by side), waits for each one's real health signal,
and, if any fails, stops again whatever it started. `up` on a running stack
starts nothing. `down` stops only processes that are provably ours, in reverse
dependency order, gracefully and then forcefully.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from dagstorm.core.errors import ComponentStartError, DagstormError, InstallError
from dagstorm.core.polling import poll_until
from dagstorm.stack.embedded.catalogue import build_components, component_of, ports_of
from dagstorm.stack.embedded.components.base import Component, Health
from dagstorm.stack.embedded.components.toxiproxy import Toxiproxy
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.embedded.hosts.lifecycle import tear_down
from dagstorm.stack.embedded.hosts.registry import read_registry
from dagstorm.stack.embedded.install import Installer
from dagstorm.stack.embedded.layout import project_root
from dagstorm.stack.embedded.ports import check_free
from dagstorm.stack.embedded.processes import exit_code_of, process_of, stop, sweep, tail
from dagstorm.stack.embedded.status import ComponentStatus, component_status
from dagstorm.stack.profile_deploy import deploy_profile, stack_profiles
from dagstorm.stack.topology import WORKER_PREFIX

#: dagstorm's check DAG (CeleryExecutor stacks: where does a task run?).
CHECK_DAG_FILE = project_root() / "stack" / "airflow" / "dags" / "dagstorm_stack_check.py"


class FirstFailure:
    """The first component of a parallel `up` that failed, and the error it failed with.

    Components start side by side; when one fails, the others stop waiting and end
    with an "aborted" error of their own. The error worth raising is the first one,
    not whichever comes first in start order (that was often a bystander's
    "aborted"). Behaves like the :class:`threading.Event` the waits block on.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self.component: str | None = None
        self.error: BaseException | None = None

    def record(self, component: str, error: BaseException) -> None:
        """Note that ``component`` failed with ``error`` (only the first one is kept)."""
        with self._lock:
            if self.error is None:
                self.component, self.error = component, error
        self._event.set()

    def is_set(self) -> bool:
        """True once any component failed."""
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a component fails or ``timeout`` passes; True if one failed."""
        return self._event.wait(timeout)


class EmbeddedStack:
    """The embedded stack of one state directory."""

    def __init__(self, ctx: StackContext) -> None:
        self.ctx = ctx
        self.components: dict[str, Component] = build_components(ctx)
        #: Start order; `down` walks it backwards.
        self.order: tuple[str, ...] = tuple(self.components)
        #: Every component this object started, in order (a name twice if started twice).
        self.started: list[str] = []

    # -- up -----------------------------------------------------------------------------

    def up(self, *, deploy: bool = True, roll_back: bool = True) -> list[ComponentStatus]:
        """Start whatever is not running and wait until every component is healthy.

        Then deploy the stack's pipeline profiles, unless ``deploy`` is false (a fault's
        revert or `recover` restarting a component: what was deployed is still there,
        and `recover` deploys once itself when it started anything).

        If a component does not come up, what this call started is stopped again,
        unless ``roll_back`` is false: `recover` heals in passes and keeps the
        components that did come up (a component started, stopped and started again
        would be a restart nobody asked for).
        """
        installer = Installer(self.ctx)
        if not installer.is_installed():
            raise InstallError(
                "the embedded stack is not installed (or its recipes changed)",
                where=str(self.ctx.layout.root),
                fix="run `dagstorm stack install`",
            )
        self.ctx.layout.ensure()
        self._settle_executor()
        running = {name for name, comp in self.components.items() if comp.running()}
        to_start = [name for name in self.order if name not in running]
        ports = self.ctx.config.ports.model_dump()
        check_free({p: ports[p] for name in to_start for p in ports_of(self.ctx, name)})

        started: list[str] = []
        lock = threading.Lock()
        failed = FirstFailure()
        futures: dict[str, Future[None]] = {}

        def bring_up(name: str) -> None:
            comp = self.components[name]
            for dep in comp.depends_on:
                futures[dep].result()
            if failed.is_set():
                return
            if name in running:
                self._wait_healthy(comp, failed, already_running=True)
                if comp.reconcile_when_running:  # e.g. proxies a new stack config adds
                    comp.after_start()
                return
            with self.ctx.progress.step(f"start {name}"):
                comp.prepare()
                comp.start()
                with lock:
                    started.append(name)
                    self.started.append(name)
                self._wait_healthy(comp, failed)
                comp.after_start()

        with ThreadPoolExecutor(max_workers=len(self.order), thread_name_prefix="up") as pool:
            for name in self.order:
                futures[name] = pool.submit(self._guard, bring_up, name, failed)
            for future in futures.values():
                future.exception()  # every thread has ended: nothing of ours starts later
        first = failed.error
        if first is not None:
            if started and roll_back:
                with self.ctx.progress.step("stop what did start"):
                    self._stop(list(reversed([n for n in self.order if n in started])))
            if isinstance(first, DagstormError):
                raise first
            name = failed.component or "stack"
            raise ComponentStartError(name, f"{first.__class__.__name__}: {first}") from first
        self._executor_file.write_text(self._executor_setting())
        if deploy:
            self.deploy()
        return self.status()

    @property
    def _executor_file(self) -> Path:
        return self.ctx.layout.run_dir / "airflow-executor"

    def _executor_setting(self) -> str:
        config = self.ctx.config
        timeout = config.airflow.task_heartbeat_timeout_s
        heartbeat = "" if timeout is None else f" task_heartbeat_timeout={timeout}s"
        if config.airflow.executor == "local":
            return f"local{heartbeat}"
        celery = config.celery
        hosts = " worker_hosts" if celery.worker_hosts else ""
        return f"celery workers={celery.workers} concurrency={celery.concurrency}{hosts}{heartbeat}"

    def _settle_executor(self) -> None:
        """Stop Airflow (and Celery) when they run with another executor setting.

        A stack switched from ``local`` to ``celery`` (or to other Celery sizes) must
        not keep a scheduler that queues to the wrong place: its Airflow processes,
        Redis and workers stop here and :meth:`up` starts them as configured.
        """
        try:
            was = self._executor_file.read_text().strip()
        except OSError:
            return
        now = self._executor_setting()
        if was == now:
            return
        moved = [
            n
            for n in self._every_known()
            if n == "redis" or n.startswith("airflow-")
            if self._component(n).running() is not None
        ]
        if moved:
            self.ctx.progress.info(f"Airflow ran with `{was}`, the stack config says `{now}`")
            with self.ctx.progress.step("stop Airflow to switch its executor"):
                self._stop(list(reversed(moved)))
        self._remove_hosts()  # made again by the workers that are to run in hosts
        self._executor_file.unlink(missing_ok=True)

    def _remove_hosts(self) -> list[str]:
        """Remove every worker host of this stack (and its proxies); the namespaces."""
        if not read_registry(self.ctx.layout.root):
            return []
        toxiproxy = Toxiproxy(self.ctx)
        if toxiproxy.running() is None:
            removed = tear_down(self.ctx.layout.root, None)
        else:
            with toxiproxy.client() as client:
                removed = tear_down(self.ctx.layout.root, client)
        if removed:
            self.ctx.progress.info(f"removed worker host(s): {', '.join(removed)}")
        return removed

    def deploy(self) -> list[str]:
        """Deploy the stack's pipeline profiles onto the running stack (idempotent).

        A CeleryExecutor stack also gets dagstorm's check DAG (`stack check` runs it to
        see a task on a worker); a LocalExecutor stack has it removed. Returns the names
        of the profiles deployed (none when the stack reads a DAGs folder of its own).
        """
        check = self.ctx.dags_folder / CHECK_DAG_FILE.name
        if self.ctx.config.airflow.executor == "celery":
            if not check.exists() or check.read_bytes() != CHECK_DAG_FILE.read_bytes():
                shutil.copyfile(CHECK_DAG_FILE, check)
        else:
            check.unlink(missing_ok=True)
        names = []
        for loaded in stack_profiles(self.ctx):
            with self.ctx.progress.step(f"deploy pipeline {loaded.profile.name}"):
                deploy_profile(self.ctx, loaded)
            names.append(loaded.profile.name)
        return names

    @staticmethod
    def _guard(fn: Callable[[str], None], name: str, failed: FirstFailure) -> None:
        try:
            fn(name)
        except BaseException as exc:
            failed.record(name, exc)
            raise

    def _wait_healthy(
        self,
        comp: Component,
        failed: FirstFailure,
        *,
        already_running: bool = False,
    ) -> None:
        health = Health(False, "not probed yet")

        def healthy() -> bool | None:
            nonlocal health
            if failed.is_set():
                return False
            health = comp.health()
            if health.ok:
                return True
            record = comp.record()
            if record is not None and process_of(record) is None:
                code = exit_code_of(record.pid)
                cause = f"process exited (code {code})" if code is not None else "process exited"
                raise ComponentStartError(
                    comp.name,
                    cause,
                    log_path=comp.log_path,
                    log_tail=tail(self.ctx.layout.log(comp.name)),
                    fix=f"see `dagstorm stack logs {comp.name}`",
                )
            return None

        if poll_until(healthy, timeout=comp.start_timeout, interval=0.5, wait=failed.wait):
            return
        if failed.is_set():
            raise ComponentStartError(comp.name, f"aborted: {failed.component} failed")
        what = "running but unhealthy" if already_running else "not healthy"
        raise ComponentStartError(
            comp.name,
            f"{what} after {comp.start_timeout:.0f} s ({health.detail})",
            log_path=comp.log_path,
            log_tail=tail(self.ctx.layout.log(comp.name)),
            fix=f"see `dagstorm stack logs {comp.name}`; `stack down` then `stack up` restarts it",
        )

    # -- down ---------------------------------------------------------------------------

    def down(self) -> list[tuple[str, str]]:
        """Stop every component of ours, in reverse order; returns (name, outcome).

        Worker hosts (network namespaces) go too, also those a crashed dagstorm left.
        """
        outcome = self._stop(list(reversed(self._every_known())))
        removed = self._remove_hosts()
        if removed:
            outcome.append(("worker hosts", f"{len(removed)} removed"))
        strays = sweep(self.ctx.marker)
        if strays:
            self.ctx.progress.info(f"stopped {strays} stray process(es) of this stack")
            outcome.append(("strays", f"{strays} stopped"))
        return outcome

    def stop_components(self, names: Sequence[str]) -> None:
        """Stop these components (in reverse start order); :meth:`up` starts them again."""
        self._stop([n for n in reversed(self.order) if n in names])

    def stop_unhealthy(self) -> list[str]:
        """Stop every component that runs but fails its health check; their names.

        For a process alive but wedged: after an airflow-db outage, Airflow's
        scheduler can stay up with its loop dead (it logs the DB error, then waits
        forever "for running tasks to finish"). :meth:`up` then starts it anew.
        """
        wedged: list[str] = [
            name
            for name in self.order
            if self.components[name].running() is not None and not self.components[name].health().ok
        ]
        self._stop(list(reversed(wedged)))
        return list(wedged)

    def _every_known(self) -> list[str]:
        """The config's components, then any other component with a pid file here.

        A stack started with more Celery workers, or with CeleryExecutor before a
        switch to LocalExecutor, still stops whole: ``down`` reads the pid files.
        """
        known = list(self.order)
        for pid_file in sorted(self.ctx.layout.run_dir.glob("*.pid")):
            name = pid_file.name.removesuffix(".pid")
            if name not in known and (name == "redis" or name.startswith(WORKER_PREFIX)):
                known.insert(self._slot_for(name, known), name)
        return known

    @staticmethod
    def _slot_for(name: str, known: list[str]) -> int:
        anchor = "toxiproxy" if name == "redis" else "airflow-scheduler"
        return known.index(anchor) + 1 if anchor in known else len(known)

    def _component(self, name: str) -> Component:
        """The config's component, or one a differently configured stack left running."""
        return self.components.get(name) or component_of(self.ctx, name)

    def _stop(self, names: list[str]) -> list[tuple[str, str]]:
        outcome: list[tuple[str, str]] = []
        for name in names:
            comp = self._component(name)
            record = comp.record()
            if record is None:
                outcome.append((name, "not running"))
                continue
            result = stop(record, graceful=comp.stop_signal, timeout=comp.stop_timeout)
            self.ctx.layout.pid_file(name).unlink(missing_ok=True)
            outcome.append((name, result))
            if result != "not running":
                self.ctx.progress.info(f"{name}: {result}")
        return outcome

    # -- status -------------------------------------------------------------------------

    def status(self) -> list[ComponentStatus]:
        """State, pid, version, URL and RSS of every component."""
        return [component_status(name, comp) for name, comp in self.components.items()]
