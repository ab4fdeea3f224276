from __future__ import annotations

from pathlib import Path

import pytest

from dagstorm.core.errors import ConfigError, ExitCode
from dagstorm.stack.config import Ports, StackConfig, load_stack_config


def test_defaults_without_a_file(tmp_path: Path) -> None:
    config = load_stack_config(env={}, cwd=tmp_path)
    assert config.kind == "embedded"
    assert config.state_dir == tmp_path / ".dagstorm"
    assert config.ports.kafka == 9092


def test_file_values_and_relative_state_dir_resolve_against_the_file(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "dagstorm.stack.yaml").write_text("state_dir: state\nports:\n  kafka: 9999\n")
    config = load_stack_config(conf / "dagstorm.stack.yaml", env={}, cwd=tmp_path)
    assert config.state_dir == conf / "state"
    assert config.ports.kafka == 9999


def test_flag_beats_env_beats_file(tmp_path: Path) -> None:
    (tmp_path / "dagstorm.stack.yaml").write_text("state_dir: from-file\n")
    env = {"DAGSTORM_STATE_DIR": "from-env"}
    assert load_stack_config(env=env, cwd=tmp_path).state_dir == tmp_path / "from-env"
    flagged = load_stack_config(state_dir=Path("from-flag"), env=env, cwd=tmp_path)
    assert flagged.state_dir == tmp_path / "from-flag"


def test_unknown_key_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "dagstorm.stack.yaml"
    path.write_text("kind: embedded\nports:\n  kafak: 9092\n")
    with pytest.raises(ConfigError) as info:
        load_stack_config(path, env={}, cwd=tmp_path)
    err = info.value
    assert err.exit_code == ExitCode.USAGE
    assert err.where == f"{path}:3:3"
    assert "ports.kafak" in err.what
    assert err.fix


def test_invalid_yaml_is_a_config_error_with_position(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("kind: [embedded\n")
    with pytest.raises(ConfigError) as info:
        load_stack_config(path, env={}, cwd=tmp_path)
    assert info.value.where is not None and info.value.where.startswith(f"{path}:")


def test_binary_file_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="UTF-8"):
        load_stack_config(path, env={}, cwd=tmp_path)


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_stack_config(tmp_path / "nope.yaml", env={}, cwd=tmp_path)


def test_duplicate_ports_are_refused() -> None:
    with pytest.raises(ValueError, match="both 9092"):
        Ports(kafka=9092, spark_master=9092)


def test_external_kind_needs_endpoints(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("kind: external\n")
    with pytest.raises(ConfigError, match="external"):
        load_stack_config(path, env={}, cwd=tmp_path)


def test_external_spark_url_must_be_a_spark_url() -> None:
    with pytest.raises(ValueError):
        StackConfig.model_validate(
            {
                "kind": "external",
                "external": {
                    "airflow_url": "http://a",
                    "spark_master_url": "http://not-spark",
                    "kafka_bootstrap": "k:9092",
                },
            }
        )


def test_tcp_ports_exclude_udp_statsd() -> None:
    assert "statsd" not in Ports().tcp_ports()
