"""Static checks of docker-compose.yml against the embedded stack's definition.

No Docker engine runs on the project's machines, so the compose stack is never
started here: these tests parse docker-compose.yml, stack/compose/toxiproxy.json,
stack/compose/airflow.Dockerfile and .env.example and compare them with
:mod:`dagstorm.stack.topology` and the defaults of :class:`dagstorm.stack.config.Ports`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from dagstorm.stack import topology
from dagstorm.stack.config import Ports

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_DIR = ROOT / "stack" / "compose"
TOXIPROXY_CONFIG = COMPOSE_DIR / "toxiproxy.json"
AIRFLOW_DOCKERFILE = COMPOSE_DIR / "airflow.Dockerfile"
POSTGRES_INIT = COMPOSE_DIR / "postgres-init.sh"
ENV_EXAMPLE = ROOT / ".env.example"

PORTS = Ports()

#: Embedded component (topology.START_ORDER) -> compose service that plays it.
COMPONENT_SERVICES: dict[str, str] = {
    "postgres": "postgres",
    "toxiproxy": "toxiproxy",
    "kafka": "kafka",
    "spark-master": "spark-master",
    "spark-worker": "spark-worker",
    "spark-history": "spark-history",
    "airflow-api-server": "airflow-api-server",
    "airflow-scheduler": "airflow-scheduler",
    "airflow-dag-processor": "airflow-dag-processor",
    "airflow-triggerer": "airflow-triggerer",
}

#: Compose-only services that run once and exit (`db migrate`, volume ownership).
ONE_SHOT_SERVICES = frozenset({"airflow-init"})

#: Where each port of :class:`Ports` lives in compose: (service, port inside the
#: container). Same number as the embedded stack everywhere but PostgreSQL, which
#: keeps the image's standard 5432 inside the container.
PORT_LOCATIONS: dict[str, tuple[str, int]] = {
    "postgres": ("postgres", 5432),
    "airflow_db": ("toxiproxy", PORTS.airflow_db),
    "serving_db": ("toxiproxy", PORTS.serving_db),
    "toxiproxy_api": ("toxiproxy", PORTS.toxiproxy_api),
    "kafka": ("toxiproxy", PORTS.kafka),
    "kafka_broker": ("kafka", PORTS.kafka_broker),
    "kafka_controller": ("kafka", PORTS.kafka_controller),
    "kafka_internal": ("kafka", PORTS.kafka_internal),
    "spark_master": ("spark-master", PORTS.spark_master),
    "spark_master_ui": ("spark-master", PORTS.spark_master_ui),
    "spark_worker_ui": ("spark-worker", PORTS.spark_worker_ui),
    "spark_history": ("spark-history", PORTS.spark_history),
    "airflow_api": ("toxiproxy", PORTS.airflow_api),
    "airflow_api_server": ("airflow-api-server", PORTS.airflow_api_server),
}

#: Ports published on the host (127.0.0.1): the ones clients use.
PUBLISHED_PORTS = frozenset(
    {
        "postgres",
        "airflow_db",
        "serving_db",
        "toxiproxy_api",
        "kafka",
        "spark_master",
        "spark_master_ui",
        "spark_worker_ui",
        "spark_history",
        "airflow_api",
    }
)
#: Ports that stay inside the compose network: clients must cross Toxiproxy.
UNPUBLISHED_PORTS = frozenset(
    {"kafka_broker", "kafka_controller", "kafka_internal", "airflow_api_server"}
)
#: Ports of listeners dagstorm itself runs on the host (containers send to them).
HOST_SIDE_PORTS = frozenset({"statsd", "alert_sink"})

AIRFLOW_SERVICES = (
    "airflow-init",
    "airflow-api-server",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
)
SECRET_KEY_RE = re.compile(r"PASSWORD|SECRET|FERNET", re.IGNORECASE)
#: A whole value that is one interpolation: ${VAR}, ${VAR:?msg}, ${VAR?msg} or an
#: empty default (${VAR:-} / ${VAR-}); a non-empty default would be a literal secret.
SECRET_VALUE_RE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(?:(?::?\?)[^}]*|:?-)?\}$")
INTERPOLATION_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}")


# --------------------------------------------------------------------------- helpers


@cache
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{COMPOSE_FILE} is not a YAML mapping"
    return data


def services() -> dict[str, dict[str, Any]]:
    found = compose().get("services")
    assert isinstance(found, dict) and found, f"{COMPOSE_FILE} has no services"
    return found


def service(name: str) -> dict[str, Any]:
    assert name in services(), f"docker-compose.yml has no service {name!r}"
    return services()[name]


def environment(svc: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a dict, whichever of the two compose forms it uses."""
    env = svc.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def command_words(svc: dict[str, Any]) -> list[str]:
    cmd = svc.get("command") or []
    return cmd.split() if isinstance(cmd, str) else [str(word) for word in cmd]


def flag_value(words: list[str], flag: str) -> str | None:
    """The value of ``--flag VALUE`` or ``--flag=VALUE`` in a command line."""
    for i, word in enumerate(words):
        if word == flag and i + 1 < len(words):
            return words[i + 1]
        if word.startswith(flag + "="):
            return word.split("=", 1)[1]
    return None


_SHORT_PORT = re.compile(
    r"^(?:(?P<ip>[0-9.]+|\[[0-9a-fA-F:]+\]):)?(?:(?P<host>\d+):)?(?P<target>\d+)(?:/(?P<proto>tcp|udp))?$"
)


def published_ports(name: str) -> list[tuple[str | None, int | None, int, str]]:
    """(host_ip, host_port, container_port, protocol) of each `ports:` entry of a service."""
    result: list[tuple[str | None, int | None, int, str]] = []
    for entry in service(name).get("ports") or []:
        if isinstance(entry, dict):
            published = entry.get("published")
            result.append(
                (
                    entry.get("host_ip"),
                    int(published) if published is not None else None,
                    int(entry["target"]),
                    entry.get("protocol", "tcp"),
                )
            )
            continue
        match = _SHORT_PORT.match(str(entry))
        assert match, f"service {name}: cannot parse port entry {entry!r} (use IP:HOST:CONTAINER)"
        host = match["host"]
        result.append(
            (
                match["ip"],
                int(host) if host else None,
                int(match["target"]),
                match["proto"] or "tcp",
            )
        )
    return result


def depends_on(svc: dict[str, Any]) -> dict[str, Any]:
    deps = svc.get("depends_on") or {}
    if isinstance(deps, list):  # short form: condition service_started
        return {dep: {"condition": "service_started"} for dep in deps}
    return dict(deps)


def image_is_pinned(ref: str) -> bool:
    """True for image@sha256:... or image:TAG where TAG has an X.Y version and is not latest."""
    if "$" in ref:
        return False
    if re.search(r"@sha256:[0-9a-f]{64}$", ref):
        return True
    name, sep, tag = ref.rpartition(":")
    if not sep or not name or "/" in tag:
        return False  # no tag at all: means latest
    return tag != "latest" and re.search(r"\d+\.\d+", tag) is not None


def image_tag(ref: str) -> str:
    return ref.rpartition(":")[2]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Airflow Dockerfile, continuation lines joined."""
    text = AIRFLOW_DOCKERFILE.read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    joined = re.sub(r"\\\s*\n", " ", "\n".join(lines))
    result = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, args = line.strip().partition(" ")
            result.append((keyword.upper(), args.strip()))
    return result


def dockerfile_stages() -> list[tuple[str, str | None]]:
    """(image, stage name) of each FROM, with ARG defaults substituted."""
    args: dict[str, str] = {}
    stages: list[tuple[str, str | None]] = []
    for keyword, rest in dockerfile_instructions():
        if keyword == "ARG" and "=" in rest:
            key, _, value = rest.partition("=")
            args[key.strip()] = value.strip().strip('"')
        elif keyword == "FROM":
            words = [w for w in rest.split() if not w.startswith("--")]
            ref = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m[1], m[0]), words[0])
            alias = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append((ref, alias))
    return stages


def spark_image() -> str:
    return str(service(COMPONENT_SERVICES["spark-master"])["image"])


def kafka_listeners(value: str) -> dict[str, tuple[str, int]]:
    """NAME -> (host, port) of a Kafka listeners string."""
    result = {}
    for item in value.split(","):
        name, _, address = item.strip().partition("://")
        host, _, port = address.rpartition(":")
        result[name] = (host, int(port))
    return result


def volume_sources(svc: dict[str, Any]) -> dict[str, str]:
    """Container path -> source of each volume of a service."""
    result = {}
    for entry in svc.get("volumes") or []:
        if isinstance(entry, dict):
            result[str(entry["target"])] = str(entry.get("source", ""))
        else:
            source, _, rest = str(entry).partition(":")
            result[rest.split(":")[0]] = source
    return result


def without_interpolations(value: str) -> str:
    """The value with each ${...} replaced by a plain word (so URLs parse)."""
    return INTERPOLATION_RE.sub("interpolated", value)


def is_secret_key(key: str) -> bool:
    """Env keys holding a credential (``*_FILE`` keys hold a path to one)."""
    return bool(SECRET_KEY_RE.search(key)) and not key.upper().endswith("_FILE")


def referenced_variables() -> dict[str, str]:
    """Every ${VAR...} of docker-compose.yml: name -> its modifier (':?msg', ':-x', '')."""
    text = COMPOSE_FILE.read_text(encoding="utf-8").replace("$$", "")
    return {m[1]: m[2] for m in INTERPOLATION_RE.finditer(text)}


# ------------------------------------------------------------------------ services


def test_every_component_of_the_embedded_stack_is_a_compose_service() -> None:
    assert set(COMPONENT_SERVICES) == set(topology.START_ORDER), (
        "COMPONENT_SERVICES must map exactly topology.START_ORDER; differs by "
        f"{sorted(set(COMPONENT_SERVICES) ^ set(topology.START_ORDER))}"
    )
    missing = sorted(
        f"{component} (service {svc})"
        for component, svc in COMPONENT_SERVICES.items()
        if svc not in services()
    )
    assert not missing, f"components without a compose service: {missing}"


def test_compose_has_no_service_outside_the_topology() -> None:
    extra = sorted(set(services()) - set(COMPONENT_SERVICES.values()) - ONE_SHOT_SERVICES)
    assert not extra, (
        f"services {extra} are neither embedded components nor known one-shot jobs: "
        "add them to dagstorm/stack/topology.py (and COMPONENT_SERVICES) or remove them"
    )


def test_every_image_is_pinned() -> None:
    unpinned = {
        name: svc.get("image")
        for name, svc in services().items()
        if not image_is_pinned(str(svc.get("image", "")))
    }
    assert not unpinned, (
        f"images not pinned to an exact version tag or digest: {unpinned} "
        "(every service needs `image:` with a tag like 1.2.3, never latest)"
    )


def test_dockerfile_base_images_are_pinned() -> None:
    stages = dockerfile_stages()
    assert stages, f"{AIRFLOW_DOCKERFILE} has no FROM"
    aliases = {alias for _, alias in stages if alias}
    unpinned = [ref for ref, _ in stages if ref not in aliases and not image_is_pinned(ref)]
    assert not unpinned, f"{AIRFLOW_DOCKERFILE.name}: FROM images not pinned: {unpinned}"
    final = stages[-1][0]
    assert final.startswith("apache/airflow:"), (
        f"{AIRFLOW_DOCKERFILE.name}: the final stage must be the pinned apache/airflow "
        f"image, got {final!r}"
    )


def test_dockerfile_pins_airflow_and_the_two_providers() -> None:
    runs = " ".join(args for keyword, args in dockerfile_instructions() if keyword == "RUN")
    pins = dict(re.findall(r"(apache-airflow[\w-]*)==([\w.]+)", runs))
    airflow_version = re.match(r"[\d.]+\d", image_tag(dockerfile_stages()[-1][0]))
    assert airflow_version, "the apache/airflow tag must start with the Airflow version"
    expected = {
        "apache-airflow": airflow_version[0],
        "apache-airflow-providers-apache-spark": pins.get("apache-airflow-providers-apache-spark"),
        "apache-airflow-providers-apache-kafka": pins.get("apache-airflow-providers-apache-kafka"),
    }
    unpinned = sorted(pkg for pkg, version in expected.items() if pins.get(pkg) is None)
    assert not unpinned, f"{AIRFLOW_DOCKERFILE.name}: pip install must pin {unpinned} with =="
    assert pins["apache-airflow"] == airflow_version[0], (
        f"pip pins apache-airflow=={pins['apache-airflow']} but the base image is "
        f"Airflow {airflow_version[0]}: pip would change Airflow inside the image"
    )


def test_dockerfile_spark_matches_the_compose_spark_image() -> None:
    stage_images = [ref for ref, _ in dockerfile_stages()]
    assert spark_image() in stage_images, (
        f"{AIRFLOW_DOCKERFILE.name} must copy Spark from {spark_image()} (the image of "
        f"spark-master/spark-history), found stages {stage_images}: driver, worker and "
        "master must run the same Spark build"
    )
    history = str(service(COMPONENT_SERVICES["spark-history"])["image"])
    assert history == spark_image(), f"spark-history runs {history}, spark-master {spark_image()}"
    built = {name: str(svc["image"]) for name, svc in services().items() if "build" in svc}
    spark_version = re.match(r"[\d.]+\d", image_tag(spark_image()))
    airflow_version = re.match(r"[\d.]+\d", image_tag(dockerfile_stages()[-1][0]))
    assert spark_version and airflow_version
    expected_tag = f"{airflow_version[0]}-spark{spark_version[0]}"
    wrong = {name: ref for name, ref in built.items() if image_tag(ref) != expected_tag}
    assert not wrong, f"built images must be tagged {expected_tag!r} (what they contain): {wrong}"


def test_every_long_running_service_has_a_healthcheck() -> None:
    missing = []
    for name, svc in services().items():
        if name in ONE_SHOT_SERVICES:
            continue
        check = svc.get("healthcheck") or {}
        test = check.get("test")
        if check.get("disable") or not test or test in (["NONE"], "NONE"):
            missing.append(name)
    assert not missing, f"long-running services without a healthcheck: {missing}"


def test_one_shot_services_do_not_restart() -> None:
    for name in ONE_SHOT_SERVICES:
        restart = str(service(name).get("restart", "no"))
        assert restart == "no", f"one-shot service {name} must not restart, has restart: {restart}"


def test_depends_on_waits_for_health_or_completion() -> None:
    problems = []
    for name, svc in services().items():
        for dep, spec in depends_on(svc).items():
            expected = (
                "service_completed_successfully" if dep in ONE_SHOT_SERVICES else "service_healthy"
            )
            condition = (spec or {}).get("condition", "service_started")
            if dep not in services():
                problems.append(f"{name} depends on unknown service {dep}")
            elif condition != expected:
                problems.append(f"{name} -> {dep}: condition {condition}, expected {expected}")
    assert not problems, "depends_on problems:\n  " + "\n  ".join(problems)


def test_depends_on_follows_the_embedded_start_order() -> None:
    component_of = {svc: comp for comp, svc in COMPONENT_SERVICES.items()}
    rank: dict[str, float] = {}

    def rank_of(name: str, seen: tuple[str, ...] = ()) -> float:
        assert name not in seen, f"dependency cycle: {' -> '.join((*seen, name))}"
        if name not in rank:
            if name in component_of:
                rank[name] = float(topology.START_ORDER.index(component_of[name]))
            else:  # a one-shot job runs right after its own dependencies
                deps = depends_on(service(name))
                rank[name] = max((rank_of(d, (*seen, name)) for d in deps), default=-1.0) + 0.5
        return rank[name]

    backwards = [
        f"{name} depends on {dep}, which starts after it in topology.START_ORDER"
        for name, svc in services().items()
        for dep in depends_on(svc)
        if dep in services() and rank_of(dep) >= rank_of(name)
    ]
    assert not backwards, "\n".join(backwards)


# ------------------------------------------------------------------------ toxiproxy


@cache
def proxies() -> list[dict[str, Any]]:
    data = json.loads(TOXIPROXY_CONFIG.read_text(encoding="utf-8"))
    assert isinstance(data, list), f"{TOXIPROXY_CONFIG.name} must be a JSON list of proxies"
    return data


def test_toxiproxy_config_has_exactly_the_topology_links() -> None:
    names = [str(p.get("name")) for p in proxies()]
    expected = [link.name for link in topology.LINKS]
    assert sorted(names) == sorted(expected), (
        f"{TOXIPROXY_CONFIG.name} proxies {names} != topology.LINKS {expected}"
    )
    disabled = [p["name"] for p in proxies() if p.get("enabled") is not True]
    assert not disabled, f"proxies must start enabled: {disabled}"


def test_toxiproxy_listen_ports_match_ports_defaults() -> None:
    by_name = {p["name"]: p for p in proxies()}
    wrong = []
    for link in topology.LINKS:
        proxy = by_name.get(link.name)
        assert proxy is not None, f"proxy {link.name} missing from {TOXIPROXY_CONFIG.name}"
        host, _, port = str(proxy["listen"]).rpartition(":")
        expected = getattr(PORTS, link.listen_port)
        if int(port) != expected or host != "0.0.0.0":
            wrong.append(f"{link.name}: listen {proxy['listen']}, expected 0.0.0.0:{expected}")
    assert not wrong, "\n".join(wrong)


def test_toxiproxy_upstreams_are_the_linked_services() -> None:
    by_name = {p["name"]: p for p in proxies()}
    wrong = []
    for link in topology.LINKS:
        svc, container_port = PORT_LOCATIONS[link.upstream_port]
        expected = f"{svc}:{container_port}"
        actual = by_name[link.name]["upstream"]
        if actual != expected:
            wrong.append(f"{link.name}: upstream {actual}, expected {expected}")
    assert not wrong, "\n".join(wrong)


def test_toxiproxy_service_loads_the_config_file() -> None:
    svc = service(COMPONENT_SERVICES["toxiproxy"])
    config_path = next(
        (w.split("=", 1)[1] for w in command_words(svc) if w.startswith("-config=")), None
    )
    assert config_path, "toxiproxy must start with -config=<path to toxiproxy.json>"
    source = volume_sources(svc).get(config_path)
    assert source is not None and (ROOT / source).resolve() == TOXIPROXY_CONFIG, (
        f"{config_path} inside toxiproxy must be ./stack/compose/toxiproxy.json, mounted {source!r}"
    )
    api_port = flag_value(command_words(svc), "-port") or "8474"
    assert int(api_port) == PORTS.toxiproxy_api, f"toxiproxy API port {api_port}"


# ---------------------------------------------------------------------------- ports


def test_port_classification_covers_every_ports_field() -> None:
    classified = PUBLISHED_PORTS | UNPUBLISHED_PORTS | HOST_SIDE_PORTS
    assert classified == set(Ports.model_fields), (
        f"Ports has fields this test does not place: {sorted(set(Ports.model_fields) ^ classified)}"
    )
    assert set(PORT_LOCATIONS) == PUBLISHED_PORTS | UNPUBLISHED_PORTS


def test_published_ports_bind_loopback_with_the_ports_defaults() -> None:
    by_location = {location: field for field, location in PORT_LOCATIONS.items()}
    problems = []
    for name in services():
        for host_ip, host_port, container_port, proto in published_ports(name):
            where = f"{name} {host_ip}:{host_port}:{container_port}/{proto}"
            if host_ip != "127.0.0.1":
                problems.append(f"{where}: must bind 127.0.0.1")
            field = by_location.get((name, container_port))
            if field is None or field not in PUBLISHED_PORTS:
                problems.append(f"{where}: publishes a port the embedded stack keeps internal")
            elif host_port != getattr(PORTS, field):
                problems.append(
                    f"{where}: host port must be Ports.{field} = {getattr(PORTS, field)}"
                )
    assert not problems, "\n".join(problems)


def test_every_client_port_is_published() -> None:
    published = {
        (name, container_port)
        for name in services()
        for _, _, container_port, _ in published_ports(name)
    }
    missing = sorted(
        f"Ports.{field} ({PORT_LOCATIONS[field][0]}:{PORT_LOCATIONS[field][1]})"
        for field in PUBLISHED_PORTS
        if PORT_LOCATIONS[field] not in published
    )
    assert not missing, f"client ports not published on 127.0.0.1: {missing}"


# ---------------------------------------------------------------------------- kafka


def test_kafka_advertises_the_toxiproxy_address() -> None:
    env = environment(service(COMPONENT_SERVICES["kafka"]))
    listeners = kafka_listeners(env["KAFKA_LISTENERS"])
    ports = {name: port for name, (_, port) in listeners.items()}
    expected_ports = {PORTS.kafka_broker, PORTS.kafka_controller, PORTS.kafka_internal}
    assert set(ports.values()) == expected_ports, (
        f"KAFKA_LISTENERS ports {sorted(ports.values())} != {sorted(expected_ports)}"
    )
    external = next(name for name, port in ports.items() if port == PORTS.kafka_broker)
    advertised = kafka_listeners(env["KAFKA_ADVERTISED_LISTENERS"])
    toxiproxy = COMPONENT_SERVICES["toxiproxy"]
    assert advertised.get(external) == (toxiproxy, PORTS.kafka), (
        f"listener {external} (the one the kafka proxy forwards to) must be advertised "
        f"as {toxiproxy}:{PORTS.kafka}, is {advertised.get(external)}"
    )
    inter_broker = env.get("KAFKA_INTER_BROKER_LISTENER_NAME")
    assert inter_broker and ports.get(inter_broker) == PORTS.kafka_internal, (
        f"KAFKA_INTER_BROKER_LISTENER_NAME {inter_broker} must be the listener on "
        f"Ports.kafka_internal = {PORTS.kafka_internal}"
    )
    controller = env.get("KAFKA_CONTROLLER_LISTENER_NAMES")
    assert controller and ports.get(controller) == PORTS.kafka_controller, (
        f"KAFKA_CONTROLLER_LISTENER_NAMES {controller} must listen on {PORTS.kafka_controller}"
    )
    bypass = {
        name: addr
        for name, addr in advertised.items()
        if name != inter_broker and addr[0] != toxiproxy
    }
    assert not bypass, f"client listeners advertised around Toxiproxy: {bypass}"


# -------------------------------------------------------------------------- airflow


def test_scheduler_and_triggerer_skip_serve_logs() -> None:
    for component in ("airflow-scheduler", "airflow-triggerer"):
        words = command_words(service(COMPONENT_SERVICES[component]))
        subcommand = component.removeprefix("airflow-")
        assert subcommand in words, f"{component} must run `airflow {subcommand}`, runs {words}"
        assert "--skip-serve-logs" in words, (
            f"{component} must run with --skip-serve-logs (its log server binds 0.0.0.0), "
            f"runs {words}"
        )


def test_airflow_reaches_its_metadata_db_through_toxiproxy() -> None:
    expected = (COMPONENT_SERVICES["toxiproxy"], PORTS.airflow_db)
    for name in AIRFLOW_SERVICES:
        env = environment(service(name))
        conn = env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "")
        parts = urlsplit(without_interpolations(conn))
        assert conn.startswith("postgresql") and (parts.hostname, parts.port) == expected, (
            f"{name}: metadata DB must be reached at {expected[0]}:{expected[1]} "
            f"(the airflow-db link), got {conn!r}"
        )
        assert env.get("AIRFLOW__CORE__EXECUTOR") == "LocalExecutor", (
            f"{name}: executor must be LocalExecutor like the embedded stack"
        )


def test_airflow_api_server_port_and_execution_api() -> None:
    api = COMPONENT_SERVICES["airflow-api-server"]
    words = command_words(service(api))
    assert "api-server" in words and flag_value(words, "--port") == str(PORTS.airflow_api_server), (
        f"{api} must run `api-server --port {PORTS.airflow_api_server}`, runs {words}"
    )
    for name in AIRFLOW_SERVICES:
        url = environment(service(name)).get("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", "")
        parts = urlsplit(url)
        assert (parts.hostname, parts.port, parts.path) == (
            api,
            PORTS.airflow_api_server,
            "/execution/",
        ), f"{name}: AIRFLOW__CORE__EXECUTION_API_SERVER_URL {url!r}"


def test_dags_are_mounted_from_pipelines_dags() -> None:
    for name in AIRFLOW_SERVICES:
        svc = service(name)
        dags_folder = environment(svc).get("AIRFLOW__CORE__DAGS_FOLDER", "/opt/airflow/dags")
        source = volume_sources(svc).get(dags_folder)
        assert source is not None and (ROOT / source).resolve() == ROOT / "pipelines" / "dags", (
            f"{name}: {dags_folder} must be ./pipelines/dags, mounted {source!r}"
        )


def test_airflow_sends_statsd_to_the_ports_default() -> None:
    for name in AIRFLOW_SERVICES:
        env = environment(service(name))
        assert env.get("AIRFLOW__METRICS__STATSD_ON", "").lower() == "true", (
            f"{name}: StatsD must be on"
        )
        assert env.get("AIRFLOW__METRICS__STATSD_PORT") == str(PORTS.statsd), (
            f"{name}: StatsD port must be Ports.statsd = {PORTS.statsd}"
        )


# ---------------------------------------------------------------------------- spark


def test_spark_processes_listen_on_the_ports_defaults() -> None:
    master = command_words(service(COMPONENT_SERVICES["spark-master"]))
    worker = command_words(service(COMPONENT_SERVICES["spark-worker"]))
    history = environment(service(COMPONENT_SERVICES["spark-history"]))
    assert flag_value(master, "--port") == str(PORTS.spark_master), f"spark-master: {master}"
    assert flag_value(master, "--webui-port") == str(PORTS.spark_master_ui), (
        f"spark-master: {master}"
    )
    assert flag_value(worker, "--webui-port") == str(PORTS.spark_worker_ui), (
        f"spark-worker: {worker}"
    )
    assert f"spark://spark-master:{PORTS.spark_master}" in worker, f"spark-worker: {worker}"
    assert f"-Dspark.history.ui.port={PORTS.spark_history}" in history.get(
        "SPARK_HISTORY_OPTS", ""
    ), f"spark-history: SPARK_HISTORY_OPTS {history.get('SPARK_HISTORY_OPTS')!r}"


def test_spark_master_rest_submission_is_disabled() -> None:
    opts = environment(service(COMPONENT_SERVICES["spark-master"])).get("SPARK_MASTER_OPTS", "")
    assert "-Dspark.master.rest.enabled=false" in opts, (
        f"spark-master must disable the unauthenticated REST server; SPARK_MASTER_OPTS={opts!r}"
    )


# ---------------------------------------------------------------------- credentials


def test_no_literal_passwords_in_environment() -> None:
    literal = []
    for name, svc in services().items():
        for key, value in environment(svc).items():
            if is_secret_key(key) and not SECRET_VALUE_RE.match(value):
                literal.append(f"{name}.{key}={value!r}")
            for userinfo_pw in re.findall(r"://[^:/@\s]+:([^@\s]+)@", value):
                if not SECRET_VALUE_RE.match(userinfo_pw):
                    literal.append(f"{name}.{key}: password {userinfo_pw!r} in a URL")
    assert not literal, (
        "credentials must be ${VAR:?...} interpolations (no literal, no non-empty default):\n  "
        + "\n  ".join(literal)
    )


def test_env_example_lists_every_variable_with_placeholders() -> None:
    assert ENV_EXAMPLE.exists(), ".env.example is missing"
    listed = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            listed[key.strip()] = value.strip()
    used = referenced_variables()
    missing, unused = sorted(set(used) - set(listed)), sorted(set(listed) - set(used))
    assert not missing, f".env.example misses variables docker-compose.yml uses: {missing}"
    assert not unused, f".env.example lists variables docker-compose.yml never uses: {unused}"
    real = {
        k: v for k, v in listed.items() if is_secret_key(k) and v and not v.startswith("change-me")
    }
    assert not real, (
        f".env.example must hold placeholders (change-me...), not secrets: {sorted(real)}"
    )


def test_postgres_init_script_creates_both_databases_from_env() -> None:
    svc = service(COMPONENT_SERVICES["postgres"])
    mounted = {
        target: source
        for target, source in volume_sources(svc).items()
        if target.startswith("/docker-entrypoint-initdb.d/")
    }
    assert any((ROOT / src).resolve() == POSTGRES_INIT for src in mounted.values()), (
        f"postgres must mount ./stack/compose/postgres-init.sh in /docker-entrypoint-initdb.d/, "
        f"mounts {mounted}"
    )
    env = environment(svc)
    script = POSTGRES_INIT.read_text(encoding="utf-8")
    for variable in ("AIRFLOW_DB_PASSWORD", "SERVING_DB_PASSWORD"):
        assert variable in env, f"postgres service must pass {variable} to the init script"
        assert variable in script, f"postgres-init.sh must read {variable}"
    for default in ("airflow", "serving", "ad_serving"):
        assert re.search(rf":-{default}}}", script), f"postgres-init.sh must default to {default}"
    bash = shutil.which("bash")
    assert bash is not None, "bash is needed to syntax-check postgres-init.sh"
    checked = subprocess.run(
        [bash, "-n", str(POSTGRES_INIT)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, f"postgres-init.sh has a syntax error: {checked.stderr}"
