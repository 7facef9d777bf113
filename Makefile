# Common commands. `make serve` runs the service; `make test` runs every check CI runs.
export UV_PYTHON_DOWNLOADS := never
UV ?= uv
RUN := $(UV) run --locked

.PHONY: install serve test lint fmt type pytest coverage schema docker-lint bench fuzz validate clean

install:            ## create .venv from uv.lock (bootstraps uv with pip when missing)
	@command -v $(UV) >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --locked

HOST ?= 127.0.0.1
PORT ?= 8000

serve: install      ## run the API on $(HOST):$(PORT) with the embedded SQLite database (make serve PORT=8080)
	$(RUN) capplan serve --host $(HOST) --port $(PORT)

test: install lint type pytest docker-lint   ## everything CI checks

lint:
	$(RUN) ruff check service tests migrations bench scripts
	$(RUN) ruff format --check service tests migrations bench scripts

fmt:
	$(RUN) ruff format service tests migrations bench scripts
	$(RUN) ruff check --fix service tests migrations bench scripts

type:
	$(RUN) mypy

# pytest-xdist workers: one per core. The suite is ~8 CPU-minutes with coverage, so on an idle
# 2-core machine only two workers bring it near 5 minutes; on a machine already busy with other
# work one process is faster: `make pytest PYTEST_WORKERS=0`. Work stealing: each worker starts
# on its own half of the suite, so the back-test fixture (tests/accuracy, collected first) is
# computed by one worker, not by both as round-robin dealing does.
PYTEST_WORKERS ?= auto
pytest:             ## the suite on SQLite, and on PostgreSQL when CAPPLAN_TEST_POSTGRES_URL is set
	$(RUN) pytest -n $(PYTEST_WORKERS) --dist worksteal

coverage:           ## the suite with branch coverage (about twice the CPU time of `make pytest`)
	$(RUN) pytest -n $(PYTEST_WORKERS) --cov --cov-report=term-missing:skip-covered

schema:             ## regenerate openapi.yaml from the app
	$(RUN) capplan openapi --output openapi.yaml

docker-lint:
	$(RUN) hadolint Dockerfile

bench:              ## /v1/plan latency against a live server on loopback
	$(RUN) python bench/plan_latency.py

fuzz:               ## schemathesis, >= 20,000 cases, against a live server on loopback: zero 5xx (not in CI; ~20-30 min)
	nice $(RUN) python bench/fuzz.py

validate:           ## predicted vs measured report (docs/validation.md)
	$(RUN) capplan validate --output docs/validation.md

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov data
