"""docker-compose.yml cannot run here (no Docker engine); check its structure instead."""

from __future__ import annotations

import yaml

from src.config import PROJECT_ROOT, Settings

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_services_present() -> None:
    assert {"postgres", "airflow", "spark-master", "spark-worker"} <= set(SERVICES)
    assert SERVICES["postgres"]["image"].startswith("postgres:15")
    assert SERVICES["airflow"]["image"].startswith("apache/airflow:3.")
    assert SERVICES["airflow"]["command"] == "standalone"


def test_ports_are_bound_to_loopback_only() -> None:
    for name, service in SERVICES.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on all interfaces"


def test_project_services_read_the_same_settings_as_the_code() -> None:
    known = {
        field.validation_alias
        for field in Settings.model_fields.values()
        if isinstance(field.validation_alias, str)
    }
    env = SERVICES["airflow"]["environment"]
    assert env["PGHOST"] == "postgres"
    assert str(env["PGPORT"]) == "5432"
    for var in ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD"):
        assert var in known and var in env
    assert env["PGPASSWORD"].startswith("${PGPASSWORD:?"), "no default password in the file"


def test_airflow_waits_for_a_healthy_database() -> None:
    assert SERVICES["airflow"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "pg_isready" in " ".join(SERVICES["postgres"]["healthcheck"]["test"])


def test_spark_worker_joins_the_master() -> None:
    assert "spark://spark-master:7077" in SERVICES["spark-worker"]["command"]
