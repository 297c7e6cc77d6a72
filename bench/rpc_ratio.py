"""Latency of one RPC against a no-op RPC on the same server stack, in the same run.

The no-op is the standard gRPC health Check: it passes through the same server,
interceptors and channel, so the ratio of the two is the cost of the RPC's own
work, and it survives the noise of a shared machine better than absolute figures.
The calls alternate so that both see the same load.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

Call = Callable[[], Awaitable[object]]


def percentile(samples: list[float], q: float) -> float:
    """The sample at quantile ``q`` (nearest rank, no interpolation)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def health_check(channel: grpc.aio.Channel) -> Call:
    """The no-op RPC: health Check of the whole server."""
    health = health_pb2_grpc.HealthStub(channel)
    request = health_pb2.HealthCheckRequest(service="")
    return lambda: health.Check(request, timeout=5)


async def alternate(call: Call, noop: Call, calls: int) -> tuple[list[float], list[float]]:
    """Time ``calls`` of each, alternating; returns (call ms, no-op ms)."""
    call_ms: list[float] = []
    noop_ms: list[float] = []
    for _ in range(calls):
        started = time.perf_counter()
        await call()
        call_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        await noop()
        noop_ms.append((time.perf_counter() - started) * 1000)
    return call_ms, noop_ms


def print_ratio(label: str, call_ms: list[float], noop_ms: list[float]) -> None:
    """p50/p99 of both and their ratios, against the issues' target (p99 <= 1.25x)."""
    c50, c99 = percentile(call_ms, 0.5), percentile(call_ms, 0.99)
    n50, n99 = percentile(noop_ms, 0.5), percentile(noop_ms, 0.99)
    print(f"{label} ({len(call_ms):,} calls, alternating with health Check):")
    print(f"  RPC    p50 {c50:.3f} ms  p99 {c99:.3f} ms")
    print(f"  Check  p50 {n50:.3f} ms  p99 {n99:.3f} ms")
    print(f"  ratio  p50 {c50 / n50:.2f}x  p99 {c99 / n99:.2f}x  (target p99 <= 1.25x)")
