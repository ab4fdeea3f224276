"""Atomic part files and ``_SUCCESS`` markers (dagstorm.workloads.sinks.landing)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dagstorm.workloads.config import GeneratorConfig, LandingConfig
from dagstorm.workloads.model.config import BadDataConfig
from dagstorm.workloads.sinks.generator import AdLogGenerator
from dagstorm.workloads.sinks.landing import LandingWriter, partition_name
from dagstorm.workloads.traffic.rates import parse_rate

HOUR_MS = 3_600_000
T0 = 1_767_571_200_000  # 2026-01-05T00:00Z


def labels(n: int) -> list[int]:
    return [n, 0, 0, 0, 0, 0, 0]


def test_partition_name() -> None:
    assert partition_name(T0 + 13 * HOUR_MS) == "dt=2026-01-05/hour=13"
    assert partition_name(T0 - HOUR_MS) == "dt=2026-01-04/hour=23"


def test_parts_are_invisible_until_committed(tmp_path: Path) -> None:
    writer = LandingWriter(tmp_path, part_max_bytes=10)
    directory = writer.partition_dir(T0)
    assert writer.append(T0, b"", labels(0)) is None
    assert not list(directory.glob("part-*"))
    done = writer.append(T0, b'{"a":1}\n{"a":2}\n', labels(2))
    assert done is not None and done.path.name == "part-00000.jsonl"
    assert done.path.read_bytes() == b'{"a":1}\n{"a":2}\n'
    writer.append(T0, b'{"a":3}\n', labels(1))  # 8 bytes: stays open
    assert sorted(p.name for p in directory.iterdir()) == [
        ".part-00001.jsonl.inprogress",
        "part-00000.jsonl",
    ]
    marker = writer.finish(T0, window=(T0, T0 + HOUR_MS), extra={})
    assert marker["records"] == 3 and marker["valid"] == 3
    assert [f["name"] for f in marker["files"]] == ["part-00000.jsonl", "part-00001.jsonl"]
    on_disk = json.loads((directory / "_SUCCESS").read_text())
    assert on_disk == marker
    assert sorted(p.name for p in directory.iterdir()) == [
        "_SUCCESS",
        "part-00000.jsonl",
        "part-00001.jsonl",
    ]


def test_one_partition_at_a_time(tmp_path: Path) -> None:
    writer = LandingWriter(tmp_path)
    writer.append(T0, b"{}\n", labels(1))
    with pytest.raises(RuntimeError, match="not finished"):
        writer.append(T0 + HOUR_MS, b"{}\n", labels(1))


def test_abort_drops_the_open_part(tmp_path: Path) -> None:
    writer = LandingWriter(tmp_path)
    writer.append(T0, b"{}\n", labels(1))
    writer.abort()
    assert list(writer.partition_dir(T0).iterdir()) == []


def _config(tmp: Path, **landing: Any) -> GeneratorConfig:
    return GeneratorConfig(
        seed=4,
        rate=parse_rate("30 events/s"),
        bad_data=BadDataConfig(duplicate=0.01, late=0.01),
        landing=LandingConfig(root=tmp / "landing", part_max_bytes=700_000, **landing),
    )


@pytest.fixture
def journal(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """Every fsync and rename the landing writer makes, in order, with file names."""
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src: Any, dst: Any) -> None:
        real_replace(src, dst)
        events.append(("replace", str(dst)))

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    yield events


Journal = list[tuple[str, str]]


def _where(journal: Journal, op: str, *, prefix: str = "", suffix: str = "") -> list[int]:
    return [
        i
        for i, (o, path) in enumerate(journal)
        if o == op and path.startswith(prefix) and path.endswith(suffix)
    ]


def test_markers_come_after_durable_data(tmp_path: Path, journal: Journal) -> None:
    generator = AdLogGenerator(_config(tmp_path), ledger_dir=tmp_path / "ledger")
    generator.advance_to(2 * 3600 + 60)
    generator.close()
    markers = _where(journal, "replace", suffix="/_SUCCESS")
    assert len(markers) == 3
    for index in markers:
        partition = os.path.dirname(journal[index][1])
        renames = _where(journal, "replace", prefix=f"{partition}/part-")
        assert renames and max(renames) < index
        dir_syncs = _where(journal, "fsync", prefix=partition, suffix=partition)
        for i in renames:
            name = os.path.basename(journal[i][1])
            synced = _where(journal, "fsync", suffix=f"/.{name}.inprogress")
            assert synced and min(synced) < i, f"{name} renamed before fsync"
            assert [j for j in dir_syncs if i < j < index], "no directory fsync before the marker"
        op, synced_path = journal[index - 1]
        assert op == "fsync" and synced_path.startswith(partition + "/._SUCCESS.")
        assert synced_path.endswith(".tmp"), "the marker was renamed before its fsync"


def test_a_reader_never_sees_a_marker_before_the_data(tmp_path: Path) -> None:
    """A reader thread polls while partitions are written; every marker it sees is complete."""
    root = tmp_path / "landing"
    done = threading.Event()
    seen: dict[str, int] = {}
    problems: list[str] = []
    markers_seen: set[str] = set()

    def reader() -> None:
        while not done.is_set():
            for marker in root.glob("dt=*/hour=*/_SUCCESS"):
                content = json.loads(marker.read_text())
                markers_seen.add(content["partition"])
                for entry in content["files"]:
                    part = marker.parent / entry["name"]
                    if not part.exists() or part.stat().st_size != entry["bytes"]:
                        problems.append(f"{part} incomplete under a marker")
            for part in root.glob("dt=*/hour=*/part-*.jsonl"):
                size = part.stat().st_size
                if seen.setdefault(str(part), size) != size:
                    problems.append(f"{part} changed after it appeared")
                with part.open("rb") as f:
                    f.seek(max(0, size - 1))
                    if f.read() != b"\n":
                        problems.append(f"{part} visible but not ending in a newline")

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        generator = AdLogGenerator(_config(tmp_path), ledger_dir=tmp_path / "ledger")
        for minute in range(1, 3 * 60 + 1):
            generator.advance_to(minute * 60.0)
        generator.close()
    finally:
        done.set()
        thread.join()
    assert not problems
    assert markers_seen  # the reader did overlap with the writer
    for part, size in seen.items():
        assert Path(part).stat().st_size == size


def test_fsync_can_be_turned_off(tmp_path: Path, journal: Journal) -> None:
    generator = AdLogGenerator(_config(tmp_path, fsync=False), ledger_dir=tmp_path / "ledger")
    generator.advance_to(3600)
    generator.close()
    assert not [p for op, p in journal if op == "fsync" and "/landing/" in p]
    assert (tmp_path / "landing" / "dt=2026-01-05" / "hour=00" / "_SUCCESS").exists()


def _generate(tmp_path: Path, rate: str, ledger: str) -> dict[str, Any]:
    """Two hours at ``rate`` into the landing zone; the first hour's marker."""
    config = GeneratorConfig(
        seed=4,
        rate=parse_rate(rate),
        landing=LandingConfig(root=tmp_path / "landing", part_max_bytes=100_000),
    )
    generator = AdLogGenerator(config, ledger_dir=tmp_path / ledger)
    generator.advance_to(2 * 3600.0)
    generator.close()
    marker = tmp_path / "landing" / "dt=2026-01-05" / "hour=00" / "_SUCCESS"
    content: dict[str, Any] = json.loads(marker.read_text())
    return content


def test_a_partition_written_again_is_replaced_not_mixed_with_the_last_runs_files(
    tmp_path: Path,
) -> None:
    # A run at a higher rate leaves more part files than the next, slower run writes.
    fast = _generate(tmp_path, "60 events/s", "ledger-fast")
    partition = tmp_path / "landing" / "dt=2026-01-05" / "hour=00"
    (partition / ".part-00042.jsonl.inprogress").write_bytes(b"{")  # a crashed writer's
    (partition / "README").write_text("not dagstorm's")
    slow = _generate(tmp_path, "10 events/s", "ledger-slow")
    assert len(fast["files"]) > len(slow["files"]) > 1
    on_disk = sorted(p.name for p in partition.iterdir() if p.name.startswith("part-"))
    assert on_disk == sorted(f["name"] for f in slow["files"])
    lines = sum(len((partition / name).read_bytes().splitlines()) for name in on_disk)
    assert lines == slow["records"] < fast["records"]  # what the pipeline validates
    assert not list(partition.glob(".part-*")) and (partition / "README").exists()


def test_a_writer_that_fills_a_slice_of_a_partition_clears_nothing(tmp_path: Path) -> None:
    root = tmp_path / "landing"
    hour = 1_767_571_200_000  # 2026-01-05T00
    (root / partition_name(hour)).mkdir(parents=True)
    (root / partition_name(hour) / "part-00000.jsonl").write_bytes(b"{}\n")  # another task's
    writer = LandingWriter(root)  # replace=False: a Spark task's writer
    writer.begin(hour, first_part=5)
    writer.append(hour, b'{"a":1}\n', [1, 0, 0, 0, 0, 0, 0])
    writer.abort()
    assert (root / partition_name(hour) / "part-00000.jsonl").exists()
