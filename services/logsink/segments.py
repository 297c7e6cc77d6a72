"""Segment objects: the texts of many records packed into one object-store object.

A segment is one raw DEFLATE stream (RFC 1951, no zlib header) with a full flush
after every record: the flush ends the record on a byte boundary and resets the
compressor's history, so each record's bytes decode on their own. The SQL row keeps
the segment, the offset and the length, so reading one record's texts is one ranged
read and one small decompression, never the whole segment. One compressor per
segment, not one per record: setting up zlib costs more than compressing 1 KB
(bench/README.md, "logsink: one compressor per segment").

Record layout before compression: 4-byte big-endian CRC-32 of the rest (raw DEFLATE
carries no checksum), 4-byte big-endian length of the UTF-8 prompt, the prompt, then
the UTF-8 response up to the end.
"""

from __future__ import annotations

import uuid
import zlib
from datetime import UTC, datetime

# Level 1 is about twice as fast as the default and loses little on short texts.
_LEVEL = 1


def segment_key(tenant: str, now: datetime | None = None) -> str:
    """A new, unique object key; per tenant and day so a store can be browsed and purged."""
    day = (now or datetime.now(UTC)).strftime("%Y/%m/%d")
    return f"logsink/{tenant}/{day}/{uuid.uuid4().hex}.seg"


class SegmentBuilder:
    """Collects the texts of one batch into a single segment payload."""

    def __init__(self) -> None:
        self._compressor = zlib.compressobj(_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
        self._parts: list[bytes] = []
        self._size = 0

    def add(self, prompt: str, response: str) -> tuple[int, int]:
        """Append one record's texts; returns its (offset, length) inside the segment."""
        prompt_bytes = prompt.encode()
        body = len(prompt_bytes).to_bytes(4, "big") + prompt_bytes + response.encode()
        blob = self._compressor.compress(zlib.crc32(body).to_bytes(4, "big") + body)
        blob += self._compressor.flush(zlib.Z_FULL_FLUSH)
        offset = self._size
        self._parts.append(blob)
        self._size += len(blob)
        return offset, len(blob)

    def __len__(self) -> int:
        return len(self._parts)

    def payload(self) -> bytes:
        """The segment object's content."""
        return b"".join(self._parts)


def decode_texts(blob: bytes) -> tuple[str, str]:
    """The (prompt, response) of one record from its slice of a segment.

    Raises ValueError when the slice does not decode or fails its checksum.
    """
    try:
        raw = zlib.decompressobj(-zlib.MAX_WBITS).decompress(blob)
    except zlib.error as exc:
        raise ValueError(f"segment record is corrupt ({exc})") from exc
    checksum, body = int.from_bytes(raw[:4], "big"), raw[4:]
    if len(raw) < 8 or zlib.crc32(body) != checksum:
        raise ValueError("segment record is corrupt (CRC-32 mismatch)")
    prompt_length = int.from_bytes(body[:4], "big")
    return body[4 : 4 + prompt_length].decode(), body[4 + prompt_length :].decode()
