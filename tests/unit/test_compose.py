"""Static checks of docker-compose.yml against the embedded stack's definition.

No Docker engine runs on the project's machines, so the compose stack is never
started here: these tests parse docker-compose.yml, stack/compose/toxiproxy.json,
stack/compose/airflow.Dockerfile and .env.example and compare them with
:mod:`dagstorm.stack.topology` and the defaults of :class:`dagstorm.stack.config.Ports`
and :class:`~dagstorm.stack.config.CelerySettings`. The compose file holds the
CeleryExecutor stack's components too (Redis, the Celery workers) under the profile
``celery``; the executor itself is the variable ``DAGSTORM_AIRFLOW_EXECUTOR``.
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

import pytest
import yaml

from dagstorm.stack import topology
from dagstorm.stack.config import AirflowSettings, CelerySettings, Ports
from dagstorm.stack.embedded.components.airflow import AirflowCeleryWorker

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_DIR = ROOT / "stack" / "compose"
TOXIPROXY_CONFIG = COMPOSE_DIR / "toxiproxy.json"
AIRFLOW_DOCKERFILE = COMPOSE_DIR / "airflow.Dockerfile"
POSTGRES_INIT = COMPOSE_DIR / "postgres-init.sh"
ENV_EXAMPLE = ROOT / ".env.example"
AIRFLOW_REQUIREMENTS = ROOT / "stack" / "airflow" / "requirements.txt"

PORTS = Ports()
CELERY = CelerySettings()

#: The compose file holds every component and link of the CeleryExecutor stack.
FULL: topology.Executor = "celery"
#: The profile that switches on what only the CeleryExecutor stack has.
CELERY_PROFILE = "celery"
#: The stack config's executor -> Airflow's executor class.
EXECUTOR_CLASS: dict[str, str] = {"local": "LocalExecutor", "celery": "CeleryExecutor"}

#: Embedded component (topology.component_order, Celery workers aside) -> compose service.
COMPONENT_SERVICES: dict[str, str] = {
    "postgres": "postgres",
    "toxiproxy": "toxiproxy",
    "redis": "redis",
    "kafka": "kafka",
    "spark-master": "spark-master",
    "spark-worker": "spark-worker",
    "spark-history": "spark-history",
    "airflow-api-server": "airflow-api-server",
    "airflow-scheduler": "airflow-scheduler",
    "airflow-dag-processor": "airflow-dag-processor",
    "airflow-triggerer": "airflow-triggerer",
}
#: The one service every Celery worker component (``airflow-celery-worker-<n>``) is a
#: replica of: ``deploy.replicas`` / ``--scale`` says how many.
WORKER_SERVICE = "airflow-celery-worker"
#: The .env variable that picks Airflow's executor for every Airflow service.
EXECUTOR_VARIABLE = "DAGSTORM_AIRFLOW_EXECUTOR"

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
    "redis": ("redis", PORTS.redis),
    "celery_broker": ("toxiproxy", PORTS.celery_broker),
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
        "celery_broker",
    }
)
#: Ports that stay inside the compose network: clients must cross Toxiproxy.
UNPUBLISHED_PORTS = frozenset(
    {"kafka_broker", "kafka_controller", "kafka_internal", "airflow_api_server", "redis"}
)
#: Ports of listeners dagstorm itself runs on the host (containers send to them).
HOST_SIDE_PORTS = frozenset({"statsd", "alert_sink"})

AIRFLOW_SERVICES = (
    "airflow-init",
    "airflow-api-server",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    WORKER_SERVICE,
)
SECRET_KEY_RE = re.compile(r"PASSWORD|SECRET|FERNET", re.IGNORECASE)
#: A whole value that is one interpolation: ${VAR}, ${VAR:?msg}, ${VAR?msg} or an
#: empty default (${VAR:-} / ${VAR-}); a non-empty default would be a literal secret.
SECRET_VALUE_RE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(?:(?::?\?)[^}]*|:?-)?\}$")
INTERPOLATION_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}")
#: The password of a URL's userinfo (the user may be empty, as in redis://:PASSWORD@):
#: one ${...} interpolation (its message may hold spaces) or a literal.
URL_PASSWORD_RE = re.compile(r"://[^:/@\s]*:(\$\{[^}]*\}|[^@\s/]+)@")


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


def interpolation_default(value: str) -> tuple[str, str]:
    """(variable, default) of a value that is exactly ``${VAR:-default}``."""
    match = re.fullmatch(r"\$\{([A-Za-z_][A-Za-z0-9_]*):-([^}]*)\}", value.strip())
    assert match, f"{value!r} must be ${{VARIABLE:-default}}"
    return match[1], match[2]


def url_passwords(value: str) -> list[str]:
    """The password of each URL with userinfo in ``value``."""
    return [m[1] for m in URL_PASSWORD_RE.finditer(value)]


def service_of(component: str) -> str:
    """The compose service playing an embedded component (workers: replicas of one)."""
    if component.startswith(topology.WORKER_PREFIX):
        return WORKER_SERVICE
    return COMPONENT_SERVICES[component]


def celery_only_services() -> frozenset[str]:
    """Services of the components only a CeleryExecutor stack has (Redis, the workers)."""
    local = set(topology.component_order("local"))
    return frozenset(
        service_of(c) for c in topology.component_order(FULL, CELERY.workers) if c not in local
    )


def profiles(svc: dict[str, Any]) -> list[str]:
    return [str(p) for p in svc.get("profiles") or []]


def unescaped(text: str) -> str:
    """What a container receives of a compose string: ``$$`` becomes ``$``."""
    return text.replace("$$", "$")


def seconds(duration: str) -> float:
    """A compose duration such as ``30s``, ``1m30s`` or ``500ms`` in seconds."""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, f"bad duration {duration!r}"
    return sum(float(n) * units[u] for n, u in parts)


# ------------------------------------------------------------------------ services


def test_every_component_of_the_embedded_stack_is_a_compose_service() -> None:
    fixed = set(topology.component_order(FULL, 0))  # every component but the workers
    assert set(COMPONENT_SERVICES) == fixed, (
        "COMPONENT_SERVICES must map exactly topology.component_order('celery') without "
        f"its workers; differs by {sorted(set(COMPONENT_SERVICES) ^ fixed)}"
    )
    workers = [c for c in topology.component_order(FULL, 3) if c not in fixed]
    assert workers == [topology.worker_name(n) for n in (1, 2, 3)], workers
    missing = sorted(
        f"{component} (service {service_of(component)})"
        for component in topology.component_order(FULL, 3)
        if service_of(component) not in services()
    )
    assert not missing, f"components without a compose service: {missing}"


def test_compose_has_no_service_outside_the_topology() -> None:
    played = {service_of(c) for c in topology.component_order(FULL, 1)}
    extra = sorted(set(services()) - played - ONE_SHOT_SERVICES)
    assert not extra, (
        f"services {extra} are neither embedded components nor known one-shot jobs: "
        "add them to dagstorm/stack/topology.py (and COMPONENT_SERVICES) or remove them"
    )


def test_celery_components_are_exactly_the_celery_profile() -> None:
    celery = celery_only_services()
    assert celery == {COMPONENT_SERVICES["redis"], WORKER_SERVICE}, sorted(celery)
    wrong = {
        name: profiles(svc)
        for name, svc in services().items()
        if profiles(svc) != ([CELERY_PROFILE] if name in celery else [])
    }
    assert not wrong, (
        f"only {sorted(celery)} carry `profiles: [{CELERY_PROFILE}]` (what a LocalExecutor "
        f"stack lacks); every other service has no profile: {wrong}"
    )


def test_no_always_on_service_requires_a_profiled_one() -> None:
    # A `depends_on` on a service of an inactive profile makes the whole project
    # invalid ("depends on undefined service") unless it says `required: false`.
    problems = [
        f"{name} -> {dep}: needs `required: false` (without the {profiles(service(dep))} "
        "profile the project would be invalid)"
        for name, svc in services().items()
        if not profiles(svc)
        for dep, spec in depends_on(svc).items()
        if dep in services() and profiles(service(dep)) and (spec or {}).get("required", True)
    ]
    assert not problems, "\n".join(problems)


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


def test_dockerfile_pins_airflow_and_the_embedded_providers() -> None:
    runs = " ".join(args for keyword, args in dockerfile_instructions() if keyword == "RUN")
    pins = dict(re.findall(r"(apache-airflow[\w-]*)==([\w.]+)", runs))
    airflow_version = re.match(r"[\d.]+\d", image_tag(dockerfile_stages()[-1][0]))
    assert airflow_version, "the apache/airflow tag must start with the Airflow version"
    embedded = dict(
        re.findall(
            r"^(apache-airflow-providers-[\w-]+)==([\w.]+)",
            AIRFLOW_REQUIREMENTS.read_text(encoding="utf-8"),
            re.M,
        )
    )
    assert "apache-airflow-providers-celery" in embedded, embedded
    expected = {"apache-airflow": airflow_version[0], **embedded}
    wrong = sorted(
        f"{pkg}=={pins.get(pkg)} (expected {version})"
        for pkg, version in expected.items()
        if pins.get(pkg) != version
    )
    assert not wrong, (
        f"{AIRFLOW_DOCKERFILE.name}: pip install must pin Airflow to the base image's "
        f"version and every provider as {AIRFLOW_REQUIREMENTS.name} does: {wrong}"
    )
    # Celery itself too: 5.7.0 broke the provider's import of celery.backends.database.retry.
    celery_pin = r"celery\[redis\]==([\w.]+)"
    embedded_celery = re.findall(celery_pin, AIRFLOW_REQUIREMENTS.read_text(encoding="utf-8"))
    assert embedded_celery and re.findall(celery_pin, runs) == embedded_celery, runs


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
    order = topology.component_order(FULL, 1)
    component_of = {service_of(comp): comp for comp in order}
    rank: dict[str, float] = {}

    def rank_of(name: str, seen: tuple[str, ...] = ()) -> float:
        assert name not in seen, f"dependency cycle: {' -> '.join((*seen, name))}"
        if name not in rank:
            if name in component_of:
                rank[name] = float(order.index(component_of[name]))
            else:  # a one-shot job runs right after its own dependencies
                deps = depends_on(service(name))
                rank[name] = max((rank_of(d, (*seen, name)) for d in deps), default=-1.0) + 0.5
        return rank[name]

    backwards = [
        f"{name} depends on {dep}, which starts after it in topology.component_order"
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
    expected = [link.name for link in topology.stack_links(FULL)]
    assert sorted(names) == sorted(expected), (
        f"{TOXIPROXY_CONFIG.name} proxies {names} != topology.stack_links('celery') {expected}"
    )
    disabled = [p["name"] for p in proxies() if p.get("enabled") is not True]
    assert not disabled, f"proxies must start enabled: {disabled}"


def test_toxiproxy_listen_ports_match_ports_defaults() -> None:
    by_name = {p["name"]: p for p in proxies()}
    wrong = []
    for link in topology.stack_links(FULL):
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
    for link in topology.stack_links(FULL):
        svc, container_port = PORT_LOCATIONS[link.upstream_port]
        expected = f"{svc}:{container_port}"
        actual = by_name.get(link.name, {}).get("upstream")
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


def test_toxiproxy_healthcheck_waits_for_the_last_proxy_of_the_config() -> None:
    # The config file is loaded in order before the API answers: the last proxy
    # existing means every proxy does.
    test = service(COMPONENT_SERVICES["toxiproxy"])["healthcheck"]["test"]
    last = proxies()[-1]["name"]
    assert test[0] == "CMD" and test[-2:] == ["inspect", last], (
        f"toxiproxy's healthcheck must `toxiproxy-cli inspect {last}` (the last proxy of "
        f"{TOXIPROXY_CONFIG.name}), is {test}"
    )


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


def test_scheduler_triggerer_and_workers_skip_serve_logs() -> None:
    subcommands = {
        COMPONENT_SERVICES["airflow-scheduler"]: ["scheduler"],
        COMPONENT_SERVICES["airflow-triggerer"]: ["triggerer"],
        WORKER_SERVICE: ["celery", "worker"],
    }
    for name, subcommand in subcommands.items():
        words = command_words(service(name))
        assert words[: len(subcommand)] == subcommand, (
            f"{name} must run `airflow {' '.join(subcommand)}`, runs {words}"
        )
        assert "--skip-serve-logs" in words, (
            f"{name} must run with --skip-serve-logs (its log server binds 0.0.0.0), runs {words}"
        )


def test_every_airflow_service_shares_the_image_and_environment() -> None:
    shared = {str(k): str(v) for k, v in compose()["x-airflow-env"].items()}
    image = service(COMPONENT_SERVICES["airflow-scheduler"])["image"]
    for name in AIRFLOW_SERVICES:
        svc = service(name)
        assert svc["image"] == image, f"{name} runs {svc['image']}, the scheduler {image}"
        env = environment(svc)
        differs = sorted(k for k, v in shared.items() if env.get(k) != v)
        assert not differs, f"{name}: environment must include x-airflow-env; differs: {differs}"


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


def test_one_variable_picks_the_executor_local_by_default() -> None:
    values = {
        name: environment(service(name)).get("AIRFLOW__CORE__EXECUTOR", "")
        for name in AIRFLOW_SERVICES
    }
    assert len(set(values.values())) == 1, f"every Airflow service, one executor: {values}"
    variable, default = interpolation_default(values[AIRFLOW_SERVICES[0]])
    assert variable == EXECUTOR_VARIABLE, f"the executor's variable is {variable}"
    expected = EXECUTOR_CLASS[AirflowSettings().executor]
    assert default == expected, f"default executor {default}, the embedded stack's is {expected}"
    example = ENV_EXAMPLE.read_text(encoding="utf-8")
    assert re.search(rf"^#\s*COMPOSE_PROFILES={CELERY_PROFILE}$", example, re.M), (
        f".env.example must show (commented) COMPOSE_PROFILES={CELERY_PROFILE} with "
        f"{EXECUTOR_VARIABLE}"
    )


def test_celery_broker_and_result_backend_cross_toxiproxy() -> None:
    toxiproxy = COMPONENT_SERVICES["toxiproxy"]
    broker_at = (toxiproxy, getattr(PORTS, topology.CELERY_BROKER_LINK.listen_port))
    redis_password = environment(service(COMPONENT_SERVICES["redis"])).get("REDIS_PASSWORD", "")
    for name in AIRFLOW_SERVICES:
        env = environment(service(name))
        broker_url = env.get("AIRFLOW__CELERY__BROKER_URL", "")
        broker = urlsplit(without_interpolations(broker_url))
        assert broker.scheme == "redis" and (broker.hostname, broker.port) == broker_at, (
            f"{name}: the Celery broker must be reached at {broker_at[0]}:{broker_at[1]} "
            f"(the celery-broker link), got {broker_url!r}"
        )
        assert url_passwords(broker_url) == [redis_password], (
            f"{name}: the broker URL's password must be the redis service's "
            f"REDIS_PASSWORD {redis_password!r}, got {url_passwords(broker_url)}"
        )
        backend_url = env.get("AIRFLOW__CELERY__RESULT_BACKEND", "")
        backend = urlsplit(without_interpolations(backend_url))
        metadata = urlsplit(without_interpolations(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]))
        assert backend.scheme == "db+postgresql" and (
            backend.hostname,
            backend.port,
            backend.username,
            backend.path,
        ) == (metadata.hostname, metadata.port, metadata.username, metadata.path), (
            f"{name}: Celery's result backend must be the metadata DB through the airflow-db "
            f"link (db+postgresql://…), got {backend_url!r}"
        )


def test_celery_worker_is_scalable_with_the_embedded_defaults() -> None:
    svc = service(WORKER_SERVICE)
    fixed = sorted(key for key in ("container_name", "hostname", "ports") if svc.get(key))
    assert not fixed, f"{WORKER_SERVICE} must scale (`--scale`): remove {fixed}"
    _, replicas = interpolation_default(str((svc.get("deploy") or {}).get("replicas", "")))
    assert int(replicas) == CELERY.workers, (
        f"{WORKER_SERVICE}: default replicas {replicas}, CelerySettings.workers {CELERY.workers}"
    )
    env = environment(svc)
    _, concurrency = interpolation_default(env.get("AIRFLOW__CELERY__WORKER_CONCURRENCY", ""))
    assert int(concurrency) == CELERY.concurrency, (
        f"{WORKER_SERVICE}: default concurrency {concurrency}, "
        f"CelerySettings.concurrency {CELERY.concurrency}"
    )
    assert env.get("DUMB_INIT_SETSID") == "0", (
        f"{WORKER_SERVICE}: DUMB_INIT_SETSID=0, so SIGTERM reaches Celery alone (warm shutdown)"
    )
    grace = seconds(str(svc.get("stop_grace_period", "10s")))
    assert grace >= AirflowCeleryWorker.stop_timeout, (
        f"{WORKER_SERVICE}: stop_grace_period {grace} s < the embedded worker's "
        f"{AirflowCeleryWorker.stop_timeout} s for a warm shutdown"
    )
    assert {COMPONENT_SERVICES["airflow-scheduler"], COMPONENT_SERVICES["redis"]} <= set(
        depends_on(svc)
    ), f"{WORKER_SERVICE} must wait for the scheduler and Redis, waits for {depends_on(svc)}"


def run_guard(tmp_path: Path, name: str, executor: str, redis: bool) -> tuple[int, str, str]:
    """Run a service's entrypoint + command with fake ``getent`` and ``dumb-init``."""
    entrypoint = [unescaped(str(word)) for word in service(name).get("entrypoint") or []]
    assert entrypoint[:2] == ["/bin/bash", "-c"], f"{name}: entrypoint {entrypoint[:2]}"
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    found = 0 if redis else 2
    (fake / "getent").write_text(f'#!/bin/sh\n[ "$*" = "hosts redis" ] && exit {found}\nexit 2\n')
    (fake / "dumb-init").write_text('#!/bin/sh\necho "dumb-init $*"\n')
    for tool in fake.iterdir():
        tool.chmod(0o755)
    bash = shutil.which("bash")
    assert bash is not None
    done = subprocess.run(
        [bash, *entrypoint[1:], *command_words(service(name))],
        env={"PATH": f"{fake}:/usr/bin:/bin", "AIRFLOW__CORE__EXECUTOR": executor},
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return done.returncode, done.stdout.strip(), done.stderr.strip()


def test_scheduler_and_workers_share_the_executor_guard() -> None:
    scheduler = service(COMPONENT_SERVICES["airflow-scheduler"]).get("entrypoint")
    assert scheduler and scheduler == service(WORKER_SERVICE).get("entrypoint")


@pytest.mark.parametrize(
    ("name", "executor", "redis", "refusal"),
    [
        (WORKER_SERVICE, "LocalExecutor", True, f"{EXECUTOR_VARIABLE}=CeleryExecutor"),
        ("airflow-scheduler", "CeleryExecutor", False, f"COMPOSE_PROFILES={CELERY_PROFILE}"),
        (WORKER_SERVICE, "CeleryExecutor", True, None),
        ("airflow-scheduler", "CeleryExecutor", True, None),
        ("airflow-scheduler", "LocalExecutor", False, None),
    ],
)
def test_the_executor_guard_refuses_a_profile_the_executor_disagrees_with(
    tmp_path: Path, name: str, executor: str, redis: bool, refusal: str | None
) -> None:
    code, out, err = run_guard(tmp_path, name, executor, redis)
    if refusal is not None:
        assert code == 1 and not out and refusal in err, (code, out, err)
    else:
        words = " ".join(command_words(service(name)))
        assert (code, out, err) == (0, f"dumb-init -- /entrypoint {words}", "")


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


# ---------------------------------------------------------------------------- redis


def redis_script() -> str:
    """The shell script the redis service runs (``sh -c SCRIPT``), as the container sees it."""
    svc = service(COMPONENT_SERVICES["redis"])
    assert svc.get("entrypoint") == ["/bin/sh", "-c"], f"redis entrypoint {svc.get('entrypoint')}"
    command = svc.get("command")
    assert isinstance(command, list) and len(command) == 1, f"redis command {command!r}"
    return unescaped(str(command[0]))


def redis_config() -> dict[str, str]:
    """Directive -> value of the config the script writes (one quoted line each)."""
    lines = [m[2] for m in re.finditer(r"^\s*(['\"])(.*)\1 \\$", redis_script(), re.M)]
    return dict(line.partition(" ")[::2] for line in lines)


def test_redis_listens_on_the_ports_default_with_its_password_from_env() -> None:
    config = redis_config()
    assert config.get("port") == str(PORTS.redis), f"redis port {config.get('port')}"
    password = environment(service(COMPONENT_SERVICES["redis"])).get("REDIS_PASSWORD", "")
    assert SECRET_VALUE_RE.match(password), f"REDIS_PASSWORD {password!r}"
    assert config.get("requirepass") == "$REDIS_PASSWORD", (
        f"requirepass must come from $REDIS_PASSWORD, is {config.get('requirepass')!r}"
    )


def test_redis_password_stays_off_command_lines() -> None:
    script = redis_script()
    target = re.search(r"> (\S+)\s*$", script, re.M)
    assert target, "the redis script must write its config file with `> FILE`"
    umask = script.find("umask 077")
    assert 0 <= umask < target.start(), "umask 077 before the config file is written"
    assert re.search(rf"^exec redis-server {re.escape(target[1])}$", script, re.M), (
        f"redis-server must start from {target[1]} alone (no options on its command line)"
    )
    check = " ".join(service(COMPONENT_SERVICES["redis"])["healthcheck"]["test"])
    assert 'REDISCLI_AUTH="$$REDIS_PASSWORD"' in check and " -a " not in check, check
    assert f"-p {PORTS.redis}" in check, f"redis healthcheck must ping port {PORTS.redis}"


def test_redis_persists_nothing_like_the_embedded_broker() -> None:
    config = redis_config()
    assert (config.get("save"), config.get("appendonly")) == ('""', "no"), config


# ---------------------------------------------------------------------- credentials


def test_the_url_password_scan_finds_literals_and_accepts_interpolations() -> None:
    assert url_passwords("redis://:hunter2@toxiproxy:16379/0") == ["hunter2"]
    assert url_passwords("postgresql://u:${PW:?set PW in .env}@h:1/db") == ["${PW:?set PW in .env}"]
    assert url_passwords("http://airflow-api-server:28080/execution/") == []


def test_no_literal_passwords_in_environment() -> None:
    literal = []
    for name, svc in services().items():
        for key, value in environment(svc).items():
            if is_secret_key(key) and not SECRET_VALUE_RE.match(value):
                literal.append(f"{name}.{key}={value!r}")
            for userinfo_pw in url_passwords(value):
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


def test_env_example_values_are_the_compose_defaults() -> None:
    listed = dict(
        line.partition("=")[::2]
        for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )
    text = COMPOSE_FILE.read_text(encoding="utf-8").replace("$$", "")
    defaults: dict[str, set[str]] = {}
    for match in INTERPOLATION_RE.finditer(text):
        if match[2].startswith(":-"):
            defaults.setdefault(match[1], set()).add(match[2][2:])
    wrong = {
        var: (listed.get(var), sorted(values))
        for var, values in defaults.items()
        if len(values) != 1 or listed.get(var) not in values
    }
    assert not wrong, f".env.example must show the compose file's one default: {wrong}"


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
