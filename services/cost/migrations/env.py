"""Alembic environment of CostService (its own version table)."""

from services.common.db import run_migrations
from services.cost.store import metadata

run_migrations(metadata)
