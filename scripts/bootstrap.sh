#!/usr/bin/env bash
# Set up everything dagstorm needs on a fresh Debian machine, idempotently:
#   1. system packages (PostgreSQL server, Java 17, Maven, Redis) when missing (needs root),
#   2. the harness virtualenv .venv with dagstorm and its dev tools,
#   3. the embedded stack's components (`dagstorm stack install`: Kafka jars from
#      Maven Central, Toxiproxy from the Go module proxy, Airflow's own venv from PyPI).
# A second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

need_apt=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need_apt+=(postgresql)
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)   # Celery's broker
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)   # the report's browser test
if [ "${#need_apt[@]}" -gt 0 ]; then
  step "apt-get install ${need_apt[*]}"
  if [ "$(id -u)" != 0 ]; then
    echo "bootstrap: need root to install ${need_apt[*]} (or install them yourself)" >&2
    exit 3
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q "${need_apt[@]}"
fi
command -v go >/dev/null 2>&1 || {
  echo "bootstrap: Go >= 1.23 is needed to build Toxiproxy; put it on PATH" >&2
  exit 3
}

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  step "create .venv ($($PYTHON --version))"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.dagstorm-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  step "pip install -e '.[dev,tui,bench]' (pyspark builds a wheel on first install: a few minutes)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev,tui,bench]'
  touch "$stamp"
fi

step "dagstorm stack install"
.venv/bin/dagstorm stack install
