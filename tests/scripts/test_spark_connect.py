"""Jobs on a long-lived Spark Connect server (``MEDALLION_SPARK_REMOTE``): a day run through
the project's own server (``scripts/spark_connect.py``) gives the silver and gold of a
run in the job's own JVM; no server, a bad URL or a taken port is one line naming the
setting or the port, before any JVM starts."""

from __future__ import annotations

import logging
import socket
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from scripts import orchestrate_build, run_pipeline, spark_connect
from src.config import ConnectionSettings, load_settings
from src.demo.generator import SourceSpec
from src.utils.errors import ConfigError, SparkUnreachable
from src.utils.pg_binaries import free_port
from src.utils.spark import connect_address, require_connect_server
from src.utils.spark_connect import (
    SERVER_CLASS,
    connect_server,
    start_connect_server,
    stop_connect_server,
    wait_ready,
    warm_up_now,
)
from tests.demo.conftest import comparable_fingerprint
from tests.scripts.conftest import day_sources, run_day_in_child

DAY = date(2026, 11, 20)
ENVS = ("demo__inproc", "demo__connect")


def test_a_connect_url_is_read_and_a_bad_one_names_the_setting() -> None:
    assert connect_address("sc://spark.example:15010") == ("spark.example", 15010)
    assert connect_address("sc://10.0.0.5/;user_id=etl") == ("10.0.0.5", 15002)
    for bad in ("http://127.0.0.1:15002", "sc://", "sc://host:notaport"):
        with pytest.raises(ConfigError, match=r"MEDALLION_SPARK_REMOTE=.*sc://host:port"):
            connect_address(bad)


def test_no_server_at_the_url_fails_at_once_naming_it(caplog, monkeypatch, use_test_server) -> None:
    port = free_port()
    started = time.monotonic()
    with pytest.raises(SparkUnreachable, match=f"127.0.0.1:{port}.*scripts/spark_connect.py"):
        require_connect_server(f"sc://127.0.0.1:{port}")
    assert time.monotonic() - started < 5  # the client alone retries for minutes
    assert SparkUnreachable.transient  # Airflow retries it: the server may be restarting
    monkeypatch.setenv("MEDALLION_SPARK_REMOTE", f"sc://127.0.0.1:{port}")
    argv = ["demo", "silver", "--date", DAY.isoformat(), "--engine", "spark", "--env", "none"]
    assert run_pipeline.main(argv) == 1
    assert f"No Spark Connect server answers at 127.0.0.1:{port}" in caplog.text
    assert "Traceback" not in caplog.text


def test_the_server_is_started_with_the_sessions_settings() -> None:
    settings = load_settings()
    server = connect_server(settings, port=15099)
    assert server.url == "sc://127.0.0.1:15099"
    assert server.command[:3] == [
        str(Path(sys.executable).parent / "spark-submit"), "--class",
        SERVER_CLASS,
    ]  # fmt: skip
    conf = dict(
        arg.split("=", 1) for flag, arg in zip(server.command, server.command[1:], strict=False)
        if flag == "--conf"
    )  # fmt: skip
    assert conf["spark.connect.grpc.binding.port"] == "15099"
    assert conf["spark.connect.grpc.binding.address"] == "127.0.0.1"
    assert conf["spark.jars"].endswith(".jar")  # the JDBC driver, as a local session has
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert server.env["PYSPARK_PYTHON"] == sys.executable  # its workers import the project


def test_a_server_that_never_listens_is_not_warmed_up_and_says_so(caplog, monkeypatch) -> None:
    server = connect_server(load_settings(), port=free_port())
    assert not warm_up_now(server, timeout=1.0)
    assert "Spark Connect was not warmed up (TimeoutError: nothing listens on" in caplog.text
    monkeypatch.setenv("MEDALLION_SPARK_CONNECT_WARM_UP", "false")  # not asked to: no try
    caplog.clear()
    assert not connect_server(load_settings(), port=free_port()).warm_up
    assert not warm_up_now(replace(server, warm_up=False), timeout=1.0)
    assert caplog.text == ""


def test_a_taken_port_is_refused_before_a_jvm_starts(caplog) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert spark_connect.main(["--port", str(port)]) == 1
    assert f"Port {port} is taken" in caplog.text


@pytest.mark.postgres
def test_a_day_through_the_connect_server_equals_a_run_in_its_own_jvm(
    throwaway_server: ConnectionSettings, monkeypatch, tmp_path, spark, caplog
) -> None:
    server = connect_server(load_settings(), port=free_port())
    log_path = tmp_path / "spark-connect.log"
    process = start_connect_server(server, log_path)
    spec = SourceSpec(seed=9, trades=60, instruments=4, portfolios=2)
    try:
        wait_ready(server, process, log_path)
        with caplog.at_level(logging.INFO, logger="src.utils.spark_connect"):
            assert warm_up_now(server)  # what the supervisor does before calling it ready
        assert "Spark Connect warmed up in" in caplog.text
        with day_sources(throwaway_server, monkeypatch, tmp_path, DAY, spec, ENVS):
            for env in ("inproc", "connect"):
                assert orchestrate_build.main(["postgres", "demo", "--env", env]) == 0
            local = ["demo", "--date", DAY.isoformat(), "--engine", "spark", "--env", "inproc"]
            assert run_pipeline.main(local) == 0  # the session's own Spark
            said, seconds = run_day_in_child(DAY, "connect", MEDALLION_SPARK_REMOTE=server.url)
            assert f"Spark: the Connect server at {server.url}" in said
            logging.getLogger(__name__).info("a day through Spark Connect: %.1f s", seconds)
            inproc, connected = (
                comparable_fingerprint(throwaway_server.with_database(db), ("silver", "gold"))
                for db in ENVS
            )
            assert connected == inproc
            assert connected["gold.position_eod_hist"][0] > 0
    finally:
        stop_connect_server(process)
    assert process.returncode is not None
