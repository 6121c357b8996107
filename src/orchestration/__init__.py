"""Running the pipeline on a schedule: Apache Airflow DAGs built from the transform catalogue.

It sits above the framework (``src._base``) and the leaf helpers (``src.utils``) and is
imported by DAG files and the Airflow entry points only; nothing below imports it.
"""
