"""python_oom with a real PySpark: the stack's daemon in a private ``local-cluster`` Spark.

One session (a master, a worker and an executor JVM of its own, on loopback, in
a subprocess with a deadline) runs the same Python jobs without a marker, with
one naming its application, and after the marker is gone: only the middle ones
fail, and with Spark's "Python worker exited unexpectedly (crashed)", which the
fault's evidence reader finds in the driver's REST answer.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dagstorm.core.progress import Progress
from dagstorm.faults.jvm.python_oom import SIGNATURE, python_crashes
from dagstorm.stack.config import StackConfig
from dagstorm.stack.embedded import pyworker
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.embedded.ports import free_port

pyspark = pytest.importorskip("pyspark")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("JAVA_HOME") and shutil.which("java") is None,
        reason="a local-cluster Spark needs java",
    ),
]

SESSION = r"""
import json, os, sys, urllib.request
from pyspark.sql import SparkSession, functions as F

markers, ui_port, stack_conf = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
builder = SparkSession.builder
for key, value in stack_conf.items():  # what the stack's spark-defaults.conf says
    builder = builder.config(key, value)
spark = (
    builder.master("local-cluster[1,1,1024]")
    .appName("dagstorm-python-oom-test")
    .config("spark.driver.host", "127.0.0.1")
    .config("spark.driver.bindAddress", "127.0.0.1")
    .config("spark.ui.port", ui_port)
    .config("spark.ui.showConsoleProgress", "false")
    .config("spark.executor.memory", "512m")
    .config("spark.task.maxFailures", "2")
    .getOrCreate()
)
sc = spark.sparkContext
app = sc.applicationId
marker = os.path.join(markers, app + "@t1")


def say(**what):
    print("RESULT " + json.dumps(what), flush=True)


def run(name, job):
    try:
        say(job=name, ok=True, value=job())
    except Exception as exc:  # the job's failure is what is measured
        say(job=name, ok=False, error=str(exc)[:3000])


def rdd_job():
    return sc.parallelize(range(1000), 2).mapPartitions(lambda it: [sum(it)]).collect()


def udf_job():
    plus = F.udf(lambda x: x + 1, "long")
    return spark.range(100).select(F.sum(plus("id")).alias("s")).first()["s"]


say(app=app)
run("rdd-before", rdd_job)
open(marker, "w").close()
run("rdd-marked", rdd_job)
run("udf-marked", udf_job)
url = f"http://127.0.0.1:{ui_port}/api/v1/applications/{app}/stages?details=true&taskStatus=FAILED"
say(stages=json.load(urllib.request.urlopen(url, timeout=120)))
os.unlink(marker)
run("udf-after", udf_job)
run("rdd-after", rdd_job)
spark.stop()
"""


def _spark_home(tmp_path: Path) -> Path:
    """PySpark's home, linked entry by entry: local-cluster's ``work`` lands here, not in it."""
    real = Path(pyspark.__file__).parent
    home = tmp_path / "spark-home"
    home.mkdir()
    for entry in real.iterdir():
        if entry.name != "work":
            (home / entry.name).symlink_to(entry)
    return home


def _stack_conf(ctx: StackContext) -> dict[str, str]:
    """The Python-worker lines the stack writes into spark-defaults.conf, as settings."""
    lines = pyworker.spark_conf_lines(ctx.layout)
    pairs = [line.split(None, 1) for line in lines if line.strip() and not line.startswith("#")]
    return {key: value.strip() for key, value in pairs}


def _session(tmp_path: Path) -> dict[str, Any]:
    ctx = StackContext(
        config=StackConfig(state_dir=tmp_path / "state"), progress=Progress(quiet=True)
    )
    pyworker.install_daemon(ctx.layout)
    script = tmp_path / "session.py"
    script.write_text(SESSION)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "LANG": "C.UTF-8",
        "SPARK_HOME": str(_spark_home(tmp_path)),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        # No PYTHONPATH here: the conf alone (spark.executorEnv.*) must lead the
        # executors to the daemon and the markers.
    }
    if "JAVA_HOME" in os.environ:
        env["JAVA_HOME"] = os.environ["JAVA_HOME"]
    done = subprocess.run(
        [
            sys.executable,
            str(script),
            str(pyworker.markers_dir(ctx.layout)),
            str(free_port()),
            json.dumps(_stack_conf(ctx)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    results: dict[str, Any] = {}
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            found = json.loads(line.removeprefix("RESULT "))
            results[found.get("job", next(iter(found)))] = found
    assert "rdd-after" in results, done.stdout[-2000:] + done.stderr[-4000:]
    hits = pyworker.markers_dir(ctx.layout) / pyworker.HITS_DIR
    results["hits"] = [
        json.loads(line)
        for path in sorted(hits.glob("*"))
        for line in path.read_text().splitlines()
    ]
    return results


def test_a_marker_kills_that_applications_python_workers_and_its_removal_heals_them(
    tmp_path: Path,
) -> None:
    results = _session(tmp_path)
    app = results["app"]["app"]
    assert results["rdd-before"] == {"job": "rdd-before", "ok": True, "value": [124750, 374750]}
    for name in ("rdd-marked", "udf-marked"):  # an RDD function and a SQL Python UDF
        assert results[name]["ok"] is False
        assert f"{SIGNATURE} (crashed)" in results[name]["error"], results[name]["error"][:600]
    assert results["udf-after"] == {"job": "udf-after", "ok": True, "value": 5050}
    assert results["rdd-after"]["ok"] is True
    # What the fault's verify reads: failed tasks with the signature, per executor.
    crashes = python_crashes(results["stages"]["stages"])
    assert len(crashes) >= 4, crashes  # 2 tries of a task in each of the 2 marked jobs
    assert {c["executorId"] for c in crashes} == {"0"}
    # Each dead worker filled its declared memory first (an address-space limit: a worker
    # of an Arrow-optimised UDF has pyarrow and pandas mapped, so it fills less of it).
    assert len(results["hits"]) >= 4
    for hit in results["hits"]:
        assert hit["app_id"] == app and hit["limit_mb"] == 1024
        assert 0 < hit["mib"] < 1024
    assert max(hit["mib"] for hit in results["hits"]) >= 512  # the RDD function's workers
