"""The exposure recorder: batched, deduplicated, retried, and flushed at shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from services.experiment.exposures import ExposureRecorder
from services.experiment.store import ExposureRow


class FlakyWriter:
    """Collects written batches; fails the next ``failures`` writes."""

    def __init__(self, failures: int = 0) -> None:
        self.batches: list[list[ExposureRow]] = []
        self.failures = failures

    def __call__(self, rows: Sequence[ExposureRow]) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database down")
        self.batches.append(list(rows))

    @property
    def users(self) -> list[str]:
        return [row.user_id for batch in self.batches for row in batch]


def _row(user: str, variant: str = "a", version: int = 1) -> ExposureRow:
    return ExposureRow("t", "exp", version, user, variant, 1)


async def test_close_writes_everything_still_buffered() -> None:
    writer = FlakyWriter()
    recorder = ExposureRecorder(writer, flush_interval=3600, batch_size=1000, max_pending=10_000)
    recorder.start()
    for i in range(250):
        await recorder.record(_row(f"u{i}"))
    assert writer.batches == []
    await recorder.close()
    assert writer.users == [f"u{i}" for i in range(250)]


async def test_first_assignment_wins_and_repeats_are_not_rewritten() -> None:
    writer = FlakyWriter()
    recorder = ExposureRecorder(writer, flush_interval=3600, batch_size=1000, max_pending=10_000)
    await recorder.record(_row("u1", "a"))
    await recorder.record(_row("u1", "b"))
    await recorder.flush()
    await recorder.record(_row("u1", "a"))
    await recorder.record(_row("u1", "a", version=2))
    await recorder.flush()
    assert [[(r.user_id, r.variant, r.version) for r in b] for b in writer.batches] == [
        [("u1", "a", 1)],
        [("u1", "a", 2)],
    ]


async def test_a_full_batch_is_written_without_waiting_for_the_interval() -> None:
    writer = FlakyWriter()
    recorder = ExposureRecorder(writer, flush_interval=3600, batch_size=10, max_pending=10_000)
    recorder.start()
    for i in range(10):
        await recorder.record(_row(f"u{i}"))
    for _ in range(100):
        if writer.batches:
            break
        await asyncio.sleep(0.01)
    assert len(writer.users) == 10
    await recorder.close()


async def test_failed_writes_keep_rows_for_the_next_attempt() -> None:
    writer = FlakyWriter(failures=2)
    recorder = ExposureRecorder(writer, flush_interval=0.01, batch_size=100, max_pending=10_000)
    recorder.start()
    await recorder.record(_row("u1"))
    for _ in range(200):
        if writer.batches:
            break
        await asyncio.sleep(0.01)
    assert writer.users == ["u1"]
    assert recorder.pending == 0
    await recorder.close()


async def test_full_buffer_makes_record_wait_instead_of_dropping() -> None:
    writer = FlakyWriter(failures=3)
    recorder = ExposureRecorder(writer, flush_interval=0.02, batch_size=100, max_pending=5)
    recorder.start()
    for i in range(20):
        await asyncio.wait_for(recorder.record(_row(f"u{i}")), timeout=5)
    await recorder.close()
    assert sorted(writer.users) == sorted(f"u{i}" for i in range(20))


async def test_flush_raises_when_the_database_refuses() -> None:
    recorder = ExposureRecorder(FlakyWriter(failures=1), 3600, 100, 100)
    await recorder.record(_row("u1"))
    with pytest.raises(ConnectionError):
        await recorder.flush()
    assert recorder.pending == 1
