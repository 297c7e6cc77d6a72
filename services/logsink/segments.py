"""Segment objects: the texts of many records packed into one object-store object.

A segment is a run of Zstandard frames (RFC 8878), one per record, each with its
content size and checksum: a record's bytes decode on their own, so the SQL row keeps
the segment, the offset and the length, and reading one record's texts is one ranged
read and one small decompression, never the whole segment. One compression context
per segment, reused for every frame: setting one up costs more than compressing 1 KB.

Zstandard level 1 compresses 1 KB of ordinary text in about 7 us here, to 65%; raw
DEFLATE with a full flush after each record (the earlier format) took about 23 us for
the same: each flush resets the compressor (bench/README.md, "logsink: one Zstandard
frame per record").

Record layout before compression: 4-byte big-endian length of the UTF-8 prompt, the
prompt, then the UTF-8 response up to the end.

Segments written by earlier versions are still read: each record is raw
DEFLATE (no zlib header) of a 4-byte big-endian CRC-32 of the rest followed by the
same layout. The two cannot be confused: every Zstandard frame starts with the bytes
28 B5 2F FD, and no raw DEFLATE stream does (its first byte would announce a stored
block, whose next two length fields, B5 2F and FD ..., are not one's complements).
"""

from __future__ import annotations

import threading
import uuid
import zlib
from datetime import UTC, datetime

import zstandard

_LEVEL = 1
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# A record arrives in one protobuf message, which cannot exceed 2 GiB: a frame that
# claims more is corrupt, and is refused before anything is allocated for it.
_MAX_RECORD_BYTES = 2**31
_local = threading.local()


def segment_key(tenant: str, now: datetime | None = None) -> str:
    """A new, unique object key; per tenant and day so a store can be browsed and purged."""
    day = (now or datetime.now(UTC)).strftime("%Y/%m/%d")
    return f"logsink/{tenant}/{day}/{uuid.uuid4().hex}.seg"


class SegmentBuilder:
    """Collects the texts of one batch into a single segment payload (one thread)."""

    def __init__(self) -> None:
        self._compressor = zstandard.ZstdCompressor(level=_LEVEL, write_checksum=True)
        self._parts: list[bytes] = []
        self._size = 0

    def add(self, prompt: str, response: str) -> tuple[int, int]:
        """Append one record's texts; returns its (offset, length) inside the segment."""
        prompt_bytes = prompt.encode()
        frame = self._compressor.compress(
            len(prompt_bytes).to_bytes(4, "big") + prompt_bytes + response.encode()
        )
        offset = self._size
        self._parts.append(frame)
        self._size += len(frame)
        return offset, len(frame)

    def __len__(self) -> int:
        return len(self._parts)

    def payload(self) -> bytes:
        """The segment object's content."""
        return b"".join(self._parts)


def decode_texts(blob: bytes) -> tuple[str, str]:
    """The (prompt, response) of one record from its slice of a segment.

    Raises ValueError when the slice does not decode or fails its checksum.
    """
    body = _decompress(blob) if blob.startswith(_ZSTD_MAGIC) else _inflate_legacy(blob)
    if len(body) < 4:
        raise ValueError("segment record is corrupt (too short)")
    prompt_length = int.from_bytes(body[:4], "big")
    # Invalid UTF-8 raises UnicodeDecodeError, a ValueError.
    return body[4 : 4 + prompt_length].decode(), body[4 + prompt_length :].decode()


def _decompress(frame: bytes) -> bytes:
    decompressor = getattr(_local, "decompressor", None)
    if decompressor is None:  # one per thread: a context is not safe to share
        decompressor = _local.decompressor = zstandard.ZstdDecompressor()
    try:
        # Unknown (-1) too: every frame written here states its size.
        if not 0 <= zstandard.frame_content_size(frame) <= _MAX_RECORD_BYTES:
            raise ValueError("segment record is corrupt (bad frame header)")
        return decompressor.decompress(frame, allow_extra_data=False)
    except zstandard.ZstdError as exc:
        raise ValueError(f"segment record is corrupt ({exc})") from exc


def _inflate_legacy(blob: bytes) -> bytes:
    try:
        raw = zlib.decompressobj(-zlib.MAX_WBITS).decompress(blob)
    except zlib.error as exc:
        raise ValueError(f"segment record is corrupt ({exc})") from exc
    checksum, body = int.from_bytes(raw[:4], "big"), raw[4:]
    if len(raw) < 8 or zlib.crc32(body) != checksum:
        raise ValueError("segment record is corrupt (CRC-32 mismatch)")
    return body
