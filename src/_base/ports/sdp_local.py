"""Running a Spark Declarative Pipelines project here, with PySpark's own ``spark-pipelines``.

    catalog = LocalCatalog(folder)                   # a Hive metastore (Derby) + warehouse
    catalog.prepare(settings, schemas, tables, views)    # in a Spark of its own
    run = run_pipeline(settings, project, spec, catalog, env, dry=False)

What the local engine needs, measured here:

* it runs only through Spark Connect, so each run starts a JVM of its own (about 20 s);
* a dataset's schema must exist before the run, and a pipeline cannot create one
  (``CREATE SCHEMA`` is refused inside it), so :meth:`LocalCatalog.prepare` creates the
  schemas and the tables read from outside in a Spark session of its own first;
* the default in-memory catalog fails a second run with ``LOCATION_ALREADY_EXISTS``, so
  the catalog is a Hive metastore (Derby, one JVM at a time) kept across the runs;
* static confs (the catalog, the warehouse, the JDBC driver) go on the command line as
  ``--conf``: in the spec's ``configuration`` they fail only when a flow executes;
* ``spark-pipelines`` finds ``spark-class`` only with the venv's ``bin`` on ``PATH``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from src.utils.errors import PipelineError

log = logging.getLogger(__name__)

RUN_TIMEOUT_S = 900


@dataclass(frozen=True)
class LocalCatalog:
    """A Hive metastore (Derby) and its warehouse folder under ``folder``."""

    folder: Path

    @property
    def warehouse(self) -> Path:
        return self.folder / "warehouse"

    def confs(self, jdbc_jar: Path | None = None) -> dict[str, str]:
        """The static confs of every Spark that uses this catalog."""
        metastore = self.folder / "metastore"
        confs = {
            "spark.sql.catalogImplementation": "hive",
            "spark.sql.warehouse.dir": str(self.warehouse),
            "spark.hadoop.javax.jdo.option.ConnectionURL": (
                f"jdbc:derby:;databaseName={metastore};create=true"
            ),
            "spark.driver.extraJavaOptions": f"-Dderby.system.home={self.folder}",
            "spark.sql.session.timeZone": "UTC",
            "spark.ui.enabled": "false",
            # Small data on few cores: 200 shuffle partitions cost more than the work.
            "spark.sql.shuffle.partitions": "4",
        }
        if jdbc_jar is not None:  # on the driver's own class path: Connect runs there
            confs["spark.jars"] = str(jdbc_jar)
            confs["spark.driver.extraClassPath"] = str(jdbc_jar)
        return confs

    def table_path(self, table: str) -> Path:
        """Where a managed table (a materialized view) of ``schema.table`` keeps its files."""
        schema, name = table.split(".")
        return self.warehouse / f"{schema}.db" / name

    def prepare(self, schemas: Sequence[str], tables: Mapping[str, str],
                views: Mapping[str, str]) -> None:  # fmt: skip
        """Create ``schemas``, ``tables`` (name → a folder of Parquet files) and ``views``
        (name → SELECT) in the metastore, in a Spark session of its own."""
        self.folder.mkdir(parents=True, exist_ok=True)
        plan = self.folder / "prepare.json"
        plan.write_text(
            json.dumps({"schemas": list(schemas), "tables": dict(tables), "views": dict(views)})
        )
        command = [sys.executable, "-m", "src._base.ports.sdp_local", str(self.folder)]
        done = subprocess.run(
            command, env=_spark_env(), capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
            cwd=Path(__file__).resolve().parents[3], check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise PipelineError(
                f"Preparing the local catalog in {self.folder} failed: "
                f"{first_error(done.stdout + done.stderr)}"
            )


def _spark_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    env["PYSPARK_PYTHON"] = sys.executable
    env.update(extra or {})
    return env


_ERROR_CLASS = re.compile(r"(\[[A-Z][A-Z_.]+\] .*)")
_EXCEPTION = re.compile(r"(Error: .*|\w+(?:Exception|Error): .+)")


def first_error(output: str) -> str:
    """What went wrong in a Spark run's output: the flows that failed (when the run
    names them) and the first line that says why."""
    flows = next(
        (
            line.split(":", 1)[1].strip()
            for line in output.splitlines()
            if line.strip().startswith("Flows with errors:") and line.split(":", 1)[1].strip()
        ),
        "",
    )
    found = _first_error_line(output)
    return f"flow(s) {flows}: {found}" if flows else found


def _first_error_line(output: str) -> str:
    """The first line naming a Spark error class (``[UNRESOLVED_COLUMN...] ...``), else
    the first exception line: the JVM also logs exceptions it recovers from."""
    lines = [
        line.strip()
        for line in output.splitlines()
        if line.strip()
        and not line.strip().startswith(("at ", "File ", "Traceback"))
        and "WARN" not in line[:40]
        and "Warning" not in line
    ]
    for pattern in (_ERROR_CLASS, _EXCEPTION):
        for line in lines:
            found = pattern.search(line)
            if found:
                return found.group(1).removeprefix("Error: ")[:400]
    return lines[-1][:400] if lines else "no output"


@dataclass(frozen=True)
class PipelineRun:
    ok: bool
    seconds: float
    error: str
    log_path: Path


def run_pipeline(
    spec: Path,
    catalog: LocalCatalog,
    *,
    jdbc_jar: Path | None = None,
    env: Mapping[str, str] | None = None,
    dry: bool = False,
) -> PipelineRun:
    """``spark-pipelines run`` (or ``dry-run``) of ``spec``; its output goes to a log file
    beside the spec."""
    verb = "dry-run" if dry else "run"
    command = [str(Path(sys.executable).parent / "spark-pipelines"), verb, "--spec", str(spec)]
    for key, value in catalog.confs(jdbc_jar).items():
        command[2:2] = ["--conf", f"{key}={value}"]
    log_path = spec.with_suffix(f".{verb}.log")
    started = time.perf_counter()
    with log_path.open("w") as out:
        done = subprocess.run(
            command, env=_spark_env(env), stdout=out, stderr=subprocess.STDOUT,
            timeout=RUN_TIMEOUT_S, cwd=spec.parent, check=False,
        )  # fmt: skip
    seconds = time.perf_counter() - started
    output = log_path.read_text()
    ok = done.returncode == 0 and "Run is COMPLETED" in output
    log.info("spark-pipelines %s %s: %s in %.1f s", verb, spec.name, ok, seconds)
    return PipelineRun(ok, seconds, "" if ok else first_error(output), log_path)


def _prepare(folder: Path) -> None:
    """In this process: the catalog's schemas, external tables and views."""
    from pyspark.sql import SparkSession

    catalog = LocalCatalog(folder)
    plan = json.loads((folder / "prepare.json").read_text())
    builder = SparkSession.builder.master("local[1]").appName("medallion-sdp-prepare")
    for key, value in catalog.confs().items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    try:
        for schema in plan["schemas"]:
            spark.sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for table, path in plan["tables"].items():
            spark.sql(f"DROP TABLE IF EXISTS {table}")
            spark.sql(f"CREATE TABLE {table} USING parquet LOCATION '{path}'")
        for view, select in plan["views"].items():
            spark.sql(f"CREATE OR REPLACE VIEW {view} AS {select}")
    finally:
        spark.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        sys.stderr.write("usage: python -m src._base.ports.sdp_local <catalog folder>\n")
        return 2
    _prepare(Path(args[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
