"""The ``jvm`` fault: a Byteman rule in the JVMs of the pipeline's own Spark application.

Inject waits (≤ :data:`~.watching.WAIT_S`) for a running application whose name
matches, loads the rule into its JVMs, and keeps doing so from a background thread
for every JVM of a matching application that starts while the fault holds: the
executor Spark starts after an OOM, the next application of an Airflow retry
(:class:`~.watching.AppWatchingFault`).
Each JVM is written to ``<faults dir>/jvm-<fault id>.jsonl`` (fsync'd) *before*
its rule is loaded, so a revert — or `dagstorm recover` after a SIGKILL — knows
every JVM that may hold the rule and deletes it there by name.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from dagstorm.core.errors import FaultError
from dagstorm.faults.jvm import targets, watching
from dagstorm.faults.jvm.agent import AgentClient
from dagstorm.faults.jvm.rules import Rule, build_rule
from dagstorm.faults.jvm.watching import AppWatchingFault
from dagstorm.stack.embedded.components.spark import byteman_loaded
from dagstorm.stack.embedded.context import StackContext

NOT_LOADED_FIX = (
    "`dagstorm stack install` (it fetches the agent), then restart the stack "
    "(`dagstorm stack down && dagstorm stack up`) so Spark's JVMs load it"
)


class JvmRuleFault(AppWatchingFault):
    """Load a Byteman rule into a running application's JVMs; delete it on revert."""

    thread_prefix = "jvm-fault"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rule: Rule = build_rule(self.fault_id, self.spec)
        self._seen: set[str] = set()
        self._loaded: list[targets.TargetJvm] = []
        self._without_agent: set[str] = set()

    # -- where --------------------------------------------------------------------------

    def _embedded(self) -> StackContext:
        if self.ctx.embedded is None:
            raise FaultError(
                "jvm faults need the Byteman agent in the Spark JVMs and dagstorm on their "
                "host (the agent listens on loopback only); this stack is not embedded",
                where=f"stack kind {self.ctx.stack.kind}",
                fix="load the agent into your Spark (docs/faults.md, JVM faults) and run "
                "dagstorm on that host, or use a network or spark fault",
            )
        return self.ctx.embedded

    @property
    def record_path(self) -> Path:
        """Every JVM the rule was (or was about to be) loaded into, one JSON line each."""
        return self.ctx.journal.path.parent / f"jvm-{self.fault_id}.jsonl"

    def _roles(self) -> frozenset[targets.Role]:
        if self.spec.jvm == "all":
            return frozenset({"executor", "driver"})
        return frozenset({self.spec.jvm})

    def check_targets(self) -> None:
        """The embedded stack, with Spark declared and the Byteman agent installed."""
        embedded = self._embedded()
        if "spark-worker" not in self.ctx.stack.components:
            raise FaultError("spark-worker is not a declared fault target")
        if not byteman_loaded(embedded):
            raise FaultError(
                "the Byteman agent is not loaded into this stack's Spark JVMs",
                where=str(embedded.layout.byteman_jar),
                fix=NOT_LOADED_FIX,
            )
        self._master_ui()

    # -- inject -------------------------------------------------------------------------

    def _record(self, jvm: targets.TargetJvm) -> None:
        entry = {
            "pid": jvm.pid,
            "started": jvm.started,
            "port": jvm.port,
            "role": jvm.role,
            "app_id": jvm.app_id,
            "executor_id": jvm.executor_id,
            "rule": self.rule.name,
            "wall": time.time(),
        }
        self.record_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.record_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (json.dumps(entry, sort_keys=True) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def scan(self) -> int:
        """Load the rule into every new JVM of the matching applications; how many now."""
        apps = targets.matching(targets.running_apps(self._master_ui()), self.spec.app)
        jar = str(self._embedded().layout.byteman_jar)
        loaded = 0
        for jvm in targets.find_jvms(apps, jar, self._roles()):
            with self._lock:
                if jvm.key in self._seen or self._stop.is_set():
                    continue
                if jvm.port is None:
                    self._without_agent.add(jvm.key)
                    continue
                self._seen.add(jvm.key)
                self._apps[jvm.app_id] = next(a.name for a in apps if a.app_id == jvm.app_id)
                self._record(jvm)
            try:
                AgentClient(jvm.port).load(self.rule.name, self.rule.text)
            except FaultError as exc:
                self.errors.append(exc.render())
                continue
            with self._lock:
                self._loaded.append(jvm)
            loaded += 1
        return loaded

    def inject(self) -> dict[str, Any]:
        """Wait for the application, load the rule, keep loading it into new JVMs."""
        took = self._first_then_watch(self._nothing_loaded)
        with self._lock:
            return {
                "rule": self.rule.name,
                "apps": dict(self._apps),
                "jvms": [f"{j.role} pid {j.pid} :{j.port}" for j in self._loaded],
                "record": str(self.record_path),
                "first_load_s": round(took, 3),
            }

    def _nothing_loaded(self) -> FaultError:
        if self._without_agent:
            return FaultError(
                f"the JVMs of the Spark application `{self.spec.app}` have no Byteman agent "
                "listening (started before the stack loaded it, or its port was taken)",
                fix=NOT_LOADED_FIX,
            )
        if self.errors:
            return FaultError(f"the rule could not be loaded: {self.errors[-1]}")
        return FaultError(
            f"no running Spark application named `{self.spec.app}` with {self.spec.jvm} JVMs "
            f"on this host within {watching.WAIT_S:.0f} s",
            fix="inject while the pipeline's Spark job runs (its SparkSubmitOperator `name`)",
        )

    # -- verify -------------------------------------------------------------------------

    def verify(self) -> str:
        """memory_stress: an executor lost with exit 52; the others: the rule listed."""
        if self.spec.action == "memory_stress":
            return self._oom_evidence()
        with self._lock:
            loaded = list(self._loaded)
        listed = [j for j in loaded if self._lists_rule(j)]
        if not listed:
            raise FaultError(f"no target JVM lists rule `{self.rule.name}`")
        pids = ", ".join(f"{j.role} pid {j.pid}" for j in listed[:4])
        return f"rule `{self.rule.name}` loaded in {len(listed)} JVM(s) ({pids})"

    def _lists_rule(self, jvm: targets.TargetJvm) -> bool:
        if jvm.port is None or targets.still_running(jvm.pid, jvm.started) is None:
            return False
        try:
            return self.rule.name in AgentClient(jvm.port).rules()
        except FaultError:
            return False

    def _rest_bases_of(self, app_id: str) -> list[str]:
        return self._rest_bases(app_id, str(self._embedded().layout.byteman_jar))

    def _oom_evidence(self) -> str:
        def lost(app_id: str, bases: list[str]) -> str | None:
            # Only an executor this fault loaded its rule into: an earlier fault's OOM of the
            # same application (its executor 0, say) is not this one's evidence.
            with self._lock:
                mine = {j.executor_id for j in self._loaded if j.app_id == app_id}
            executors = targets.rest_executors(bases, app_id) or []
            for executor in targets.oom_exits(executors):
                if str(executor.get("id")) not in mine:
                    continue
                reason = str(executor.get("removeReason", ""))[:160]
                return f"executor {executor.get('id')} of {app_id} lost: {reason}"
            return None

        found = self._evidence_of_apps(lost)
        if found is None:
            raise FaultError(
                f"no executor of `{self.spec.app}` was seen lost with exit code 52 "
                f"within {watching.WAIT_S:.0f} s",
                fix=f"the rule fires at {self.spec.rule_method()}: does the job still start tasks?",
            )
        return found

    # -- revert -------------------------------------------------------------------------

    def recorded(self) -> list[dict[str, Any]]:
        """The JVMs written to the record (a torn last line is skipped)."""
        try:
            lines = self.record_path.read_text().splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def revert(self) -> None:
        """Delete the rule in every recorded JVM still running (a dead one holds nothing)."""
        self.stop()
        failures: list[str] = []
        for entry in self.recorded():
            port = entry.get("port")
            if not isinstance(port, int):
                continue
            if targets.recorded_still_running(entry) is None:
                continue
            agent = AgentClient(port)
            try:
                agent.delete([str(entry.get("rule", self.rule.name))])
                if self.rule.name in agent.rules():
                    failures.append(f"pid {entry['pid']}: rule still listed after delete")
            except FaultError as exc:
                failures.append(f"pid {entry['pid']}: {exc.what}")
        if failures:
            raise FaultError(
                f"rule `{self.rule.name}` could not be deleted everywhere: {'; '.join(failures)}",
                fix="run `dagstorm recover` again; a JVM that ends drops its rules",
            )
