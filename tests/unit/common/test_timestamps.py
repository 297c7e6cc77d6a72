"""to_micros: client timestamps that no clock can hold are the client's error."""

from __future__ import annotations

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from services.common.errors import InvalidArgument
from services.common.timestamps import to_micros


def test_valid_timestamp_converts_to_microseconds() -> None:
    assert to_micros(Timestamp(seconds=1_700_000_000, nanos=123_456_789), "t") == (
        1_700_000_000_123_456
    )


@pytest.mark.parametrize(
    "timestamp",
    [Timestamp(seconds=-(2**63)), Timestamp(seconds=253_402_300_800), Timestamp(nanos=-1)],
    ids=["before-year-1", "after-year-9999", "negative-nanos"],
)
def test_out_of_range_timestamp_is_invalid_argument_naming_the_field(
    timestamp: Timestamp,
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        to_micros(timestamp, "records[3].timestamp")
    assert caught.value.field == "records[3].timestamp"
