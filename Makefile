# dagstorm's two entry points (see README): `make smoke` and `make test`.
# Both set everything up first (scripts/bootstrap.sh is idempotent: seconds when done).
.PHONY: setup smoke test lint unit integration down

VENV := .venv/bin

setup:
	scripts/bootstrap.sh

smoke: setup
	$(VENV)/dagstorm stack up
	$(VENV)/dagstorm stack check
	$(VENV)/dagstorm run scenarios/smoke.yaml

lint:
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy
	$(VENV)/lint-imports

unit:
	$(VENV)/pytest tests/unit

integration:
	$(VENV)/pytest tests/integration

# The slowest tests are listed at the end, so CI's time budget can be read off its log.
test: setup lint
	$(VENV)/pytest --durations=25

down:
	$(VENV)/dagstorm stack down
