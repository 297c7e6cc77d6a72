"""Alembic environment of DriftService (its own version table)."""

from services.common.db import run_migrations
from services.drift.store import metadata

run_migrations(metadata)
