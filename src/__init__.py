"""Medallion Lakehouse: a warehouse declared as code, built on PostgreSQL.

The package is deliberately light: importing it (or any table or build module)
never imports PySpark or Airflow. Those are imported lazily by the transforms
and the DAG files that need them.
"""

__version__ = "0.1.0"
