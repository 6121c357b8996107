# One tooling contract: `make help`. The two commands a newcomer needs are
# `make demo` (build and run the warehouse on the embedded PostgreSQL) and `make test`.
# Both install what is missing first: uv (via pip), the locked environment, the JDBC driver.

SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
RUN := $(UV) run --frozen --no-sync
# Machines without PostgreSQL server binaries get them from the pgserver package.
PG_BINARIES := $(wildcard /usr/lib/postgresql/*/bin/initdb)$(shell command -v initdb 2>/dev/null)
UV_EXTRAS := $(if $(PG_BINARIES),,--extra pgserver)
JDBC_JAR ?= /usr/share/java/postgresql.jar
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help setup uv venv jdbc browser demo test lint format pg-start pg-stop pg-status \
	pg-reset dags airflow-ui serve clean-loads bench bench-tools clean
DATE ?= 2026-11-20
DB ?=

help: ## list the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: venv jdbc ## install everything the project needs (idempotent)

uv:
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 \
	  || { echo "installing uv with pip"; $(PYTHON) -m pip install --quiet uv; }

# Bytecode compiled once at install: every process (each Airflow task, each script) would
# otherwise compile what it imports, sqlglot and Airflow alone taking a second, whenever
# PYTHONDONTWRITEBYTECODE is set or site-packages is read-only. Later runs only check it.
venv: uv
	@$(UV) sync --frozen $(UV_EXTRAS) --quiet --compile-bytecode

jdbc: ## install PostgreSQL's JDBC driver for Spark (Debian's libpostgresql-jdbc-java)
	@bash scripts/setup_jdbc.sh "$(JDBC_JAR)"

demo: setup ## build the warehouse, generate two days of sources, run the daily DAGs
	@$(RUN) python scripts/demo.py

dags: setup ## run bronze, silver and gold DAGs for DATE (default 2026-11-20) with dag.test()
	@$(RUN) python scripts/airflow_local.py run --date $(DATE)

airflow-ui: setup ## start Airflow's components on this project (UI on http://localhost:8080)
	@$(RUN) python scripts/airflow_local.py standalone --metadata-db postgres --spark-connect

serve: setup ## serve the demo warehouse's read API and status page on http://127.0.0.1:8000
	@$(RUN) python scripts/serve.py

browser: ## install headless Chromium for the status page's test (Debian's chromium)
	@bash scripts/setup_debian_tool.sh chromium chromium "headless browser for the status page test"

bench-tools: ## install wrk, the HTTP load generator bench/bench_api.py drives the API with
	@bash scripts/setup_debian_tool.sh wrk wrk "HTTP load for bench/bench_api.py"

test: setup browser ## run the whole test suite (starts its own PostgreSQL unless PGHOST is set)
	@$(RUN) pytest $(PYTEST_ARGS)

lint: venv ## ruff, black --check and sqlfluff
	$(RUN) ruff check .
	$(RUN) black --check --quiet .
	@sql_files=$$(git ls-files '*.sql' ':!:tests/_base/tables/golden/*'); if [ -n "$$sql_files" ]; then $(RUN) sqlfluff lint $$sql_files; fi

format: venv ## fix what ruff and black can fix
	$(RUN) ruff check --fix .
	$(RUN) black --quiet .

pg-start: venv ## start (or reuse) the embedded PostgreSQL
	@$(RUN) python scripts/local_postgres.py start

pg-stop: venv ## stop the embedded PostgreSQL
	@$(RUN) python scripts/local_postgres.py stop

pg-status: venv ## is the embedded PostgreSQL running, and how to connect
	@$(RUN) python scripts/local_postgres.py status

pg-reset: venv ## stop the embedded PostgreSQL and delete its data
	@$(RUN) python scripts/local_postgres.py reset

clean-loads: setup ## mark loads whose process died as failed, drop their staging tables (DB=name)
	@$(RUN) python scripts/clean_loads.py $(DB)

bench: setup bench-tools ## run the benchmarks in bench/ (minutes; prints tables of ratios)
	@for b in bench/bench_*.py; do $(RUN) python $$b || exit 1; done

clean: ## remove caches (keeps .venv and the embedded server's data)
	rm -rf .pytest_cache .ruff_cache spark-warehouse metastore_db derby.log
