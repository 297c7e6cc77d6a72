"""Request timestamps to microseconds, with a clear error for values no clock can hold.

``Timestamp.ToMicroseconds`` raises ``ValueError`` for seconds outside years
0001 to 9999 or nanos outside [0, 1e9); left alone, that surfaces as INTERNAL. Every
servicer converting a client's timestamp goes through :func:`to_micros` instead.
"""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from services.common.errors import InvalidArgument


def to_micros(timestamp: Timestamp, field: str) -> int:
    """Microseconds since the epoch; INVALID_ARGUMENT naming ``field`` when out of range."""
    try:
        return int(timestamp.ToMicroseconds())
    except ValueError as exc:
        raise InvalidArgument(field, str(exc)) from None
