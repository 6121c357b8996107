"""Run a Spark Connect server for this project, so jobs need no JVM of their own.

    python scripts/spark_connect.py                     # sc://127.0.0.1:15002
    python scripts/spark_connect.py --port 15010
    MEDALLION_SPARK_REMOTE=sc://127.0.0.1:15002 python scripts/run_pipeline.py --date 2026-11-20

The server runs Spark as this project's settings say (MEDALLION_SPARK_MASTER, memory, the
JDBC driver; on a cluster the executors' Python and the project's code) and logs to
.local/logs/spark-connect.log. It stops on Ctrl-C or SIGTERM (exit 0) and exits 1 if the
server dies. ``airflow_local.py standalone --spark-connect`` runs one beside Airflow.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from src.config import Settings
from src.utils.cli import run_main
from src.utils.spark_connect import DEFAULT_PORT, connect_server, run_connect_server


def _body(args: argparse.Namespace, settings: Settings) -> int:
    server = connect_server(settings, port=args.port, host=args.host)
    return run_connect_server(server, settings.spark_log.parent / "spark-connect.log")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="its port (15002)")
    parser.add_argument("--host", default="127.0.0.1", help="its address (127.0.0.1)")
    parser.add_argument("--log-level", dest="log_level", default=None)
    return run_main(_body, parser, argv)


if __name__ == "__main__":
    raise SystemExit(main())
