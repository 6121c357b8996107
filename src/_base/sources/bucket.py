"""A landing source in an object store: ``s3://bucket/prefix`` (or an S3-compatible store
at ``endpoint``), listed and read through pyarrow's S3 filesystem.

It answers the few questions a landing folder does (``root / "bars_1m"``,
``root.glob(pattern)``, open a file), so a load reads a bucket as it reads a folder.
Keys come from the source's settings (``key_id``, ``secret_key``, never logged); without
them, pyarrow looks where AWS's own tools do (environment, instance role).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from pydantic import SecretStr

from src.utils.errors import ConfigError

SCHEMES = ("s3://",)


def _matches(relative: PurePosixPath, pattern: str, depth: int) -> bool:
    """As ``Path.glob`` would: ``*`` stays within one folder level."""
    return len(relative.parts) == depth and relative.match(pattern)


def is_bucket_uri(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


@dataclass(frozen=True)
class BucketPath:
    uri: str  # s3://bucket/prefix
    endpoint: str | None = None  # an S3-compatible store: http://host:port
    region: str | None = None
    key_id: SecretStr | None = None
    secret_key: SecretStr | None = None

    def __post_init__(self) -> None:
        if not self.uri.startswith(SCHEMES):
            raise ConfigError(
                f"Landing path {self.uri}: only {', '.join(SCHEMES)} buckets are read (or a "
                "local folder); mount other stores, or copy the files to a folder."
            )

    def __str__(self) -> str:
        return self.uri

    def __truediv__(self, part: str) -> BucketPath:
        return replace(self, uri=f"{self.uri.rstrip('/')}/{part}")

    @property
    def key(self) -> str:
        """``bucket/prefix``: what the filesystem calls it."""
        return self.uri.split("://", 1)[1].rstrip("/")

    def filesystem(self) -> Any:
        from pyarrow import fs

        options: dict[str, Any] = {"region": self.region or "us-east-1"}
        if self.endpoint:
            scheme, _, host = self.endpoint.rpartition("://")
            options |= {"endpoint_override": host, "scheme": scheme or "https"}
        if self.key_id and self.secret_key:
            options |= {
                "access_key": self.key_id.get_secret_value(),
                "secret_key": self.secret_key.get_secret_value(),
            }
        return fs.S3FileSystem(**options)

    def glob(self, pattern: str) -> list[str]:
        """The files under this prefix whose path below it matches ``pattern``, as
        ``bucket/key`` names (what :meth:`open` takes)."""
        from pyarrow import fs

        found = self.filesystem().get_file_info(
            fs.FileSelector(self.key, recursive=True, allow_not_found=True)
        )
        prefix, depth = self.key + "/", len(PurePosixPath(pattern).parts)
        return sorted(
            info.path
            for info in found
            if info.type == fs.FileType.File
            and _matches(PurePosixPath(info.path.removeprefix(prefix)), pattern, depth)
        )

    def open(self, path: str) -> BinaryIO:
        return self.filesystem().open_input_file(path)

    def uri_of(self, path: str) -> str:
        return f"{self.uri.split('://', 1)[0]}://{path}"

    def problem(self) -> str | None:
        """None when the bucket answers (the prefix may be empty), else the reason."""
        from pyarrow import fs

        try:
            self.filesystem().get_file_info(fs.FileSelector(self.key, allow_not_found=True))
        except OSError as exc:
            return " ".join(str(exc).split())
        return None
