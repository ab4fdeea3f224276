from __future__ import annotations

import socket
from pathlib import Path

import pytest

from dagstorm.core.errors import ConfigError, ExitCode, PortConflictError
from dagstorm.core.redaction import redact
from dagstorm.stack.credentials import from_env, load_or_create
from dagstorm.stack.embedded.ports import check_free, free_port, is_free


def test_a_listening_port_is_reported_with_its_name_and_a_fix() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert not is_free(port)
        with pytest.raises(PortConflictError) as info:
            check_free({"kafka": port, "other": free_port()})
    err = info.value
    assert f"kafka={port}" in err.what
    assert "other" not in err.what
    assert err.fix and "dagstorm.stack.yaml" in err.fix
    assert err.exit_code == ExitCode.INFRASTRUCTURE


def test_ports_of_our_own_running_components_are_not_conflicts() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        check_free({"kafka": port}, ours=[port])


def test_credentials_are_generated_once_and_private(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    first = load_or_create(secrets)
    second = load_or_create(secrets)
    assert first == second
    path = secrets / "credentials.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert secrets.stat().st_mode & 0o777 == 0o700
    assert len(set(first.secret_values())) == len(first.secret_values())


def test_corrupt_credentials_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "credentials.json").write_text("{")
    with pytest.raises(ConfigError, match="corrupt"):
        load_or_create(tmp_path)


def test_secrets_from_env_or_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "pw"
    secret_file.write_text("s3cret\n")
    assert from_env("PW", {"PW": "direct"}) == "direct"
    assert from_env("PW", {"PW_FILE": str(secret_file)}) == "s3cret"
    assert from_env("PW", {}) is None
    with pytest.raises(ConfigError, match="PW_FILE"):
        from_env("PW", {"PW_FILE": str(tmp_path / "missing")})


def test_redact_hides_every_secret() -> None:
    assert (
        redact("user=a pw=hunter2 token=xyz", ["hunter2", "xyz", ""]) == "user=a pw=*** token=***"
    )
