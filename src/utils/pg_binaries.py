"""Finding PostgreSQL server binaries, and free TCP ports on loopback."""

from __future__ import annotations

import os
import re
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from src.utils.errors import EmbeddedServerError

SERVER_TOOLS = ("initdb", "pg_ctl", "postgres")


@dataclass(frozen=True)
class PgBinaries:
    """A folder holding ``initdb``, ``pg_ctl`` and ``postgres`` of one major version."""

    bindir: Path
    version: int

    def tool(self, name: str) -> str:
        return str(self.bindir / name)


def _major_version(bindir: Path) -> int:
    out = subprocess.run(
        [str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    if not match:
        raise EmbeddedServerError(f"Cannot read the version of {bindir / 'postgres'}: {out!r}")
    return int(match.group(1))


def _has_tools(folder: Path) -> bool:
    return all(os.access(folder / tool, os.X_OK) for tool in SERVER_TOOLS)


def candidate_bindirs(path_env: str | None = None) -> list[Path]:
    """Folders to look in, in order: PATH, Debian/Ubuntu's layout, the ``pgserver`` package."""
    folders = [Path(p) for p in (path_env or "").split(os.pathsep) if p]
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(re.sub(r"\D", "", Path(p).parent.name) or 0),
        reverse=True,
    )
    folders += [Path(p) for p in debian]
    try:
        import pgserver  # type: ignore[import-not-found]

        folders.append(Path(pgserver.__file__).parent / "pginstall" / "bin")
    except ImportError:
        pass
    return folders


def find_pg_binaries(folders: list[Path] | None = None) -> PgBinaries:
    """The first folder with all server tools, or an error saying how to get them."""
    if folders is None:
        folders = candidate_bindirs(os.environ.get("PATH"))
    for folder in folders:
        if _has_tools(folder):
            resolved = Path(os.path.realpath(folder / "postgres")).parent
            return PgBinaries(bindir=resolved, version=_major_version(resolved))
    raise EmbeddedServerError(
        "No PostgreSQL server binaries (initdb, pg_ctl, postgres) found. Looked in: "
        + ", ".join(str(f) for f in folders)
        + ". Install them (Debian: apt-get install postgresql-15; any machine: "
        "uv sync --extra pgserver), or point PGHOST/PGPORT at an existing server."
    )


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True unless something listens there (TIME_WAIT leftovers of a stopped server don't count,
    as PostgreSQL binds with SO_REUSEADDR too)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_in_use(host: str, port: int) -> str | None:
    """Why ``host``:``port`` cannot be listened on (e.g. "Address already in use"), or
    None when it is free."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
