"""Find a project's transforms and run one, a layer, or all layers for a logical date.

A transform is ``src/<db>/transforms/<layer>/<source>_to_<layer>.py`` defining
``run(spark, cfg) -> TransformResult``; ``AFTER = ("other_to_layer", ...)`` orders it
after transforms of the same layer. Layers run bronze, silver, gold.
"""

from __future__ import annotations

import difflib
import graphlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from src._base.build.discovery import import_file, select_projects
from src._base.build.project import DATA_LAYERS
from src._base.pipeline.result import TransformResult
from src._base.pipeline.run_config import RunConfig
from src.utils.errors import DefinitionError, PipelineError

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

LAYERS = DATA_LAYERS


@dataclass(frozen=True)
class Transform:
    name: str
    layer: str
    path: Path
    src_path: Path

    def load(self) -> tuple[Callable[..., TransformResult], tuple[str, ...]]:
        module = import_file(self.src_path, self.path)
        run = getattr(module, "run", None)
        if not callable(run):
            raise DefinitionError(f"{self.path} must define run(spark, cfg).")
        return run, tuple(getattr(module, "AFTER", ()))


def _transform(src_path: Path, layer: str, path: Path) -> Transform:
    name = path.stem
    if not name.endswith(f"_to_{layer}") or name == f"_to_{layer}":
        raise DefinitionError(
            f"{path}: a {layer} transform is named <source>_to_{layer}.py "
            f"(e.g. trade_to_{layer}.py); rename the file."
        )
    return Transform(name, layer, path, src_path)


def discover_transforms(src_path: Path, database: str) -> list[Transform]:
    """Every transform of ``database``, layer by layer, each layer in dependency order."""
    [folder] = select_projects(src_path, database).values()
    found: list[Transform] = []
    for layer in LAYERS:
        files = sorted((folder / "transforms" / layer).glob("[!_]*.py"))
        found.extend(_ordered([_transform(src_path, layer, f) for f in files]))
    return found


def _ordered(transforms: list[Transform]) -> list[Transform]:
    by_name = {t.name: t for t in transforms}
    graph: dict[str, set[str]] = {}
    for transform in transforms:
        _, after = transform.load()
        unknown = [name for name in after if name not in by_name]
        if unknown:
            raise DefinitionError(
                f"{transform.path}: AFTER names {', '.join(unknown)}, not a transform of the "
                f"{transform.layer} layer (known: {', '.join(sorted(by_name))})."
            )
        graph[transform.name] = set(after)
    try:
        order = list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise DefinitionError(
            f"Transforms depend on each other in a cycle ({cycle}): fix their AFTER lists."
        ) from None
    return [by_name[name] for name in order]


def select_transforms(
    transforms: Sequence[Transform], layers: Sequence[str] = (), names: Sequence[str] = ()
) -> list[Transform]:
    """The transforms of ``layers`` (all when empty), or exactly ``names``."""
    for layer in layers:
        if layer not in LAYERS:
            raise PipelineError(f"Unknown layer '{layer}'. Layers: {', '.join(LAYERS)}.")
    known = {t.name: t for t in transforms}
    for name in names:
        if name not in known:
            hint = difflib.get_close_matches(name, list(known), n=1)
            did_you_mean = f" Did you mean '{hint[0]}'?" if hint else ""
            raise PipelineError(
                f"Unknown transform '{name}'.{did_you_mean} Known: {', '.join(known)}."
            )
    if names:
        return [t for t in transforms if t.name in names]
    return [t for t in transforms if not layers or t.layer in layers]


def run_transforms(
    spark: SparkSession, cfg: RunConfig, transforms: Sequence[Transform]
) -> list[TransformResult]:
    """Run in order; the first failure stops the run (later layers need its output)."""
    results = []
    for transform in transforms:
        run, _ = transform.load()
        started = time.perf_counter()
        log.info("%s %s: %s", cfg.logical_date, transform.layer, transform.name)
        result: Any = run(spark, cfg)
        if not isinstance(result, TransformResult):
            raise DefinitionError(f"{transform.path}: run() must return a TransformResult.")
        result.seconds = time.perf_counter() - started
        log.info(
            "%s %s: %s (%.1fs)", cfg.logical_date, result.job, result.summary(), result.seconds
        )
        results.append(result)
    return results
