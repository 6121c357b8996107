"""docker-compose.yml and the Dockerfile cannot run here (no Docker engine); check their
structure instead: one project image for Airflow and Spark, Spark from PySpark's own jars,
locked dependencies, loopback-only ports, the same settings the code reads."""

from __future__ import annotations

import re

import yaml

from src.config import PROJECT_ROOT, Settings

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
DOCKERFILE = (PROJECT_ROOT / "Dockerfile").read_text()
PROJECT_SERVICES = ("airflow", "spark-connect", "spark-master", "spark-worker")


def _env() -> dict[str, str]:
    """The ENV instruction's variables (one instruction, continued lines)."""
    body = DOCKERFILE.split("ENV ", 1)[1].replace("\\\n", " ")
    return dict(pair.split("=", 1) for pair in body.split())


def test_services_present() -> None:
    assert {"postgres", "airflow", "spark-master", "spark-worker"} <= set(SERVICES)
    assert SERVICES["postgres"]["image"].startswith("postgres:15")


def test_airflow_and_spark_run_the_projects_own_image() -> None:
    for name in PROJECT_SERVICES:
        service = SERVICES[name]
        assert service["build"] == "." and service["image"] == "medallion-lakehouse:local", name
    assert not [s for s in SERVICES.values() if "apache/spark" in str(s.get("image"))]
    assert SERVICES["airflow"]["command"][:3] == [
        "python",
        "scripts/airflow_local.py",
        "standalone",
    ]


def test_the_image_installs_the_lock_java_and_the_jdbc_driver() -> None:
    assert re.search(r"uv sync --frozen --no-dev", DOCKERFILE)
    assert "COPY pyproject.toml uv.lock" in DOCKERFILE
    assert "openjdk-17-jre-headless" in DOCKERFILE and "libpostgresql-jdbc-java" in DOCKERFILE
    env = _env()
    # Spark's daemons run from the PySpark the project locks: one Spark version everywhere
    assert env["SPARK_HOME"].endswith("/site-packages/pyspark")
    assert env["PYSPARK_PYTHON"] == "/opt/project/.venv/bin/python"
    assert env["MEDALLION_JDBC_JAR"] == "/usr/share/java/postgresql.jar"
    ignored = (PROJECT_ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".local", ".git"} <= set(ignored)  # the image builds its own


def test_spark_daemons_come_from_spark_class_and_the_worker_joins_the_master() -> None:
    master, worker = SERVICES["spark-master"]["command"], SERVICES["spark-worker"]["command"]
    assert master[:2] == ["spark-class", "org.apache.spark.deploy.master.Master"]
    assert worker[:2] == ["spark-class", "org.apache.spark.deploy.worker.Worker"]
    assert "spark://spark-master:7077" in worker
    env = SERVICES["airflow"]["environment"]
    assert env["MEDALLION_SPARK_MASTER"] == "spark://spark-master:7077"
    assert env["MEDALLION_SPARK_DRIVER_HOST"] == SERVICES["airflow"]["hostname"]


def test_tasks_use_the_connect_server_which_drives_the_cluster() -> None:
    connect = SERVICES["spark-connect"]
    assert connect["command"][:2] == ["python", "scripts/spark_connect.py"]
    port = connect["command"][connect["command"].index("--port") + 1]
    host = connect["command"][connect["command"].index("--host") + 1]
    assert host == "0.0.0.0"  # reachable from the Airflow container
    env = SERVICES["airflow"]["environment"]
    assert env["MEDALLION_SPARK_REMOTE"] == f"sc://{connect['hostname']}:{port}"
    assert connect["environment"]["MEDALLION_SPARK_MASTER"] == "spark://spark-master:7077"
    assert connect["environment"]["MEDALLION_SPARK_DRIVER_HOST"] == connect["hostname"]
    assert "spark-connect" in SERVICES["airflow"]["depends_on"]


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
    medallion = [v for v in (*env, *_env()) if v.startswith("MEDALLION_")]
    assert medallion and set(medallion) <= known, set(medallion) - known
    assert env["PGPASSWORD"].startswith("${PGPASSWORD:?"), "no default password in the file"


def test_airflow_waits_for_a_healthy_database() -> None:
    assert SERVICES["airflow"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "pg_isready" in " ".join(SERVICES["postgres"]["healthcheck"]["test"])
