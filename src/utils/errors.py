"""One exception hierarchy for the whole project.

Every error raised on purpose derives from :class:`MedallionError`. Entry points
catch it at one boundary (:func:`src.utils.cli.run_main`), log its message as one
line and exit 1; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class MedallionError(Exception):
    """A user-facing error: its message names the thing, the place and the fix.

    ``transient`` errors may succeed when retried (an unreachable server); the others
    will fail the same way again, so orchestrators fail them at once.
    """

    transient = False


class ConfigError(MedallionError):
    """A setting is missing or invalid."""


class EmbeddedServerError(MedallionError):
    """The project-managed PostgreSQL server cannot be found, started or stopped."""


class DatabaseUnreachable(MedallionError):
    """No PostgreSQL server answered at the configured address in time."""

    transient = True


class SparkUnreachable(MedallionError):
    """The Spark Connect server named by MEDALLION_SPARK_REMOTE does not answer."""

    transient = True


class AuthenticationFailed(MedallionError):
    """The server answered but refused the credentials."""


class ConventionError(MedallionError):
    """Table classes break the naming or table-type conventions."""


class DefinitionError(MedallionError):
    """A table class cannot be turned into DDL (bad key, missing column, ...)."""


class PipelineError(MedallionError):
    """A transform cannot run for this date: an input is missing, or the order is wrong."""


class DagSpecError(MedallionError):
    """A DAG's task specs are invalid (names, transform files, dependencies)."""
