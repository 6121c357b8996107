"""The landing zone's bar files: one Parquet file per symbol, day and timeframe.

    bars_1m/symbol=BTCUSDT/year=2021/month=10/day=22.parquet

The layout is Hive-style, and ``bars_1m`` is what the demo's bronze transform reads.
Columns follow :data:`BAR_SCHEMA` (landing schema version 1, stored in the file's
metadata). A file is written under a hidden temporary name, then renamed: a reader sees
the old file or the new one, never half of one. An ingest in progress keeps a day's
bars so far in a hidden ``.day=DD.parquet.partial`` beside it (readers skip hidden
files), renamed to the real name when the day is complete.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from src.marketdata.bars import SCHEMA_VERSION, UTC_US
from src.utils.errors import MedallionError

BAR_SCHEMA = pa.schema(
    [
        ("timestamp", UTC_US),
        ("open", pa.float64()),
        ("high", pa.float64()),
        ("low", pa.float64()),
        ("close", pa.float64()),
        ("volume", pa.float64()),
        ("trade_count", pa.int64()),
        ("vwap", pa.float64()),
    ]
)
VERSION_KEY = b"medallion.bar_schema_version"
COMPRESSIONS = ("zstd", "snappy")


class LandingError(MedallionError):
    """A bar that does not fit the landing schema, or a landing file that cannot be read."""


def bar_file(landing_dir: Path, symbol: str, day: date, timeframe: str = "1m") -> Path:
    """Where one symbol's bars of one UTC day land."""
    return (
        landing_dir
        / f"bars_{timeframe}"
        / f"symbol={symbol}"
        / f"year={day.year}"
        / f"month={day.month:02d}"
        / f"day={day.day:02d}.parquet"
    )


def manifest_file(landing_dir: Path, day: date, timeframe: str = "1m") -> Path:
    """The day's manifest: the files the day must hold (bronze loads it once all have
    landed, ``LandingFiles(manifest=...)``)."""
    return (
        landing_dir
        / f"bars_{timeframe}"
        / MANIFESTS
        / f"year={day.year}"
        / f"month={day.month:02d}"
        / f"day={day.day:02d}.json"
    )


MANIFESTS = "_manifests"
# The manifest's path below the bars' folder, as a LandingFiles pattern.
MANIFEST_PATTERN = MANIFESTS + "/year={year}/month={month}/day={dd}.json"


def expect_symbols(
    landing_dir: Path,
    day: date,
    symbols: Iterable[str],
    timeframe: str = "1m",
    *,
    only: bool = False,
) -> Path:
    """Record that the day must hold the bars of ``symbols`` (added to those already
    expected, or ``only`` these), written atomically, before or while they land."""
    path = manifest_file(landing_dir, day, timeframe)
    folder = landing_dir / f"bars_{timeframe}"
    wanted = {str(bar_file(landing_dir, s, day, timeframe).relative_to(folder)) for s in symbols}
    if not only and path.exists():
        wanted |= set(json.loads(path.read_text())["files"])
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    temporary.write_text(json.dumps({"day": day.isoformat(), "files": sorted(wanted)}, indent=1))
    temporary.replace(path)
    return path


def partial_file(path: Path) -> Path:
    """The hidden file holding an unfinished day's bars so far."""
    return path.with_name(f".{path.name}.partial")


def to_landing(frame: pa.Table) -> pa.Table:
    """A frame's bars (:data:`src.marketdata.bars.FRAME_SCHEMA`) in :data:`BAR_SCHEMA`."""
    columns = [frame["time"], *(frame[f.name] for f in list(BAR_SCHEMA)[1:])]
    return pa.Table.from_arrays(
        [column.cast(field.type) for column, field in zip(columns, BAR_SCHEMA, strict=True)],
        schema=BAR_SCHEMA,
    )


def write_atomic(table: pa.Table, path: Path, compression: str = "zstd") -> Path:
    """Write ``table`` next to ``path`` under a hidden name, then rename it to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    schema = table.schema.with_metadata({VERSION_KEY: str(SCHEMA_VERSION).encode()})
    try:
        pq.write_table(table.replace_schema_metadata(schema.metadata), temporary,
                       compression=compression)  # fmt: skip
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def read_landed(path: Path) -> pa.Table | None:
    """A landed (or partial) file's bars, None when there is none; a file of another
    schema is an error naming it."""
    if not path.exists():
        return None
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise LandingError(f"{path}: not a readable Parquet file ({exc}); delete it and "
                           "ingest the day again.") from None  # fmt: skip
    if table.schema.remove_metadata() != BAR_SCHEMA:
        raise LandingError(
            f"{path}: its columns are not those of landing schema version {SCHEMA_VERSION} "
            f"({table.schema.remove_metadata()}); move it away and ingest the day again."
        )
    return table


def up_to(table: pa.Table, last: datetime) -> pa.Table:
    """The rows of ``table`` whose bar opens at or before ``last``."""
    return table.filter(pc.less_equal(table["timestamp"], pa.scalar(last, UTC_US)))


def concat(tables: Sequence[pa.Table]) -> pa.Table:
    return pa.concat_tables(tables) if tables else BAR_SCHEMA.empty_table()
