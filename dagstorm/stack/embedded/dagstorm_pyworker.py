"""PySpark's Python-worker daemon with dagstorm's ``python_oom`` hook (docs/faults.md).

Spark starts it on each executor as ``python -m dagstorm_pyworker``
(``spark.python.daemon.module``): the stack copies this file to
``<state>/spark/python/`` and puts that directory on ``PYTHONPATH``. It is
PySpark's own daemon (``pyspark.daemon.manager``); the one thing added is a look,
in each forked worker before each task, for a marker file
``<DAGSTORM_PYTHON_FAULTS_DIR>/<application id>@<fault id>``. Only while one names
this executor's application does the worker fill its memory: it takes the whole
partition in (a UDF that materialises its input), allocates up to its declared
limit (``spark.executor.pyspark.memory``: PySpark's ``RLIMIT_AS``, or
:data:`FALLBACK_LIMIT_MB` if none is declared) until ``MemoryError``, and then ends
as the kernel's OOM killer ends a worker that outgrows its memory: SIGKILL. Spark
then fails the task with "Python worker exited unexpectedly (crashed)".

Self-contained (the standard library and PySpark only): it runs in the executors'
Python, which need not have dagstorm installed.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

#: The environment variable naming the marker directory (set by the stack).
FAULTS_ENV = "DAGSTORM_PYTHON_FAULTS_DIR"
#: Where the worker writes what it did before it dies (one JSON line per worker).
HITS_DIR = "hits"
#: The limit used when the application declares no ``spark.executor.pyspark.memory``.
FALLBACK_LIMIT_MB = 512
#: Allocated at a time while filling memory.
CHUNK_BYTES = 16 * 1024 * 1024
_READERS = ("read_command", "read_udfs", "read_udtf")


def app_id_of(cmdline: list[str]) -> str | None:
    """The ``--app-id`` of an executor's command line, else None."""
    for index, part in enumerate(cmdline[:-1]):
        if part == "--app-id":
            return cmdline[index + 1]
    return None


def _cmdline(pid: int) -> list[str]:
    with open(f"/proc/{pid}/cmdline", "rb") as handle:
        return [part.decode(errors="replace") for part in handle.read().split(b"\0")]


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as handle:
        return int(handle.read().rsplit(")", 1)[1].split()[1])


def executor_app_id(pid: int | None = None, *, depth: int = 4) -> str | None:
    """The application of the executor JVM this process descends from (None: not an executor's)."""
    current = os.getppid() if pid is None else pid
    for _ in range(depth):
        try:
            found = app_id_of(_cmdline(current))
            if found is not None:
                return found
            current = _parent(current)
        except (OSError, ValueError, IndexError):
            return None
        if current <= 1:
            return None
    return None


def active_markers(faults_dir: str | None, app_id: str | None) -> list[str]:
    """The marker files naming ``app_id`` in ``faults_dir`` (none without either)."""
    if not faults_dir or not app_id:
        return []
    try:
        names = os.listdir(faults_dir)
    except OSError:
        return []
    prefix = f"{app_id}@"
    return sorted(name for name in names if name.startswith(prefix))


def declared_limit_mb() -> int:
    """The worker's declared memory (``spark.executor.pyspark.memory``), else the fallback."""
    try:
        declared = int(os.environ.get("PYSPARK_EXECUTOR_MEMORY_MB", "-1"))
    except ValueError:
        declared = -1
    return declared if declared > 0 else FALLBACK_LIMIT_MB


def fill_memory(limit_mb: int) -> int:
    """Allocate (and touch) memory under an address-space limit until MemoryError; MiB held.

    PySpark has set ``RLIMIT_AS`` to the declared memory already when one is
    declared; otherwise it is set here, so the filling is bounded either way.
    """
    limit = limit_mb * 1024 * 1024
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY or soft > limit:
            new_hard = limit if hard == resource.RLIM_INFINITY or hard > limit else hard
            resource.setrlimit(resource.RLIMIT_AS, (min(limit, new_hard), new_hard))
    except (OSError, ValueError):
        pass  # the count below still bounds it
    held: list[bytearray] = []
    try:
        # MemoryError at the limit ends it; the count bounds it where no limit holds.
        for _ in range(limit // CHUNK_BYTES + 1):
            held.append(bytearray(CHUNK_BYTES))  # zero-filled: the pages are touched
    except MemoryError:
        pass
    mib = len(held) * CHUNK_BYTES // (1024 * 1024)
    del held
    return mib


def _record(faults_dir: str, markers: list[str], entry: dict[str, Any]) -> None:
    hits = os.path.join(faults_dir, HITS_DIR)
    line = (json.dumps(entry, sort_keys=True) + "\n").encode()
    for marker in markers:
        try:
            os.makedirs(hits, exist_ok=True)
            fd = os.open(os.path.join(hits, marker), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        except OSError:
            continue


def run_out_of_memory(faults_dir: str, app_id: str, markers: list[str]) -> None:
    """Fill memory up to the declared limit, say so, and die as the OOM killer kills: SIGKILL."""
    limit_mb = declared_limit_mb()
    mib = fill_memory(limit_mb)
    entry = {"pid": os.getpid(), "app_id": app_id, "mib": mib, "limit_mb": limit_mb}
    entry["wall"] = time.time()
    _record(faults_dir, markers, entry)
    sys.stderr.write(
        f"dagstorm python_oom: Python worker {os.getpid()} of {app_id} ran out of memory "
        f"after {mib} MiB (limit {limit_mb} MiB); killed ({', '.join(markers)})\n"
    )
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


class Hook:
    """The per-task look for a marker, for the executor application ``app_id``."""

    def __init__(self, faults_dir: str | None, app_id: str | None) -> None:
        self.faults_dir = faults_dir
        self.app_id = app_id

    def markers(self) -> list[str]:
        """The markers naming this application now."""
        return active_markers(self.faults_dir, self.app_id)

    def wrap_reader(self, read: Callable[..., Any]) -> Callable[..., Any]:
        """A ``pyspark.worker`` reader whose task function runs out of memory under a marker."""

        def reader(*args: Any, **kwargs: Any) -> Any:
            found = read(*args, **kwargs)
            if not (isinstance(found, tuple) and len(found) == 4):
                return found
            func, *rest = found

            def task(split_index: int, iterator: Any) -> Any:
                markers = self.markers()
                if markers and self.faults_dir and self.app_id:
                    partition = list(iterator)  # the whole input in, as a greedy UDF does
                    run_out_of_memory(self.faults_dir, self.app_id, markers)
                    del partition  # pragma: no cover - the process is gone
                return func(split_index, iterator)

            return (task, *rest)

        return reader

    def arm(self) -> None:
        """Wrap ``pyspark.worker``'s readers (in this forked worker, once)."""
        # Imported after the fork, as PySpark's daemon does (it may start threads).
        from pyspark import worker as worker_module  # noqa: PLC0415

        if getattr(worker_module, "_dagstorm_hook", False):
            return
        for name in _READERS:
            read = getattr(worker_module, name, None)
            if read is not None:
                setattr(worker_module, name, self.wrap_reader(read))
        worker_module._dagstorm_hook = True  # type: ignore[attr-defined]


def install(hook: Hook) -> None:
    """Put the look into PySpark's daemon: before each task of each forked worker."""
    # On use: the stack imports this module for its path and names, without PySpark.
    from pyspark import daemon  # noqa: PLC0415

    original = daemon.worker

    def worker(sock: Any, authenticated: bool) -> int:
        if hook.markers():
            hook.arm()  # after the fork: pyspark.worker is imported in the child, as PySpark does
        return original(sock, authenticated)

    daemon.worker = worker


def main() -> None:
    """Run PySpark's daemon with the hook for this executor's application."""
    install(Hook(os.environ.get(FAULTS_ENV), executor_app_id()))
    from pyspark import daemon  # noqa: PLC0415

    daemon.manager()


if __name__ == "__main__":
    main()
