"""SpendGate: ledger writes share it, a snapshot of the ledger holds it alone, and a
write runs to its end holding it even when its caller is cancelled."""

from __future__ import annotations

import asyncio
import logging

import pytest

from services.cost.engine import SpendGate


async def settle() -> None:
    """A few turns of the loop: every task started so far runs until it waits on
    something (a write runs in a task of its own, one turn after its caller)."""
    for _ in range(3):
        await asyncio.sleep(0)


async def test_writes_share_the_gate_and_a_snapshot_waits_for_them() -> None:
    gate = SpendGate()
    events: list[str] = []
    finish = asyncio.Event()

    async def write(name: str) -> None:
        async def commit_and_apply() -> None:
            events.append(f"{name} in")
            await finish.wait()
            events.append(f"{name} out")

        await gate.write(commit_and_apply)

    async def snapshot() -> None:
        async with gate.snapshot():
            events.append("snapshot")

    writes = [asyncio.create_task(write("a")), asyncio.create_task(write("b"))]
    await settle()
    reading = asyncio.create_task(snapshot())
    await settle()
    assert events == ["a in", "b in"]
    finish.set()
    await asyncio.gather(*writes, reading)
    assert events[-1] == "snapshot"


async def test_a_waiting_snapshot_holds_new_writes_back() -> None:
    gate = SpendGate()
    events: list[str] = []
    first_done = asyncio.Event()

    async def first() -> None:
        await first_done.wait()
        events.append("first")

    async def snapshot() -> None:
        async with gate.snapshot():
            events.append("snapshot")

    async def later() -> None:
        events.append("later")

    tasks = [asyncio.create_task(gate.write(first))]
    await settle()
    tasks.append(asyncio.create_task(snapshot()))
    await settle()
    tasks.append(asyncio.create_task(gate.write(later)))
    await settle()
    assert events == []
    first_done.set()
    await asyncio.gather(*tasks)
    assert events == ["first", "snapshot", "later"]


async def test_a_cancelled_snapshot_reopens_the_gate() -> None:
    gate = SpendGate()
    release = asyncio.Event()

    async def held() -> None:
        await release.wait()

    async def nothing() -> None:
        pass

    async def snapshot() -> None:
        async with gate.snapshot():
            pass

    writing = asyncio.create_task(gate.write(held))
    await settle()
    waiting = asyncio.create_task(snapshot())
    await settle()
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    async with asyncio.timeout(5):
        await gate.write(nothing)
    release.set()
    await writing
    async with asyncio.timeout(5), gate.snapshot():
        pass


async def test_a_write_whose_caller_is_cancelled_finishes_before_a_snapshot() -> None:
    gate = SpendGate()
    events: list[str] = []
    release = asyncio.Event()

    async def held() -> None:
        await release.wait()
        events.append("written")

    async def snapshot() -> None:
        async with gate.snapshot():
            events.append("snapshot")

    writing = asyncio.create_task(gate.write(held))
    await settle()
    writing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writing
    reading = asyncio.create_task(snapshot())
    await settle()
    assert events == []
    release.set()
    await reading
    assert events == ["written", "snapshot"]


async def test_a_write_failing_after_its_caller_was_cancelled_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gate = SpendGate()
    release = asyncio.Event()

    async def failing() -> None:
        await release.wait()
        raise RuntimeError("commit failed")

    writing = asyncio.create_task(gate.write(failing))
    await settle()
    writing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writing
    with caplog.at_level(logging.ERROR, logger="services.cost.engine"):
        release.set()
        async with asyncio.timeout(5), gate.snapshot():
            pass
    (logged,) = caplog.records
    assert logged.exc_info is not None
    assert str(logged.exc_info[1]) == "commit failed"
