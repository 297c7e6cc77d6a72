"""Request parsing shared by every RPC: a message protobuf refuses is INVALID_ARGUMENT.

proto3 string fields must hold UTF-8, and protobuf refuses a message whose string
bytes are not. Left to grpc, that refusal happens before any handler runs and the
caller gets UNKNOWN (unary) or INTERNAL (streams) with protobuf's wording and no field
named. The server interceptor therefore hands grpc no deserializer and parses each
request with :func:`request_parser` inside the call's error mapping, so the caller
gets INVALID_ARGUMENT naming the field (``records[1].model``), like any other bad
request, from every service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.protobuf import descriptor_pool
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import DecodeError

from services.common.errors import InvalidArgument

# protobuf's own nesting limit; a message nested deeper is refused before this matters.
_MAX_DEPTH = 100
_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32 = 0, 1, 2, 5


def request_parser(
    deserializer: Callable[[bytes], Any], service: str, method: str
) -> Callable[[bytes], Any]:
    """``deserializer`` with its :class:`DecodeError` turned into :class:`InvalidArgument`."""

    def parse(data: bytes) -> Any:
        try:
            return deserializer(data)
        except DecodeError:
            raise _rejection(data, service, method) from None

    return parse


def _rejection(data: bytes, service: str, method: str) -> InvalidArgument:
    try:
        found = descriptor_pool.Default().FindServiceByName(service).methods_by_name[method]
    except KeyError:
        return InvalidArgument("request", "is not a valid protobuf message")
    field = undecodable_field(data, found.input_type)
    if field:
        return InvalidArgument(field, "is not valid UTF-8")
    return InvalidArgument("request", "is not a valid protobuf message")


def undecodable_field(data: bytes, descriptor: Descriptor) -> str:
    """Path of the first string field, at any depth, whose bytes are not UTF-8.

    Repeated fields carry their index (``records[1].model``); a map is named as a
    whole (``records[0].metadata``). "" when no such field is found, including when
    the bytes are not a well-formed message at all.
    """
    try:
        return _scan(data, descriptor, 0)
    except IndexError:
        return ""


def _scan(data: bytes, descriptor: Descriptor, depth: int) -> str:
    if depth > _MAX_DEPTH:
        return ""
    position = 0
    occurrences: dict[int, int] = {}
    while position < len(data):
        key, position = _varint(data, position)
        number, wire_type = key >> 3, key & 7
        if wire_type == _VARINT:
            _, position = _varint(data, position)
        elif wire_type == _FIXED64:
            position += 8
        elif wire_type == _FIXED32:
            position += 4
        elif wire_type == _LENGTH_DELIMITED:
            length, position = _varint(data, position)
            value = data[position : position + length]
            position += length
            if position > len(data):
                return ""
            field = descriptor.fields_by_number.get(number)
            if field is None:
                continue
            index = occurrences.get(number, 0)
            occurrences[number] = index + 1
            found = _undecodable(field, value, index, depth)
            if found:
                return found
        else:
            # Groups do not exist in proto3; anything else is not a message.
            return ""
    return ""


def _undecodable(field: FieldDescriptor, value: bytes, index: int, depth: int) -> str:
    """The path within ``field`` (holding ``value``) of bytes that are not UTF-8, or ""."""
    is_map = field.message_type is not None and field.message_type.GetOptions().map_entry
    name = f"{field.name}[{index}]" if field.is_repeated and not is_map else field.name
    if field.type == FieldDescriptor.TYPE_STRING:
        try:
            value.decode("utf-8")
        except UnicodeDecodeError:
            return name
        return ""
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        inner = _scan(value, field.message_type, depth + 1)
        if inner:
            return name if is_map else f"{name}.{inner}"
    # Packed numbers and bytes fields have no UTF-8 to check.
    return ""


def _varint(data: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7
