"""Spark's master, worker and history server prepare their config side by side.

The first `stack up` after an install starts the three daemons in parallel threads,
and each renders spark-defaults.conf, the Python-worker daemon and the Byteman java
launcher. A shared temporary name made one thread rename away the file another was
about to rename (FileNotFoundError: the CI run of stop 25 failed so at its first
`up`). Every write now goes through a temporary of its own.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from dagstorm.core.progress import Progress
from dagstorm.stack.config import StackConfig
from dagstorm.stack.embedded import pyworker
from dagstorm.stack.embedded.components.spark import render_spark_conf
from dagstorm.stack.embedded.context import StackContext

THREADS = 6
ROUNDS = 15


def _fresh_context(root: Path) -> StackContext:
    ctx = StackContext(config=StackConfig(state_dir=root), progress=Progress(quiet=True))
    ctx.layout.ensure()
    # An installed agent makes the stack write Spark's java launcher too.
    ctx.layout.byteman_jar.parent.mkdir(parents=True, exist_ok=True)
    ctx.layout.byteman_jar.write_bytes(b"PK")
    return ctx


def _render_side_by_side(ctx: StackContext) -> list[BaseException]:
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def render() -> None:
        start.wait()
        try:
            render_spark_conf(ctx)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=render) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_daemons_rendering_at_once_on_a_fresh_state_dir_all_succeed(tmp_path: Path) -> None:
    for round_ in range(ROUNDS):
        ctx = _fresh_context(tmp_path / f"state-{round_}")
        assert _render_side_by_side(ctx) == []

        conf = (ctx.layout.spark_conf_dir / "spark-defaults.conf").read_text()
        assert pyworker.installed(ctx.layout, conf)
        assert "spark.driver.extraJavaOptions" in conf  # the agent's lines, whole
        launcher = ctx.layout.spark_java_home / "bin" / "java"
        assert launcher.read_text().startswith("#!/bin/bash")
        assert os.access(launcher, os.X_OK)
        # No temporary is left behind beside what was written.
        for folder in (
            ctx.layout.spark_conf_dir,
            launcher.parent,
            pyworker.python_dir(ctx.layout),
        ):
            assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []


def test_a_second_render_changes_nothing(tmp_path: Path) -> None:
    ctx = _fresh_context(tmp_path / "state")
    render_spark_conf(ctx)
    conf = ctx.layout.spark_conf_dir / "spark-defaults.conf"
    launcher = ctx.layout.spark_java_home / "bin" / "java"
    before = (conf.read_bytes(), launcher.stat().st_ino)
    render_spark_conf(ctx)
    # The launcher a running JVM may be exec-ing is not replaced when it is unchanged.
    assert (conf.read_bytes(), launcher.stat().st_ino) == before
