"""The transform catalogue: every transform of a project, read from its one declaration.

    catalogue = load_catalogue(src_path, "demo")            # every module, validated
    catalogue.select(layers=("silver",))                    # in dependency order
    load_transform(src_path, "demo", "silver", "trade_to_silver")   # one module only

A transform is ``src/<db>/transforms/<layer>/<source>_to_<layer>.py`` defining
``TRANSFORM`` (a shape from :mod:`.shapes`). Its name is the file's; its inputs are
upstream transforms, and those of its own layer order it after them. The runner, the DAG
factory and the Airflow tasks all read transforms here; an Airflow task imports only its
own module, so a broken module fails its own tasks and the catalogue check, nothing else.
"""

from __future__ import annotations

import difflib
import graphlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from src._base.build.discovery import (
    import_file,
    load_projects,
    project_marker,
    select_projects,
)
from src._base.build.project import DATA_LAYERS
from src._base.functions.temporal import SYSTEM_COLUMNS
from src._base.pipeline.result import TransformResult
from src._base.pipeline.run_config import RunConfig
from src._base.pipeline.shapes import SHAPES, GoldSnapshot, LandingFiles, SourceTable
from src._base.pipeline.tenancy import for_tenant
from src._base.tables.ddl import table_of
from src.utils.errors import DefinitionError, PipelineError

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import SparkSession

LAYERS = DATA_LAYERS


@dataclass(frozen=True)
class TransformEntry:
    """One transform: where it lives and what it declares."""

    database: str
    name: str
    layer: str
    path: Path
    spec: Any  # one of shapes.SHAPES

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(self.spec.inputs)

    @property
    def outputs(self) -> tuple[str, ...]:
        return tuple(self.spec.outputs)

    def run(self, spark: SparkSession | None, cfg: RunConfig) -> TransformResult:
        """Run on ``cfg.engine``: Spark (``spark`` is the session) or PostgreSQL; in a
        tenant's run (``cfg.tenant``), on the tenant's schemas."""
        spec = self.spec
        if cfg.tenant:
            spec = for_tenant(spec, cfg.tenant, cfg.tenant_layers, self.name)
        if cfg.engine == "postgres":
            result = self._run_in_postgres(spec, cfg)
        else:
            result = spec.run(spark, cfg, self.name)
        if not isinstance(result, TransformResult):
            raise DefinitionError(f"{self.path}: run() must return a TransformResult.")
        return result

    def _run_in_postgres(self, spec: Any, cfg: RunConfig) -> TransformResult:
        from src._base.engines.postgres import RUNNERS

        runner = RUNNERS.get(type(spec))
        if runner is None:
            raise PipelineError(
                f"{self.name} is a {type(spec).__name__} transform ({self.path}): the "
                "postgres engine runs declared steps only. Declare it with a shape, or run "
                "it with --engine spark."
            )
        return runner(spec, cfg, self.name)


def transforms_folder(src_path: Path, database: str, layer: str) -> Path:
    [folder] = select_projects(src_path, database).values()
    return folder / "transforms" / layer


def _entry(database: str, layer: str, path: Path, src_path: Path) -> TransformEntry:
    name = path.stem
    if not name.endswith(f"_to_{layer}") or name == f"_to_{layer}":
        raise DefinitionError(
            f"{path}: a {layer} transform is named <source>_to_{layer}.py "
            f"(e.g. trade_to_{layer}.py); rename the file."
        )
    spec = getattr(import_file(src_path, path), "TRANSFORM", None)
    if not isinstance(spec, SHAPES):
        shapes = ", ".join(shape.__name__ for shape in SHAPES)
        raise DefinitionError(
            f"{path} must define TRANSFORM = one of {shapes} (src._base.pipeline.shapes); "
            f"found {type(spec).__name__ if spec is not None else 'nothing'}."
        )
    if spec.layer != layer:
        raise DefinitionError(
            f"{path}: TRANSFORM is a {spec.layer} shape ({type(spec).__name__}) in the "
            f"{layer} folder; move the file or change the shape."
        )
    return TransformEntry(database, name, layer, path, spec)


def load_transform(src_path: Path, database: str, layer: str, name: str) -> TransformEntry:
    """Import exactly one transform module (what an Airflow task needs)."""
    if layer not in LAYERS:
        raise PipelineError(f"Unknown layer '{layer}'. Layers: {', '.join(LAYERS)}.")
    folder = transforms_folder(src_path, database, layer)
    path = folder / f"{name}.py"
    if not path.is_file():
        known = sorted(p.stem for p in folder.glob("[!_]*.py"))
        raise PipelineError(_unknown(f"{layer} transform", name, known))
    return _entry(database, layer, path, src_path)


def _unknown(what: str, name: str, known: Sequence[str]) -> str:
    hint = difflib.get_close_matches(name, list(known), n=1)
    did_you_mean = f" Did you mean '{hint[0]}'?" if hint else ""
    return f"Unknown {what} '{name}'.{did_you_mean} Known: {', '.join(known) or 'none'}."


@dataclass(frozen=True)
class Catalogue:
    """A project's transforms, layer by layer, each layer in dependency order."""

    database: str
    entries: tuple[TransformEntry, ...]

    def names(self) -> list[str]:
        return [entry.name for entry in self.entries]

    def after(self, entry: TransformEntry) -> tuple[str, ...]:
        """The transforms ``entry`` runs after: its inputs of the same layer."""
        layer = {e.name for e in self.entries if e.layer == entry.layer}
        return tuple(name for name in entry.inputs if name in layer)

    def select(self, layers: Sequence[str] = (), names: Sequence[str] = ()) -> list[TransformEntry]:
        """The transforms of ``layers`` (all when empty), or exactly ``names``, in order."""
        for layer in layers:
            if layer not in LAYERS:
                raise PipelineError(f"Unknown layer '{layer}'. Layers: {', '.join(LAYERS)}.")
        for name in names:
            if name not in self.names():
                raise PipelineError(_unknown("transform", name, self.names()))
        if names:
            return [e for e in self.entries if e.name in names]
        return [e for e in self.entries if not layers or e.layer in layers]


def _load(src_path: Path, database: str, layers: Sequence[str]) -> list[TransformEntry]:
    entries, problems = [], []
    for layer in layers:
        for path in sorted(transforms_folder(src_path, database, layer).glob("[!_]*.py")):
            try:
                entries.append(_entry(database, layer, path, src_path))
            except DefinitionError as exc:
                problems.append(str(exc))
    problems += _input_problems(entries, whole=len(layers) == len(LAYERS))
    if problems:
        raise DefinitionError(
            f"The {'/'.join(layers)} transforms of '{database}' have {len(problems)} "
            "problem(s):\n  " + "\n  ".join(problems)
        )
    return _ordered(entries)


def load_catalogue(src_path: Path, database: str) -> Catalogue:
    """Every transform of ``database``, validated: names, shapes, inputs, cycles, and
    outputs that are tables of the project (see :func:`output_contract`).

    Every problem is collected and reported at once, one line each.
    """
    entries = _load(src_path, database, LAYERS)
    tables = project_tables(src_path, database)
    problems = [
        f"{entry.path}: output: {_unknown(f'table of {database}', table, sorted(tables))}"
        for entry in entries
        for table in entry.outputs
        if table not in tables
    ]
    problems += [p for entry in entries for p in _gold_key_problems(entry, tables)]
    declared = project_marker(src_path, database).sources
    problems += [p for entry in entries for p in _source_problems(entry, declared)]
    if problems:
        raise DefinitionError(
            f"The transforms of '{database}' have {len(problems)} problem(s):\n  "
            + "\n  ".join(problems)
        )
    return Catalogue(database, tuple(entries))


def _gold_key_problems(entry: TransformEntry, tables: dict[str, Any]) -> list[str]:
    """A gold snapshot's target is a temporal table keyed by ``business_date`` and the
    declared ``keys``: its history is what keeps reported figures readable."""
    spec = entry.spec
    if not isinstance(spec, GoldSnapshot) or spec.target not in tables:
        return []
    table = tables[spec.target]
    key = [c.name for c in table.primary_key.columns if c.name not in SYSTEM_COLUMNS]
    temporal = all(c in table.columns for c in SYSTEM_COLUMNS)
    if temporal and key == list(spec.keys) and key[:1] == ["business_date"]:
        return []
    return [
        f"{entry.path}: target {spec.target} must be a temporal table (TemporalTableBase) "
        f"whose business key is keys={tuple(spec.keys)!r}, business_date first; its key is "
        f"{tuple(key)!r}. Declare the key columns with primary_key=True in that order."
    ]


def _source_problems(entry: TransformEntry, declared: tuple[Any, ...]) -> list[str]:
    """A bronze load reads a source the project declares, of the right kind; unnamed, it
    reads the project's only source of that kind."""
    source = getattr(entry.spec, "source", None)
    if not isinstance(source, SourceTable | LandingFiles):
        return []
    kind = "postgres" if isinstance(source, SourceTable) else "landing"
    of_kind = sorted(s.name for s in declared if s.kind == kind)
    if source.source:
        if source.source in of_kind:
            return []
        return [
            f"{entry.path}: source: {_unknown(f'{kind} source', source.source, of_kind)} "
            "Declare it in sources= of the project's DATABASE, or correct the name."
        ]
    if len(of_kind) > 1:
        return [
            f"{entry.path}: the project declares {len(of_kind)} {kind} sources "
            f"({', '.join(of_kind)}): name the one this transform reads (source=...)."
        ]
    return []


def project_tables(src_path: Path, database: str) -> dict[str, Any]:
    """``{schema.table: SQLAlchemy Table}`` of the project's table classes."""
    [project] = load_projects(src_path, database)
    return {table_of(model).fullname: table_of(model) for model in project.models}


def output_contract(src_path: Path, database: str, table: str) -> dict[str, str]:
    """The columns and PostgreSQL types a transform's output must fit: the table class's."""
    from sqlalchemy.dialects import postgresql

    dialect = postgresql.dialect()
    columns = project_tables(src_path, database)[table].columns
    return {column.name: column.type.compile(dialect=dialect) for column in columns}


def load_layer(src_path: Path, database: str, layer: str) -> Catalogue:
    """The transforms of one layer (what its DAG needs): other layers' modules are not
    imported, so inputs from them are checked by :func:`load_catalogue` only."""
    if layer not in LAYERS:
        raise PipelineError(f"Unknown layer '{layer}'. Layers: {', '.join(LAYERS)}.")
    return Catalogue(database, tuple(_load(src_path, database, (layer,))))


def _input_problems(entries: list[TransformEntry], *, whole: bool) -> list[str]:
    """Inputs must be transforms of the same or an earlier layer (unknown names are only
    known to be unknown when every layer was read: ``whole``)."""
    rank = {e.name: LAYERS.index(e.layer) for e in entries}
    problems = []
    for entry in entries:
        for name in entry.inputs:
            if name not in rank and not whole and not name.endswith(f"_to_{entry.layer}"):
                continue  # another layer's transform: load_catalogue checks it
            if name not in rank:
                problems.append(f"{entry.path}: input: {_unknown('transform', name, list(rank))}")
            elif rank[name] > LAYERS.index(entry.layer):
                problems.append(
                    f"{entry.path}: input '{name}' is a later layer's transform; layers only "
                    "read earlier layers (and transforms of their own)."
                )
    return problems


def _ordered(entries: list[TransformEntry]) -> list[TransformEntry]:
    ordered: list[TransformEntry] = []
    for layer in LAYERS:
        own = {e.name: e for e in entries if e.layer == layer}
        graph = {e.name: {i for i in e.inputs if i in own} for e in own.values()}
        try:
            order = list(graphlib.TopologicalSorter(graph).static_order())
        except graphlib.CycleError as exc:
            cycle = " -> ".join(exc.args[1])
            raise DefinitionError(
                f"{layer} transforms depend on each other in a cycle ({cycle}): fix their inputs."
            ) from None
        ordered += [own[name] for name in order]
    return ordered
