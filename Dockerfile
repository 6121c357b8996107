# One image for every service of docker-compose.yml: the project with its locked
# dependencies (uv.lock: Airflow, PySpark, ...), Java for Spark and PostgreSQL's JDBC
# driver. Spark's master and workers run from PySpark's own jars (spark-class under
# SPARK_HOME below), so the cluster's Spark is always the version the driver was built
# for, and the executors' Python is the project's, with everything it imports.
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless libpostgresql-jdbc-java procps \
 && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir uv

WORKDIR /opt/project
# Dependencies first (a layer that changes only with the lock), then the project.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project --compile-bytecode
COPY . .
RUN uv sync --frozen --no-dev --compile-bytecode

ENV PATH=/opt/project/.venv/bin:$PATH \
    SPARK_HOME=/opt/project/.venv/lib/python3.11/site-packages/pyspark \
    PYSPARK_PYTHON=/opt/project/.venv/bin/python \
    MEDALLION_JDBC_JAR=/usr/share/java/postgresql.jar \
    MEDALLION_AIRFLOW_HOME=/opt/project/.local/airflow
