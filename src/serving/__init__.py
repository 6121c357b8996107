"""Serving the warehouse: an async read API generated from a project's table classes.

It sits above the framework (``src._base``) and the leaf helpers (``src.utils``), beside
``src.orchestration``; nothing below imports it.
"""
