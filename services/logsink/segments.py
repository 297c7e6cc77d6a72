"""Segment objects: the texts of many records packed into one object-store object.

A segment is a run of frames. Each frame holds the texts of consecutive records of the
batch, up to about 16 KiB of them, compressed together as one Zstandard frame (RFC 8878,
level 1, with its content size and checksum). The SQL row keeps the segment, the
frame's offset and length, and the record's index in the frame: reading one record is
one ranged read and the decompression of one frame, never the whole segment.

Why frames of several records: Zstandard's fixed cost per frame (entropy tables,
context reset) is most of the work on 1 KB. Alone, 1 KB of ordinary text took
10-14 us and kept 63% of its size; in frames of 16 KiB, 4.6 us per record and 52%
(distinct texts; responses of one application, which share phrasing, shrink far more).
Decompressing a 16 KiB frame to read one record takes about 28 us (bench/README.md,
"logsink: frames of several records").

Frame layout: an empty Zstandard skippable frame (eight bytes, magic 0x184D2A5C), then
the Zstandard frame. Its content, per record: the UTF-8 lengths of the prompt and of the
response as two 4-byte big-endian integers, the prompt, the response. The skippable
frame marks the layout: an earlier reader, which knew only single-record frames, finds
no frame it knows at the offset and refuses the slice as corrupt instead of misreading it.

Earlier formats are still read, for rows with no index:
- one Zstandard frame per record, content: 4-byte big-endian length of the UTF-8
  prompt, the prompt, then the UTF-8 response up to the end;
- one raw DEFLATE stream (no zlib header) per record: a 4-byte big-endian CRC-32 of the
  rest followed by the same layout. Every Zstandard frame starts with the bytes
  28 B5 2F FD, and no raw DEFLATE stream does (its first byte would announce a stored
  block, whose next two length fields, B5 2F and FD ..., are not one's complements).
"""

from __future__ import annotations

import struct
import threading
import uuid
import zlib
from datetime import UTC, datetime

import zstandard

_LEVEL = 1
# Texts per frame before the next record starts a new one (bytes, before compression).
FRAME_BYTES = 16 * 1024
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_GROUPED = (0x184D2A5C).to_bytes(4, "little") + bytes(4)
_LENGTHS = struct.Struct(">II")
# A frame's records arrive in one protobuf message, which cannot exceed 2 GiB: a frame
# that claims more is corrupt, and is refused before anything is allocated for it.
_MAX_FRAME_BYTES = 2**31
_local = threading.local()


def segment_key(tenant: str, now: datetime | None = None) -> str:
    """A new, unique object key; per tenant and day so a store can be browsed and purged."""
    day = (now or datetime.now(UTC)).strftime("%Y/%m/%d")
    return f"logsink/{tenant}/{day}/{uuid.uuid4().hex}.seg"


class SegmentBuilder:
    """Collects the texts of one batch into a single segment payload (one thread).

    :meth:`add` the records in order, then :meth:`finish` once: it returns the payload
    and, per record added, its frame's (offset, length) and its index in the frame.
    """

    def __init__(self, frame_bytes: int = FRAME_BYTES) -> None:
        self._compressor = zstandard.ZstdCompressor(level=_LEVEL, write_checksum=True)
        self._frame_bytes = frame_bytes
        self._frames: list[bytes] = []
        self._size = 0
        self._open: list[bytes] = []
        self._open_bytes = 0
        self._locations: list[tuple[int, int, int]] = []

    def add(self, prompt: str, response: str) -> None:
        """Append one record's texts."""
        prompt_bytes, response_bytes = prompt.encode(), response.encode()
        self._open += (
            _LENGTHS.pack(len(prompt_bytes), len(response_bytes)),
            prompt_bytes,
            response_bytes,
        )
        self._open_bytes += 8 + len(prompt_bytes) + len(response_bytes)
        if self._open_bytes >= self._frame_bytes:
            self._close_frame()

    def _close_frame(self) -> None:
        frame = _GROUPED + self._compressor.compress(b"".join(self._open))
        records = len(self._open) // 3
        self._locations += ((self._size, len(frame), index) for index in range(records))
        self._frames.append(frame)
        self._size += len(frame)
        self._open, self._open_bytes = [], 0

    def finish(self) -> tuple[bytes, list[tuple[int, int, int]]]:
        """The segment's content, and (offset, length, index) per record, in order."""
        if self._open:
            self._close_frame()
        return b"".join(self._frames), self._locations


def decode_frame(blob: bytes) -> list[tuple[str, str]]:
    """The (prompt, response) of every record in one frame, in order.

    Raises ValueError when the frame does not decode, fails its checksum, or its
    content is not a run of records.
    """
    if not blob.startswith(_GROUPED):
        raise ValueError("segment frame is corrupt (no frame marker)")
    body = _decompress(blob[len(_GROUPED) :])
    texts = []
    position = 0
    while position < len(body):
        if position + 8 > len(body):
            raise ValueError("segment frame is corrupt (truncated record)")
        prompt_length, response_length = _LENGTHS.unpack_from(body, position)
        prompt_start = position + 8
        response_start = prompt_start + prompt_length
        position = response_start + response_length
        if position > len(body):
            raise ValueError("segment frame is corrupt (truncated record)")
        # Invalid UTF-8 raises UnicodeDecodeError, a ValueError.
        texts.append(
            (
                body[prompt_start:response_start].decode(),
                body[response_start:position].decode(),
            )
        )
    return texts


def decode_texts(blob: bytes) -> tuple[str, str]:
    """The (prompt, response) of a record written alone, in an earlier format.

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
        if not 0 <= zstandard.frame_content_size(frame) <= _MAX_FRAME_BYTES:
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
