"""Schema migrations with Alembic: one version history per database project.

``src/<project>/migrations/versions/`` holds a project's revisions; the environment
(``alembic/env.py``) is the framework's, shared by every project. Autogenerate compares
the project's own table classes with its schemas and knows table types: a column change
on a temporal table also rebuilds what versioning derives from its columns
(:mod:`.versioning`), and a change that would lose history is refused unless allowed.
"""
