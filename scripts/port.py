"""Generate a database project's port to another platform from its transform catalogue.

    python scripts/port.py demo --target databricks --out port/databricks

``databricks``: a Lakeflow Declarative Pipelines project (``transformations/`` the day's
computation, ``history/`` once flows and AUTO CDC, ``setup.sql``, a bundle, an Airflow
DAG, its own README). ``snowflake``: SQL scripts (tables, one script per transform,
``run_day.sql`` setting the run's parameters). Both with a ``.sqlfluff`` to lint them
with. The folder is emptied of earlier generated files first, so a transform removed from
the catalogue leaves nothing behind.
Prints each transform's status (ported, or why not). Prove it with check_ports.py.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from src._base.ports import TARGETS, generate_port
from src.config import Settings
from src.orchestration.local_airflow import quality_rules, use_local_airflow
from src.utils.cli import run_main
from src.utils.errors import ConfigError

log = logging.getLogger("port")


def _body(args: argparse.Namespace, settings: Settings) -> int:
    rules = []
    if args.target == "databricks":  # its expectations: the rules the project's DAGs run
        use_local_airflow(settings.airflow_home)
        rules = quality_rules(args.database)
    port = generate_port(settings, args.database, args.target, rules)
    out: Path = args.out
    if out.exists() and any(out.iterdir()) and not (out / ".sqlfluff").exists():
        raise ConfigError(
            f"{out} is not empty and holds no earlier port (no .sqlfluff): choose an empty "
            "or new folder for --out; nothing was written."
        )
    if out.exists():
        shutil.rmtree(out)
    written = port.write(out)
    for entry in port.transforms:
        note = f" ({entry.reason})" if entry.reason else ""
        sys.stdout.write(f"{entry.name:<26} {entry.status}{note}\n")
    log.info("%s port of %s: %d file(s) in %s", args.target, args.database, len(written), out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", help="database project, e.g. demo")
    parser.add_argument("--target", required=True, choices=TARGETS)
    parser.add_argument("--out", type=Path, required=True, help="folder to write the port into")
    parser.add_argument("--log-level", dest="log_level", default=None)
    return run_main(_body, parser, argv)


if __name__ == "__main__":
    raise SystemExit(main())
