"""The Byteman agent in the embedded Spark's JVMs (the ``jvm`` faults' way in).

Byteman's agent listens for rules on one TCP port, and refuses port 0
(``Invalid port specified``), so every JVM on this host needs a port of its own:
two executors of two applications, or two drivers, on one fixed port would leave
the second without a listener. Spark's ``extraJavaOptions`` are one string for all
of them, so the string carries a placeholder (:data:`PORT_PLACEHOLDER`) and the
``java`` Spark's JVMs start with (``<state>/spark/java/bin/java``, their
JAVA_HOME) puts in a free loopback port of :data:`AGENT_PORTS`, starting at one
derived from the JVM's pid. A JVM's agent is found again by its pid: its
listening socket in that range (:func:`dagstorm.faults.jvm.targets.agent_port`).
docs/faults.md ("JVM faults") says why this design and not another.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from dagstorm.core.atomic import atomic_write

#: The loopback ports the agents listen on (below Linux's ephemeral range, 32768+).
AGENT_PORTS = range(29100, 29900)
#: Written in the agent's options where the per-JVM port goes.
PORT_PLACEHOLDER = "@BYTEMAN_PORT@"
#: The Maven coordinates resolved at install time (stack/byteman/artifacts.txt).
ARTIFACTS_FILE = Path("byteman") / "artifacts.txt"


def artifacts(recipes: Path) -> list[str]:
    """``groupId:artifactId:version`` lines of the recipe (comments skipped)."""
    text = (recipes / ARTIFACTS_FILE).read_text()
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def agent_option(jar: Path) -> str:
    """The ``-javaagent`` option: listener on 127.0.0.1 only, the port filled in per JVM."""
    return f"-javaagent:{jar}=boot:{jar},listener:true,address:127.0.0.1,port:{PORT_PLACEHOLDER}"


def spark_conf_lines(jar: Path) -> list[str]:
    """spark-defaults.conf lines that load the agent into drivers and executors."""
    option = agent_option(jar)
    return [
        "# The Byteman agent for `jvm` faults (docs/faults.md): loopback only, a port per JVM.",
        f"spark.driver.extraJavaOptions   {option}",
        f"spark.executor.extraJavaOptions {option}",
    ]


def java_launcher(real_java: Path) -> str:
    """The ``bin/java`` of Spark's JAVA_HOME: the real java, with the agent's port filled in.

    A JVM whose arguments carry no placeholder is started unchanged. The first
    port tried is derived from the pid (which ``exec`` keeps for the JVM), the
    next ones until one answers no connection; the agent's listener binds it a
    moment later (a race lost to another process leaves that JVM without a
    listener, which the ``jvm`` fault reports; the JVM itself runs on).
    """
    first, count = AGENT_PORTS.start, len(AGENT_PORTS)
    return f"""#!/bin/bash
# Written by dagstorm's embedded stack: the java of Spark's JVMs (docs/faults.md, JVM faults).
real={shlex.quote(str(real_java))}
case " $* " in
  *{PORT_PLACEHOLDER}*) ;;
  *) exec "$real" "$@" ;;
esac
port=$(( {first} + $$ % {count} ))
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
  port=$(( {first} + (port - {first} + 1) % {count} ))
done
args=()
for arg in "$@"; do args+=("${{arg//{PORT_PLACEHOLDER}/$port}}"); done
exec "$real" "${{args[@]}}"
"""


def write_java_home(java_home: Path, real_java_home: Path) -> Path:
    """Write the launcher as ``<java_home>/bin/java``; the JAVA_HOME to give Spark."""
    bin_dir = java_home / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    launcher = bin_dir / "java"
    text = java_launcher(real_java_home / "bin" / "java")
    if not launcher.exists() or launcher.read_text() != text:
        # Spark's daemons render their config side by side: a temporary of its own each.
        atomic_write(launcher, text, mode=0o755)
    return java_home
