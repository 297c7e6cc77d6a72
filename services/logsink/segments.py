"""Segment objects: the texts of many records packed into one object-store object.

Each record's texts are compressed on their own (zlib) and appended to the segment;
the SQL row keeps the segment, the offset and the length, so reading one record's
texts is one ranged read and one small decompression, never the whole segment.
Compressing records one by one costs some ratio compared with compressing the whole
segment, which is the price of random access.

Record layout before compression: 4-byte big-endian length of the UTF-8 prompt, the
prompt, then the UTF-8 response up to the end.
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
        self._parts: list[bytes] = []
        self._size = 0

    def add(self, prompt: str, response: str) -> tuple[int, int]:
        """Append one record's texts; returns its (offset, length) inside the segment."""
        prompt_bytes = prompt.encode()
        blob = zlib.compress(
            len(prompt_bytes).to_bytes(4, "big") + prompt_bytes + response.encode(), _LEVEL
        )
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
    """The (prompt, response) of one record from its slice of a segment."""
    raw = zlib.decompress(blob)
    prompt_length = int.from_bytes(raw[:4], "big")
    return raw[4 : 4 + prompt_length].decode(), raw[4 + prompt_length :].decode()
