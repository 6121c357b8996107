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
import re
import secrets
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from src.config import ConnectionSettings, Settings
from src.utils.errors import EmbeddedServerError

log = logging.getLogger(__name__)

SERVER_TOOLS = ("initdb", "pg_ctl", "postgres")
SERVER_OS_USER = "postgres"
# Where the cluster goes when root runs from a folder the postgres user cannot enter
# (a checkout under a 0700 mktemp directory, say).
ROOT_FALLBACK_BASE = Path("/var/tmp/medallion-lakehouse")


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


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
        """Stop the server and delete its files (tests and ``make pg-reset``)."""
        self.stop()
        shutil.rmtree(self.state_dir, ignore_errors=True)
        shutil.rmtree(self.home, ignore_errors=True)

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
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.state_dir.chmod(0o755)
        self._prepare_dir(self.data_dir, owner, 0o700)
        password = secrets.token_urlsafe(24)
        pwfile = self.state_dir / ".initdb-password"
        pwfile.write_text(password + "\n", encoding="utf-8")
        if self.as_root:
            os.chown(pwfile, owner.pw_uid, owner.pw_gid)
        try:
            self._run(
                bins.tool("initdb"),
                "-D", str(self.data_dir),
                "-U", self.superuser,
                "--pwfile", str(pwfile),
                "--auth", "scram-sha-256",
                "--encoding", "UTF8",
                "--locale", "C.UTF-8",
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


def _tail(path: Path, lines: int) -> str:
    try:
        return " / ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log written)"
