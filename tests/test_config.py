from __future__ import annotations

from pathlib import Path

import pytest

from src.config import (
    DEFAULT_EMBEDDED_PORT,
    ConnectionSettings,
    Settings,
    load_settings,
    read_pgpass,
    require_password,
    resolve_connection,
)
from src.utils.errors import ConfigError

PG_VARS = ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGPASSFILE", "DATABASE_URL")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in PG_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no developer's ~/.pgpass leaks in


def settings(**env: str) -> Settings:
    return Settings(_env_file=None, **{k: v for k, v in env.items()})  # type: ignore[call-arg]


def test_nothing_configured_means_the_embedded_server(tmp_path: Path) -> None:
    conn = resolve_connection(settings(MEDALLION_EMBEDDED_DIR=str(tmp_path)))
    assert conn.embedded
    assert (conn.host, conn.port, conn.user) == ("127.0.0.1", DEFAULT_EMBEDDED_PORT, "postgres")


def test_embedded_password_comes_from_its_pgpass_file(tmp_path: Path) -> None:
    (tmp_path / "pgpass").write_text(f"127.0.0.1:{DEFAULT_EMBEDDED_PORT}:*:postgres:s3cret\n")
    conn = resolve_connection(settings(MEDALLION_EMBEDDED_DIR=str(tmp_path)))
    assert conn.password is not None and conn.password.get_secret_value() == "s3cret"


def test_libpq_variables_configure_a_server() -> None:
    conn = resolve_connection(
        settings(PGHOST="db.example", PGPORT="6543", PGUSER="etl", PGPASSWORD="pw", PGDATABASE="w")
    )
    assert not conn.embedded
    assert conn.describe() == "etl@db.example:6543/w"
    assert conn.password is not None and conn.password.get_secret_value() == "pw"


def test_database_url_is_parsed_and_pg_variables_override_it() -> None:
    url = "postgresql://alice:p%40ss@url-host:5433/urldb"
    conn = resolve_connection(settings(DATABASE_URL=url))
    assert conn.describe() == "alice@url-host:5433/urldb"
    assert conn.password is not None and conn.password.get_secret_value() == "p@ss"
    conn = resolve_connection(settings(DATABASE_URL=url, PGHOST="other", PGUSER="bob"))
    assert conn.describe() == "bob@other:5433/urldb"


def test_command_line_values_override_the_environment() -> None:
    conn = resolve_connection(
        settings(PGHOST="envhost", PGUSER="envuser"), user="cliuser", host="clihost", port=7000
    )
    assert conn.describe() == "cliuser@clihost:7000/postgres"


def test_bad_database_url_scheme_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL has scheme 'mysql'"):
        resolve_connection(settings(DATABASE_URL="mysql://u@h/db"))


def test_invalid_port_names_the_variable_and_where_it_was_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("PGPORT=not-a-port\n")
    with pytest.raises(ConfigError) as err:
        load_settings(env_file)
    assert "PGPORT='not-a-port'" in str(err.value)
    assert str(env_file) in str(err.value)


def test_secrets_are_hidden_in_errors_and_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = ConnectionSettings("h", 1, "u", "d", password=settings(PGPASSWORD="hunter2").pg_password)
    assert "hunter2" not in repr(conn)
    assert "hunter2" not in repr(settings(PGPASSWORD="hunter2"))


def test_missing_password_names_every_place_tried(tmp_path: Path) -> None:
    s = settings(PGHOST="h")
    conn = resolve_connection(s)
    with pytest.raises(ConfigError) as err:
        require_password(conn, s)
    for place in ("PGPASSWORD", "DATABASE_URL", "PGPASSFILE"):
        assert place in str(err.value)


def test_pgpass_matching_follows_libpq_rules(tmp_path: Path) -> None:
    passfile = tmp_path / "pgpass"
    passfile.write_text(
        "# comment\nother:5432:*:u:wrong\nh:5432:db:u:right\n*:*:*:u:fallback\nh:*:*:x:a\\:b\n"
    )
    assert read_pgpass(passfile, "h", 5432, "db", "u").get_secret_value() == "right"
    assert read_pgpass(passfile, "z", 1, "q", "u").get_secret_value() == "fallback"
    assert read_pgpass(passfile, "h", 9, "db", "x").get_secret_value() == "a:b"
    assert read_pgpass(passfile, "h", 9, "db", "nobody") is None
    assert read_pgpass(tmp_path / "missing", "h", 1, "d", "u") is None


def test_password_is_read_from_pgpassfile(tmp_path: Path) -> None:
    passfile = tmp_path / "pass"
    passfile.write_text("h:5432:*:postgres:from-file\n")
    conn = resolve_connection(settings(PGHOST="h", PGPASSFILE=str(passfile)))
    assert conn.password is not None and conn.password.get_secret_value() == "from-file"
