"""Atomic writes: whole files only, the modes callers need, fsync when asked."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from dagstorm.core.atomic import atomic_symlink, atomic_write


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    assert atomic_write(target, b"{}") == target
    atomic_write(target, "[1] ü")
    assert target.read_text(encoding="utf-8") == "[1] ü"
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_default_mode_is_what_the_umask_allows(tmp_path: Path, umask_022: None) -> None:
    path = atomic_write(tmp_path / "result.json", b"{}")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_an_explicit_mode_is_exact_even_over_an_older_wider_file(
    tmp_path: Path, umask_022: None
) -> None:
    secret = tmp_path / "credentials.json"
    secret.write_text("old")
    secret.chmod(0o644)
    atomic_write(secret, "new", mode=0o600)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert secret.read_text() == "new"


def test_an_explicit_mode_is_not_narrowed_by_the_umask(tmp_path: Path, umask_022: None) -> None:
    shared = atomic_write(tmp_path / "group.txt", b"x", mode=0o664)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o664


def test_a_failed_write_keeps_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "x.json"
    target.write_bytes(b"old")

    def broken(src: object, dst: object) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk on fire"):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_the_temporary_is_hidden_and_never_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    renamed: list[tuple[str, str]] = []
    real = os.replace

    def spy(src: str | Path, dst: str | Path) -> None:
        renamed.append((Path(src).name, Path(dst).name))
        real(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    atomic_write(tmp_path / "c1.json", b"{}")
    ((source, target),) = renamed
    assert target == "c1.json"
    assert source.startswith(".c1.json.") and source.endswith(".tmp")


@pytest.mark.parametrize("fsync", [True, False])
def test_fsync_syncs_the_file_then_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fsync: bool
) -> None:
    synced: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    atomic_write(tmp_path / "m", b"x", fsync=fsync)
    if fsync:
        assert len(synced) == 2
        assert Path(synced[0]).name.startswith(".m.") and synced[1] == str(tmp_path)
    else:
        assert synced == []


def test_atomic_symlink_replaces_a_file_or_a_link_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "dag.py"
    target.write_text("x = 1\n")
    path = tmp_path / "folder_dag.py"
    path.write_text("broken on purpose\n")  # a fault's replacement, say
    atomic_symlink(path, target)
    assert path.is_symlink() and os.readlink(path) == str(target)
    atomic_symlink(path, tmp_path / "other.py")  # over a link: the link, not its target
    assert os.readlink(path) == str(tmp_path / "other.py") and target.read_text() == "x = 1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dag.py", "folder_dag.py"]
