"""Which code a call the server saw cancelled is counted under."""

from __future__ import annotations

import grpc
import pytest

from services.common.interceptors import DEADLINE_MARGIN_SECONDS, _abandoned_code


class _Context:
    """The one method of a servicer context the classification reads."""

    def __init__(self, remaining: float | None) -> None:
        self._remaining = remaining

    def time_remaining(self) -> float | None:
        return self._remaining


@pytest.mark.parametrize(
    ("remaining", "code"),
    [
        (None, grpc.StatusCode.CANCELLED),  # no deadline: the client went away
        (5.0, grpc.StatusCode.CANCELLED),  # far from its deadline: the client cancelled
        (DEADLINE_MARGIN_SECONDS * 2, grpc.StatusCode.CANCELLED),
        # The client's timer fired at its deadline, just before the server's.
        (DEADLINE_MARGIN_SECONDS / 10, grpc.StatusCode.DEADLINE_EXCEEDED),
        (0.0, grpc.StatusCode.DEADLINE_EXCEEDED),
        (-0.3, grpc.StatusCode.DEADLINE_EXCEEDED),
    ],
)
def test_cancellation_near_the_deadline_counts_as_the_deadline(
    remaining: float | None, code: grpc.StatusCode
) -> None:
    assert _abandoned_code(_Context(remaining)) is code
