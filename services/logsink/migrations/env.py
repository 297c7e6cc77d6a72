"""Alembic environment of LogSinkService (its own version table)."""

from services.common.db import run_migrations
from services.logsink.store import metadata

run_migrations(metadata)
