"""Who may read what: the API's read-only role, API keys, and scripts/serve.py's refusals."""

from __future__ import annotations

import logging
import stat

import httpx
import psycopg2
import pytest

from scripts import serve
from src._base.build.steps import build_in_database
from src.config import SRC_PATH, ConnectionSettings
from src.serving.app import project_app
from src.serving.keys import add_key, load_keys
from src.utils.connections import connect_raw, execute_autocommit
from src.utils.errors import ConfigError
from tests.serving.conftest import PROJECT, Served, serving

pytestmark = [pytest.mark.postgres, pytest.mark.anyio]


def _refused(conn: ConnectionSettings, sql: str) -> str:
    raw = connect_raw(conn)
    try:
        with raw.cursor() as cur, pytest.raises(psycopg2.Error) as caught:
            cur.execute(sql)
        return str(caught.value)
    finally:
        raw.close()


def test_the_api_role_reads_the_served_schemas_and_nothing_else(as_api) -> None:
    raw = connect_raw(as_api)
    with raw.cursor() as cur:
        cur.execute("SELECT count(*) FROM silver.trade")
        assert cur.fetchone()[0] > 0
        cur.execute("SELECT count(*) FROM gold.position_eod__as_of(now())")
        cur.execute("SELECT count(*) FROM medallion.load_log")
    raw.close()
    assert "permission denied" in _refused(as_api, "SELECT * FROM bronze.br_trade LIMIT 1")
    assert "permission denied" in _refused(as_api, "SELECT * FROM common.action_type")
    assert "read-only transaction" in _refused(as_api, "DELETE FROM silver.trade")
    # even outside a read-only transaction it holds no write privilege
    raw = connect_raw(as_api)
    raw.autocommit = True
    with raw.cursor() as cur:
        cur.execute("SET default_transaction_read_only = off")
        with pytest.raises(psycopg2.Error, match="permission denied"):
            cur.execute("UPDATE silver.trade SET price = price")
    raw.close()


def test_the_server_never_sees_the_role_s_password(served: Served, as_api) -> None:
    raw = connect_raw(served.warehouse)
    with raw.cursor() as cur:
        cur.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (as_api.user,))
        [stored] = cur.fetchone()
    raw.close()
    assert stored.startswith("SCRAM-SHA-256$")
    assert as_api.password.get_secret_value() not in stored


async def test_the_api_serves_as_its_role(served: Served, as_api) -> None:
    with serving(project_app(as_api, SRC_PATH, PROJECT)) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            assert (await client.get("/silver/trade", params={"limit": 3})).status_code == 200
            assert (await client.get("/")).status_code == 200  # the load log is readable


async def test_api_keys_guard_every_route_but_health(served: Served, tmp_path, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    keys_file = tmp_path / "keys"
    key = add_key(keys_file, "risk-desk")
    add_key(keys_file, "ops")
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    assert key not in keys_file.read_text()  # only its hash is kept
    app = project_app(served.warehouse, SRC_PATH, PROJECT, keys=load_keys(keys_file))
    with serving(app) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            assert (await client.get("/health")).status_code == 200
            for path in ("/silver/trade", "/", "/metrics", "/openapi.json"):
                refused = await client.get(path)
                assert refused.status_code == 401 and "X-API-Key" in refused.text
            wrong = await client.get("/silver/trade", headers={"X-API-Key": key[:-1] + "x"})
            assert wrong.status_code == 401
            assert (
                await client.get("/silver/trade", headers={"X-API-Key": key})
            ).status_code == 200
            bearer = {"Authorization": f"Bearer {key}"}
            assert (await client.get("/silver/trade", headers=bearer)).status_code == 200
    assert key not in caplog.text


def test_a_key_file_others_can_read_is_refused(tmp_path) -> None:
    keys_file = tmp_path / "keys"
    add_key(keys_file, "desk")
    keys_file.chmod(0o644)
    with pytest.raises(ConfigError, match=r"can be read by others.*chmod 600"):
        load_keys(keys_file)
    keys_file.chmod(0o600)
    with pytest.raises(ConfigError, match="already has a key named 'desk'"):
        add_key(keys_file, "desk")
    with pytest.raises(ConfigError, match="use 1-64 letters"):
        add_key(keys_file, "bad name")


def test_serve_adds_a_key_and_prints_it_once(tmp_path, capsys, use_test_server) -> None:
    keys_file = tmp_path / "keys"
    assert serve.main(["--add-key", "desk", "--keys", str(keys_file)]) == 0
    key = capsys.readouterr().out.splitlines()[1]
    assert load_keys(keys_file).name_of(key) == "desk"


def test_serve_refuses_an_unknown_project(use_test_server, caplog) -> None:
    assert serve.main(["--database", "dmeo"]) == 1
    assert "Did you mean 'demo'" in caplog.text


def test_serve_refuses_an_unbuilt_database(make_project, use_test_server, caplog) -> None:
    project = make_project(reference=1, transactional=1, temporal=1)
    assert serve.main(["--database", project.name, "--as-owner"]) == 1
    assert project.name in caplog.text and "does not exist" in caplog.text


def test_serve_refuses_a_database_without_its_api_role(
    make_project, use_test_server, caplog, monkeypatch, tmp_path
) -> None:
    project = make_project(reference=1, transactional=1, temporal=1)
    execute_autocommit(use_test_server, f'CREATE DATABASE "{project.name}"')
    build_in_database(use_test_server.with_database(project.name), project.src, project.name)
    monkeypatch.setenv("MEDALLION_API_PASSFILE", str(tmp_path / "none"))
    assert serve.main(["--database", project.name]) == 1
    assert f"No password for the API role {project.name}_api" in caplog.text


async def test_cut_connections_are_replaced_and_a_refused_database_is_a_503(
    served: Served, as_api
) -> None:
    """Connections the server cut (a restart, a failover) are replaced without a failed
    request; while the database refuses the role, a 503 that says so, never a 500; once
    it is back, answers again."""
    owner, role = served.warehouse, as_api.user
    cut = f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"
    paths = ("/silver/trade", "/desk/prices/latest", "/")
    with serving(project_app(as_api, SRC_PATH, PROJECT)) as url:
        async with httpx.AsyncClient(base_url=url) as client:

            async def statuses() -> list[int]:
                return [(await client.get(path)).status_code for path in paths]

            assert await statuses() == [200, 200, 200]
            execute_autocommit(owner, cut)
            assert await statuses() == [200, 200, 200]
            execute_autocommit(owner, f'ALTER ROLE "{role}" NOLOGIN')
            try:
                execute_autocommit(owner, cut)
                for path in paths:
                    down = await client.get(path)
                    assert down.status_code == 503, (path, down.text)
                    assert "database is unavailable" in down.json()["detail"]
            finally:
                execute_autocommit(owner, f'ALTER ROLE "{role}" LOGIN')
            assert await statuses() == [200, 200, 200]
