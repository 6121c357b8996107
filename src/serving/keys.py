"""API keys: stored as SHA-256 hashes in a file only its owner can read, never logged.

    key = add_key(Path(".local/api/keys"), "risk-dashboard")   # shown once, to its owner
    keys = load_keys(Path(".local/api/keys"))                   # {hash: name}
    keys.name_of(presented_key)                                 # "risk-dashboard" or None

The file holds ``name:sha256-hex`` lines. A key is 32 random bytes (URL-safe base64), so
a plain hash is enough: there is nothing to guess that a slow hash would protect. Keys
are compared in constant time. A file readable by anyone but its owner is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from src.utils.errors import ConfigError

NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class ApiKeys:
    hashes: dict[str, str]  # sha256 hex -> the key's name

    def name_of(self, key: str) -> str | None:
        """The name of ``key`` if it is one of these (constant time per stored key)."""
        presented = _hash(key)
        found = None
        for stored, name in self.hashes.items():
            if hmac.compare_digest(stored, presented):
                found = name
        return found


def _check_private(path: Path) -> None:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"API key file {path} can be read by others (mode {stat.filemode(mode)}); "
            f"make it private: chmod 600 {path}."
        )


def load_keys(path: Path) -> ApiKeys:
    if not path.is_file():
        raise ConfigError(
            f"API key file {path} does not exist. Create a key with "
            "scripts/serve.py --add-key NAME, or unset MEDALLION_API_KEYS to serve without keys."
        )
    _check_private(path)
    hashes = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, _, digest = line.strip().partition(":")
        if not NAME.match(name) or not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise ConfigError(
                f"{path} line {number}: expected name:sha256-hex; remove or fix the line "
                "(scripts/serve.py --add-key NAME writes correct ones)."
            )
        hashes[digest] = name
    return ApiKeys(hashes)


def add_key(path: Path, name: str) -> str:
    """A new key named ``name``, its hash appended to ``path`` (created private); returns
    the key, which exists nowhere else afterwards."""
    if not NAME.match(name):
        raise ConfigError(f"API key name '{name}': use 1-64 letters, digits, '_', '.' or '-'.")
    if path.exists():
        _check_private(path)
        if name in load_keys(path).hashes.values():
            raise ConfigError(f"{path} already has a key named '{name}'; choose another name.")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(f"{name}:{_hash(key)}\n")
    return key
