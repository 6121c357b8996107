"""Alembic's environment for every database project (see src/_base/migrations)."""

from alembic import context

from src._base.migrations.environment import run

run(context)
