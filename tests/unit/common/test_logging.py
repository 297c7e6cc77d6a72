"""Logs are one JSON object per line with the service name and extra fields."""

from __future__ import annotations

import json
import logging
import sys

from services.common.logging import JsonFormatter


def test_json_line_carries_service_message_and_extras() -> None:
    record = logging.LogRecord(
        "services.cost", logging.WARNING, __file__, 1, "spent %d", (5,), None
    )
    record.model = "gpt-4o"
    entry = json.loads(JsonFormatter("cost").format(record))
    assert entry["service"] == "cost"
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "services.cost"
    assert entry["msg"] == "spent 5"
    assert entry["model"] == "gpt-4o"
    assert entry["ts"].endswith("+00:00")


def test_exception_traceback_is_one_field() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    entry = json.loads(JsonFormatter("cost").format(record))
    assert "ValueError: boom" in entry["exc"]
