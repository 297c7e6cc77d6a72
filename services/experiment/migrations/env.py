"""Alembic environment of ExperimentService (its own version table)."""

from services.common.db import run_migrations
from services.experiment.store import metadata

run_migrations(metadata)
