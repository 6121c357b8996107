"""The project-managed PostgreSQL server: the local default when no server is configured.

It lives in one directory (``.local/postgres`` by default) holding the data
directory, the server log and a libpq ``pgpass`` file with a generated superuser
password. It listens on 127.0.0.1 only, on a fixed non-default port, and is reused
by every later call until :meth:`EmbeddedPostgres.stop`.

PostgreSQL refuses to run as root, so as root every server command runs as the
``postgres`` OS user (``runuser -u postgres``) and the data directory belongs to it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from src.config import ConnectionSettings, Settings
from src.utils.errors import EmbeddedServerError
from src.utils.pg_binaries import PgBinaries, find_pg_binaries, free_port, port_is_free

log = logging.getLogger(__name__)

SERVER_OS_USER = "postgres"
# Where the cluster goes when root runs from a folder the postgres user cannot enter
# (a checkout under a 0700 mktemp directory, say).
ROOT_FALLBACK_BASE = Path("/var/tmp/medallion-lakehouse")


# Sized for a warehouse's bulk loads rather than PostgreSQL's defaults (128 MB of buffers,
# 4 MB of WAL buffers, a checkpoint every 1 GB of WAL): a day's million trade events and
# their indexes stay in memory, and a load's WAL is written in large pieces. The buffers
# are only touched as they are used. A million-trade day: 58 s -> 55 s.
WAREHOUSE_SETTINGS = {"shared_buffers": "1GB", "wal_buffers": "64MB", "max_wal_size": "4GB"}


@dataclass
class EmbeddedPostgres:
    """One project-local PostgreSQL cluster; ``start`` is idempotent."""

    home: Path
    port: int
    superuser: str = "postgres"
    binaries: PgBinaries | None = None
    # Extra ``-c name=value`` server settings (tests turn fsync off, for example).
    server_options: dict[str, str] = field(default_factory=dict)
    start_timeout_s: int = 30

    @classmethod
    def from_settings(cls, settings: Settings) -> EmbeddedPostgres:
        return cls(home=settings.embedded_dir, port=settings.embedded_port)

    # -- who runs the server -------------------------------------------------------------
    @property
    def as_root(self) -> bool:
        return os.geteuid() == 0

    def _os_user(self) -> pwd.struct_passwd:
        if not self.as_root:
            return pwd.getpwuid(os.geteuid())
        try:
            return pwd.getpwnam(SERVER_OS_USER)
        except KeyError:
            raise EmbeddedServerError(
                "PostgreSQL refuses to run as root and there is no 'postgres' OS user to run "
                "it as. Create one (useradd --system --home /var/lib/postgresql postgres) or "
                "run as a normal user."
            ) from None

    def _command(self, *args: str) -> list[str]:
        if self.as_root:
            return ["runuser", "-u", SERVER_OS_USER, "--", *args]
        return list(args)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = self._command(*args)
        log.debug("running %s", " ".join(cmd))
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd="/")
        if check and proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise EmbeddedServerError(f"{args[0]} failed: {' / '.join(detail)}")
        return proc

    # -- where it lives --------------------------------------------------------------------
    @property
    def state_dir(self) -> Path:
        """``home``, unless root runs from a folder the postgres user cannot enter."""
        if not self.as_root or self._reachable(self.home.parent):
            return self.home
        digest = hashlib.sha1(str(self.home.resolve()).encode()).hexdigest()[:12]
        return ROOT_FALLBACK_BASE / digest

    def _reachable(self, folder: Path) -> bool:
        existing = folder
        while not existing.exists():
            existing = existing.parent
        cmd = self._command("test", "-x", str(existing))
        return subprocess.run(cmd, capture_output=True).returncode == 0

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    @property
    def passfile(self) -> Path:
        return self.home / "pgpass"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    # -- lifecycle ---------------------------------------------------------------------------
    def _bins(self) -> PgBinaries:
        if self.binaries is None:
            self.binaries = find_pg_binaries()
        return self.binaries

    def is_running(self) -> bool:
        if not (self.data_dir / "PG_VERSION").exists():
            return False
        proc = self._run(
            self._bins().tool("pg_ctl"), "status", "-D", str(self.data_dir), check=False
        )
        return proc.returncode == 0

    def running_port(self) -> int | None:
        """The port recorded in ``postmaster.pid`` by the running server, if any."""
        pidfile = self.data_dir / "postmaster.pid"
        try:
            lines = pidfile.read_text().splitlines()
        except OSError:
            return None
        return int(lines[3]) if len(lines) > 3 and lines[3].isdigit() else None

    def start(self) -> ConnectionSettings:
        """Initialise on first use, start unless already running, return how to connect."""
        self._check_ownership()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        self._check_version()
        if self.is_running():
            running = self.running_port()
            if running != self.port:
                raise EmbeddedServerError(
                    f"The embedded server in {self.data_dir} already runs on port {running}, not "
                    f"{self.port}. Stop it first (make pg-stop) or set MEDALLION_EMBEDDED_PORT="
                    f"{running}."
                )
            log.debug("embedded PostgreSQL already running on port %s", self.port)
            return self.connection()
        self._check_port()
        self._pg_ctl_start()
        log.info("embedded PostgreSQL started on 127.0.0.1:%s (%s)", self.port, self.data_dir)
        return self.connection()

    def stop(self) -> bool:
        """Stop the server; False when it was not running."""
        if not self.is_running():
            return False
        ctl = self._bins().tool("pg_ctl")
        self._run(ctl, "stop", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60")
        log.info("embedded PostgreSQL stopped (%s)", self.data_dir)
        return True

    def destroy(self) -> None:
        """Stop the server and delete the files it made, nothing else (``make pg-reset``).

        Only a PostgreSQL data directory and the pgpass file are removed; the folders
        holding them go only when that leaves them empty.
        """
        self.stop()
        if (self.data_dir / "PG_VERSION").exists() or _is_empty_dir(self.data_dir):
            shutil.rmtree(self.data_dir, ignore_errors=True)
        self.passfile.unlink(missing_ok=True)
        for folder in {self.state_dir, self.home}:
            if _is_empty_dir(folder):
                folder.rmdir()

    def connection(self, database: str = "postgres") -> ConnectionSettings:
        return ConnectionSettings(
            host="127.0.0.1",
            port=self.port,
            user=self.superuser,
            database=database,
            password=self._password(),
            embedded=True,
        )

    def psql_hint(self) -> str:
        """A psql command line that reaches the server, without revealing the password."""
        return (
            f"PGPASSFILE={self.passfile} psql -h 127.0.0.1 -p {self.port} " f"-U {self.superuser}"
        )

    # -- internals -----------------------------------------------------------------------
    def _password(self) -> SecretStr | None:
        try:
            line = self.passfile.read_text(encoding="utf-8").splitlines()[0]
        except (OSError, IndexError):
            return None
        return SecretStr(line.rsplit(":", 1)[1])

    def _check_ownership(self) -> None:
        owner = self._os_user()
        if not self.data_dir.exists():
            return
        actual = self.data_dir.stat().st_uid
        if actual != owner.pw_uid:
            try:
                name = pwd.getpwuid(actual).pw_name
            except KeyError:
                name = str(actual)
            raise EmbeddedServerError(
                f"The embedded data directory {self.data_dir} belongs to OS user '{name}', but the "
                f"server runs as '{owner.pw_name}'. Fix: chown -R {owner.pw_name} {self.data_dir}, "
                "or set MEDALLION_EMBEDDED_DIR to a directory of your own."
            )
        if not (self.data_dir / "PG_VERSION").exists() and any(self.data_dir.iterdir()):
            raise EmbeddedServerError(
                f"{self.data_dir} exists, is not empty and is not a PostgreSQL data directory. "
                "Move it away or set MEDALLION_EMBEDDED_DIR to another directory."
            )

    def _check_version(self) -> None:
        cluster = int((self.data_dir / "PG_VERSION").read_text().strip())
        if cluster != self._bins().version:
            raise EmbeddedServerError(
                f"The embedded data directory {self.data_dir} was made by PostgreSQL {cluster} "
                f"but the binaries found are version {self._bins().version} "
                f"({self._bins().bindir}). Install PostgreSQL {cluster}, or reset the embedded "
                "server (make pg-reset: deletes its data)."
            )

    def _check_port(self) -> None:
        if not port_is_free(self.port):
            raise EmbeddedServerError(
                f"Port {self.port} on 127.0.0.1 is already in use by another process, so the "
                "embedded PostgreSQL cannot start. Set MEDALLION_EMBEDDED_PORT to a free port, or "
                "stop whatever listens there."
            )

    def _prepare_dir(self, folder: Path, owner: pwd.struct_passwd, mode: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(mode)
        if self.as_root:
            os.chown(folder, owner.pw_uid, owner.pw_gid)

    def _initdb(self) -> None:
        owner = self._os_user()
        bins = self._bins()
        self.home.mkdir(parents=True, exist_ok=True)
        if self.state_dir != self.home:
            log.info(
                "the postgres OS user cannot enter %s, so the cluster lives in %s "
                "(set MEDALLION_EMBEDDED_DIR to choose another place)",
                self.home.parent,
                self.state_dir,
            )
            _own_directory(ROOT_FALLBACK_BASE)
        _own_directory(self.state_dir)
        self._prepare_dir(self.data_dir, owner, 0o700)
        password = secrets.token_urlsafe(24)
        pwfile = self.state_dir / ".initdb-password"
        pwfile.unlink(missing_ok=True)
        # Exclusive, never through a symlink, readable by the server's OS user only.
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        with os.fdopen(os.open(pwfile, flags, 0o600), "w", encoding="utf-8") as handle:
            handle.write(password + "\n")
        if self.as_root:
            os.chown(pwfile, owner.pw_uid, owner.pw_gid, follow_symlinks=False)
        try:
            self._run(
                bins.tool("initdb"),
                "-D", str(self.data_dir),
                "-U", self.superuser,
                "--pwfile", str(pwfile),
                "--auth", "scram-sha-256",
                "--encoding", "UTF8",
                "--locale", "C.UTF-8",
                # The same order as C.UTF-8 (code points), but PostgreSQL compares bytes
                # and abbreviates sort keys instead of calling strcoll: a million trade
                # events sorted by trade in 2.8 s instead of 3.6 s.
                "--lc-collate", "C",
            )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)
        self._write_passfile(password)
        log.info("initialised embedded PostgreSQL %s in %s", bins.version, self.data_dir)

    def _write_passfile(self, password: str) -> None:
        lines = [f"{host}:{self.port}:*:{self.superuser}:{password}" for host in _LOOPBACK]
        fd = os.open(self.passfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")

    def _pg_ctl_start(self) -> None:
        options = {
            "port": str(self.port),
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": "''",
            **WAREHOUSE_SETTINGS,
            **self.server_options,
        }
        opts = " ".join(f"-c {name}={value}" for name, value in options.items())
        proc = self._run(
            self._bins().tool("pg_ctl"),
            "start", "-D", str(self.data_dir), "-l", str(self.log_file),
            "-w", "-t", str(self.start_timeout_s), "-o", opts,
            check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            tail = _tail(self.log_file, 5)
            raise EmbeddedServerError(
                f"The embedded PostgreSQL did not start (pg_ctl exit {proc.returncode}). "
                f"Server log {self.log_file}: {tail}"
            )


_LOOPBACK = ("127.0.0.1", "localhost")


@contextmanager
def server_for(
    settings: Settings, *, home: Path | None = None, server_options: dict[str, str] | None = None
) -> Iterator[ConnectionSettings]:
    """The configured server, or a throw-away embedded one on a free port (tests, benchmarks).

    The throw-away server lives in ``home`` (a new temporary folder by default) and is
    stopped and deleted on exit; a configured server is only checked, never touched.
    """
    from src.config import resolve_connection
    from src.utils.connections import check_connection

    if not settings.uses_embedded_server:
        conn = resolve_connection(settings)
        check_connection(conn)
        yield conn
        return
    folder = home or Path(tempfile.mkdtemp(prefix="medallion-pg-"))
    server = EmbeddedPostgres(home=folder, port=free_port(), server_options=server_options or {})
    try:
        yield server.start()
    finally:
        server.destroy()
        if home is None:
            shutil.rmtree(folder, ignore_errors=True)


def _is_empty_dir(folder: Path) -> bool:
    return folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir())


def _own_directory(folder: Path) -> None:
    """Create ``folder`` (0755) or accept it only if it is ours and not a symlink.

    The fallback location is in a world-writable /var/tmp: a folder planted there by
    another user must never receive the server's password file or be chowned.
    """
    folder.mkdir(mode=0o755, parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return  # only root hands files to another OS user
    info = folder.lstat()
    if folder.is_symlink() or info.st_uid != 0 or info.st_mode & 0o022:
        raise EmbeddedServerError(
            f"{folder} is a symlink, belongs to another user or is writable by others, so the "
            "embedded server will not use it. Remove it, or set MEDALLION_EMBEDDED_DIR to a "
            "directory of your own."
        )
    folder.chmod(0o755)  # ours: let the server's OS user enter it


def _tail(path: Path, lines: int) -> str:
    try:
        return " / ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log written)"
