"""SpendGate: ledger writes share it, a snapshot of the ledger holds it alone."""

from __future__ import annotations

import asyncio

from services.cost.engine import SpendGate


async def test_writes_share_the_gate_and_a_snapshot_waits_for_them() -> None:
    gate = SpendGate()
    events: list[str] = []
    finish = asyncio.Event()

    async def write(name: str) -> None:
        async with gate.write():
            events.append(f"{name} in")
            await finish.wait()
            events.append(f"{name} out")

    async def snapshot() -> None:
        async with gate.snapshot():
            events.append("snapshot")

    writes = [asyncio.create_task(write("a")), asyncio.create_task(write("b"))]
    await asyncio.sleep(0)
    reading = asyncio.create_task(snapshot())
    await asyncio.sleep(0)
    assert events == ["a in", "b in"]
    finish.set()
    await asyncio.gather(*writes, reading)
    assert events[-1] == "snapshot"


async def test_a_waiting_snapshot_holds_new_writes_back() -> None:
    gate = SpendGate()
    events: list[str] = []
    first_done = asyncio.Event()

    async def first() -> None:
        async with gate.write():
            await first_done.wait()
            events.append("first")

    async def snapshot() -> None:
        async with gate.snapshot():
            events.append("snapshot")

    async def later() -> None:
        async with gate.write():
            events.append("later")

    tasks = [asyncio.create_task(first())]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(snapshot()))
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(later()))
    await asyncio.sleep(0)
    assert events == []
    first_done.set()
    await asyncio.gather(*tasks)
    assert events == ["first", "snapshot", "later"]


async def test_a_cancelled_snapshot_reopens_the_gate() -> None:
    gate = SpendGate()
    release = asyncio.Event()

    async def held_write() -> None:
        async with gate.write():
            await release.wait()

    async def snapshot() -> None:
        async with gate.snapshot():
            pass

    writing = asyncio.create_task(held_write())
    await asyncio.sleep(0)
    waiting = asyncio.create_task(snapshot())
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    async with asyncio.timeout(5), gate.write():
        pass
    release.set()
    await writing
    async with asyncio.timeout(5), gate.snapshot():
        pass
