"""Naming the field whose bytes protobuf refuses, from the wire format alone."""

from __future__ import annotations

import pytest
from google.protobuf.message import DecodeError
from llmops.v1 import common_pb2, cost_pb2, drift_pb2, logsink_pb2

from services.common.decoding import request_parser, undecodable_field
from services.common.errors import InvalidArgument

BAD = b"\xed\xa0\x80"  # an encoded surrogate, which UTF-8 forbids


def _field(number: int, payload: bytes) -> bytes:
    # One-byte key and length.
    assert number < 16
    assert len(payload) < 128
    return bytes([number << 3 | 2, len(payload)]) + payload


def test_names_a_top_level_string() -> None:
    data = cost_pb2.CountTokensRequest(model="gpt-4o").SerializeToString() + _field(2, BAD)
    assert undecodable_field(data, cost_pb2.CountTokensRequest.DESCRIPTOR) == "text"


def test_indexes_a_repeated_string() -> None:
    data = _field(1, b"m") + _field(2, b"ok") + _field(2, b"fine") + _field(2, BAD)
    assert undecodable_field(data, drift_pb2.ObserveRequest.DESCRIPTOR) == "texts[2]"


def test_follows_nested_messages_and_names_a_map_whole() -> None:
    good = common_pb2.CallRecord(model="gpt-4o").SerializeToString()
    bad_label = good + _field(15, _field(1, b"team") + _field(2, BAD))
    data = _field(2, good) + _field(2, bad_label)
    descriptor = logsink_pb2.StreamRecordsRequest.DESCRIPTOR
    assert undecodable_field(data, descriptor) == "records[1].metadata"


@pytest.mark.parametrize(
    "data",
    [b"", b"\xff" * 7, b"\x0a\xff\xff\xff\xff\x0f", bytes(range(256)), _field(1, b"fine")],
    ids=["empty", "no-varint-end", "too-long", "garbage", "valid"],
)
def test_finds_nothing_in_valid_or_malformed_bytes(data: bytes) -> None:
    assert undecodable_field(data, cost_pb2.CountTokensRequest.DESCRIPTOR) == ""


def test_parser_turns_a_refusal_into_invalid_argument_naming_the_field() -> None:
    parse = request_parser(
        cost_pb2.CountTokensRequest.FromString, "llmops.v1.CostService", "CountTokens"
    )
    assert parse(_field(1, b"gpt-4o")).model == "gpt-4o"
    with pytest.raises(InvalidArgument) as bad_text:
        parse(_field(2, BAD))
    assert bad_text.value.field == "text"
    with pytest.raises(InvalidArgument) as garbage:
        parse(b"\xff" * 7)
    assert garbage.value.field == "request"


def test_parser_of_a_method_outside_the_descriptor_pool_names_the_request() -> None:
    parse = request_parser(cost_pb2.CountTokensRequest.FromString, "test.v1.Echo", "Say")
    with pytest.raises(InvalidArgument) as bad_text:
        parse(_field(2, BAD))
    assert bad_text.value.field == "request"
    with pytest.raises(DecodeError):
        cost_pb2.CountTokensRequest.FromString(_field(2, BAD))
