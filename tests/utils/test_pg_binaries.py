from __future__ import annotations

import socket
from pathlib import Path

import pytest

from src.utils.errors import EmbeddedServerError
from src.utils.pg_binaries import PgBinaries, find_pg_binaries, free_port, port_is_free


def test_binaries_are_found_on_this_machine() -> None:
    bins = find_pg_binaries()
    assert isinstance(bins, PgBinaries)
    assert bins.version >= 13
    assert Path(bins.tool("initdb")).exists()


def test_missing_binaries_say_where_they_looked_and_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(EmbeddedServerError) as err:
        find_pg_binaries([tmp_path / "nothing-here", tmp_path])
    message = str(err.value)
    assert str(tmp_path / "nothing-here") in message
    assert "apt-get install postgresql" in message and "pgserver" in message


def test_port_with_a_listener_is_not_free() -> None:
    port = free_port()
    assert port_is_free(port)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        assert not port_is_free(port)
