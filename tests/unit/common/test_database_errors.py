"""What a lost database looks like in a log line."""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa

from services.common.db import DATABASE_UNAVAILABLE, describe_database_error


def test_a_wrapped_driver_error_is_described_without_its_sql_or_parameters() -> None:
    driver_error = sqlite3.OperationalError("database is locked")
    wrapped = sa.exc.OperationalError(
        "INSERT INTO logsink_records (user_id) VALUES (?)", ("jane@example.com",), driver_error
    )
    assert isinstance(wrapped, DATABASE_UNAVAILABLE)
    assert "jane@example.com" in str(wrapped)
    assert describe_database_error(wrapped) == "OperationalError: database is locked"


def test_a_driver_error_keeps_only_the_first_line_of_its_message() -> None:
    error = sqlite3.OperationalError("deadlock detected\nDETAIL: Process 12 waits for 34")
    assert describe_database_error(error) == "OperationalError: deadlock detected"
    assert describe_database_error(sqlite3.OperationalError()) == "OperationalError: "
