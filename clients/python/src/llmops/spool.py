"""A bounded on-disk spool of record batches: one fsync'd file per batch.

The shipper writes here whatever it cannot deliver (LogSink unreachable, queue full,
process closing) and replays the files oldest first once LogSink answers again,
deleting each only after its acknowledgement. File names start with a nanosecond
timestamp, so sorting them gives the order they were written in; a file is written
under a temporary name and renamed, so a crash never leaves a half-written batch
that looks complete.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import threading
import time
from pathlib import Path

from llmops.v1 import common_pb2, logsink_pb2

logger = logging.getLogger(__name__)

_SUFFIX = ".batch"
_TMP_SUFFIX = ".tmp"
_STALE_TMP_SECONDS = 60.0


class Spool:
    """Directory of serialized ``StreamRecordsRequest`` files, at most ``max_bytes`` in total."""

    def __init__(self, directory: str | os.PathLike[str], max_bytes: int) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._counter = itertools.count()
        # Half-written files of a crashed writer; a live process sharing the directory
        # finishes its own within milliseconds, so only old ones are removed.
        for leftover in self.directory.glob(f"*{_TMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                if time.time() - leftover.stat().st_mtime > _STALE_TMP_SECONDS:
                    leftover.unlink()
        self._bytes = sum(p.stat().st_size for p in self.directory.glob(f"*{_SUFFIX}"))

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def write(self, records: list[common_pb2.CallRecord]) -> bool:
        """Durably store one batch; False (nothing written) when it would exceed the bound."""
        data = logsink_pb2.StreamRecordsRequest(records=records).SerializeToString()
        with self._lock:
            if self._bytes + len(data) > self.max_bytes:
                return False
            # pid and a counter keep names unique across processes sharing the directory.
            name = f"{time.time_ns():020d}-{os.getpid()}-{next(self._counter):06d}"
            tmp = self.directory / (name + _TMP_SUFFIX)
            try:
                with open(tmp, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                tmp.rename(self.directory / (name + _SUFFIX))
                _fsync_dir(self.directory)
            except OSError as exc:
                # A full or read-only disk is a full spool: the caller counts the drop.
                logger.error("llmops spool %s not writable: %s", self.directory, exc)
                with contextlib.suppress(OSError):
                    tmp.unlink()
                return False
            self._bytes += len(data)
        return True

    def oldest(self) -> list[Path]:
        """Spooled batch files, oldest first."""
        return sorted(self.directory.glob(f"*{_SUFFIX}"))

    def read(self, path: Path) -> list[common_pb2.CallRecord] | None:
        """The records of one file; None if another process already replayed it."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        return list(logsink_pb2.StreamRecordsRequest.FromString(data).records)

    def delete(self, path: Path) -> None:
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            return
        with self._lock:
            self._bytes = max(0, self._bytes - size)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX needs the directory synced too)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
