from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from src.utils.connections import check_connection
from src.utils.embedded_postgres import EmbeddedPostgres
from src.utils.errors import EmbeddedServerError
from src.utils.pg_binaries import free_port

pytestmark = pytest.mark.postgres


@pytest.fixture
def server(tmp_path: Path) -> EmbeddedPostgres:
    instance = EmbeddedPostgres(home=tmp_path / "pg", port=free_port())
    yield instance
    instance.destroy()


def test_start_initialises_reuses_and_stops(server: EmbeddedPostgres) -> None:
    started = time.monotonic()
    conn = server.start()
    assert time.monotonic() - started < 30
    assert check_connection(conn).split(".")[0].isdigit()
    assert oct(server.passfile.stat().st_mode & 0o777) == "0o600"
    again = server.start()  # reused, not re-initialised
    assert again.password == conn.password
    assert server.stop() is True
    assert server.is_running() is False
    assert server.stop() is False
    assert check_connection(server.start())  # restarts on the same data


def test_port_taken_by_another_process(server: EmbeddedPostgres) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", server.port))
        busy.listen()
        with pytest.raises(EmbeddedServerError, match=f"Port {server.port} .* already in use"):
            server.start()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand the directory to another user")
def test_data_dir_owned_by_someone_else(server: EmbeddedPostgres) -> None:
    server.data_dir.mkdir(parents=True)
    os.chown(server.data_dir, 65534, 65534)  # nobody
    with pytest.raises(EmbeddedServerError, match="belongs to OS user"):
        server.start()


def test_non_empty_foreign_directory_is_not_touched(server: EmbeddedPostgres) -> None:
    server.start()
    server.destroy()
    server.data_dir.mkdir(parents=True)
    if os.geteuid() == 0:
        os.chown(server.data_dir, *_postgres_ids())
    keep = server.data_dir / "precious.txt"
    keep.write_text("do not lose me")
    with pytest.raises(EmbeddedServerError, match="not a PostgreSQL data directory"):
        server.start()
    assert keep.read_text() == "do not lose me"


def test_cluster_from_another_major_version_is_refused(server: EmbeddedPostgres) -> None:
    server.start()
    server.stop()
    version_file = server.data_dir / "PG_VERSION"
    version_file.write_text("9\n")
    with pytest.raises(EmbeddedServerError, match="made by PostgreSQL 9"):
        server.start()


def test_psql_hint_never_contains_the_password(server: EmbeddedPostgres) -> None:
    conn = server.start()
    assert conn.password is not None
    assert conn.password.get_secret_value() not in server.psql_hint()
    assert f"-p {server.port}" in server.psql_hint()


def _postgres_ids() -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam("postgres")
    return entry.pw_uid, entry.pw_gid


@pytest.mark.skipif(os.geteuid() != 0, reason="the fallback location is for root only")
def test_planted_fallback_folder_is_refused(tmp_path: Path) -> None:
    import hashlib

    from src.utils import embedded_postgres as module

    home = tmp_path / "private" / "pg"
    (tmp_path / "private").mkdir(mode=0o700)
    server = EmbeddedPostgres(home=home, port=free_port())
    digest = hashlib.sha1(str(home.resolve()).encode()).hexdigest()[:12]
    planted = module.ROOT_FALLBACK_BASE / digest
    planted.mkdir(parents=True)
    os.chown(planted, 65534, 65534)  # another user got there first
    try:
        with pytest.raises(EmbeddedServerError, match="belongs to another user"):
            server.start()
        assert not (planted / ".initdb-password").exists()
    finally:
        planted.rmdir()


def test_reset_deletes_only_what_the_server_made(tmp_path: Path) -> None:
    home = tmp_path / "mine"
    server = EmbeddedPostgres(home=home, port=free_port())
    server.start()
    keep = home / "notes" / "keep.txt"
    keep.parent.mkdir()
    keep.write_text("not the server's")
    server.destroy()
    assert keep.read_text() == "not the server's"
    assert not server.passfile.exists() and not (server.data_dir / "PG_VERSION").exists()


def test_private_home_folder_is_made_enterable() -> None:
    import shutil
    import tempfile

    home = Path(tempfile.mkdtemp(prefix="medallion-test-"))  # 0700, under an open /tmp
    server = EmbeddedPostgres(home=home, port=free_port())
    try:
        assert check_connection(server.start())
    finally:
        server.destroy()
        shutil.rmtree(home, ignore_errors=True)
