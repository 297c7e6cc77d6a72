"""GuardrailService speed: in-process engine, RPC against a no-op RPC, adversarial inputs.

Run: .venv/bin/python bench/guardrail_bench.py [rpc_calls]

1. Engine, in process, shipped ``default`` input policy (pattern tier), on a 1 KB
   prompt without PII and on a 1 KB prompt with six entities to redact; baselines in
   the same run: one RE2 scan of the text, and the seed's approach of four Python
   ``re`` searches. Then the ``strict`` policy (embedding tier too), reported apart.
2. RPC over loopback: CheckInput (1 KB prompt) and grpc health Check alternate on
   the same in-process server stack and interceptors; p50/p99 of each and the ratio
   of the p99s (target <= 1.25), then throughput with 16 calls in flight.
3. 100 KB adversarial inputs (the ones tests/unit/test_guardrail_redos.py uses):
   the slowest input per detector, each detector run alone.
"""

from __future__ import annotations

import asyncio
import functools
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import grpc
import re2
from llmops.v1 import guardrail_pb2 as pb
from llmops.v1 import guardrail_pb2_grpc
from rpc_ratio import Call, alternate, health_check, print_ratio

from services.common.server import running_server
from services.guardrail.engine import GuardrailEngine
from services.guardrail.policy import DEFAULT_POLICY_FILE, load_policies, parse_policies
from services.guardrail.servicer import SPEC
from services.guardrail.settings import GuardrailSettings

sys.path.insert(0, str(Path(__file__).parents[1]))
from tests.unit.test_guardrail_redos import ADVERSARIAL

SECRET = b"bench-pseudonym-secret-0123456789"
CLEAN = (
    "I'm preparing a short presentation for our team about migrating our reporting "
    "pipeline from nightly batch jobs to an event-driven design. Could you outline the "
    "main trade-offs, especially around data freshness, cost, operational complexity "
    "and failure handling? We currently run about forty jobs that read from PostgreSQL, "
    "aggregate sales and inventory figures, and write CSV files that analysts load into "
    "spreadsheets every morning. Some jobs depend on each other and a failure in one "
    "often delays the rest. I'd also like a suggested order of migration, a rough plan "
    "for running both systems side by side for a month, and a list of metrics we "
    "should watch to know whether the new design is actually better. Please keep it "
    "practical and avoid vendor-specific advice where possible; we are a small team."
)[:1024]
WITH_PII = (
    "Hi, please update my account: my email is jordan.lee@example.com, my phone is "
    "+1 415 555 2671 and my new card is 4111 1111 1111 1111 (exp 10/28). The refund "
    "should go to DE89 3704 0044 0532 0130 00. Our VPN gateway is 203.0.113.45 and "
    "the deploy key AKIAIOSFODNN7EXAMPLE must be rotated. " + CLEAN
)[:1024]
SEED_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"ignore (all )?(previous|prior) instructions",
        r"you are now",
        r"system prompt",
        r"disregard (all )?(previous|prior)",
    )
]


def median_us(function: Callable[[], object], runs: int) -> float:
    for _ in range(min(200, runs)):
        function()
    samples = []
    for _ in range(runs):
        started = time.perf_counter_ns()
        function()
        samples.append(time.perf_counter_ns() - started)
    return statistics.median(samples) / 1000


def engine_section() -> None:
    engine = GuardrailEngine(load_policies(DEFAULT_POLICY_FILE, 100_000), pseudonym_secret=SECRET)
    one_scan = re2.compile(r"(?i)ignore\s+previous\s+instructions")
    rows = [
        ("baseline: one RE2 scan of the text", lambda: one_scan.search(CLEAN), 20_000),
        (
            "baseline: seed design, 4 Python `re` searches",
            lambda: [p.search(CLEAN) for p in SEED_PATTERNS],
            20_000,
        ),
        (
            "engine, default policy, 1 KB clean prompt",
            lambda: engine.check_input(CLEAN, tenant="b"),
            5_000,
        ),
        (
            "engine, default policy, 1 KB prompt with 6 entities",
            lambda: engine.check_input(WITH_PII, tenant="b"),
            5_000,
        ),
    ]
    results = {name: median_us(fn, runs) for name, fn, runs in rows}
    print("In-process engine (median per check):")
    print("| workload | median |")
    print("| --- | --- |")
    for name, value in results.items():
        print(f"| {name} | {value:.1f} µs |")
    clean = results["engine, default policy, 1 KB clean prompt"]
    seed = results["baseline: seed design, 4 Python `re` searches"]
    print(f"engine clean / seed 4 regexes: {clean / seed:.2f}x; target median <= 50 µs\n")

    strict = GuardrailEngine(load_policies(DEFAULT_POLICY_FILE, 100_000), pseudonym_secret=SECRET)
    started = time.perf_counter()
    strict.load_semantic()
    print(f"Semantic tier: model load + corpus embedding {time.perf_counter() - started:.1f} s")
    semantic = median_us(lambda: strict.check_input(CLEAN, tenant="b", policy="strict"), 30)
    label = "engine, strict policy (patterns + embeddings), 1 KB clean prompt"
    print(f"| {label} | {semantic / 1000:.1f} ms |")
    print(f"strict / default: {semantic / clean:.0f}x\n")


async def rpc_section(calls: int) -> None:
    settings = GuardrailSettings(pseudonym_secret=SECRET.hex())
    async with (
        running_server(SPEC, settings) as built,
        grpc.aio.insecure_channel(f"127.0.0.1:{built.port}") as channel,
    ):
        stub = guardrail_pb2_grpc.GuardrailServiceStub(channel)
        request = pb.CheckInputRequest(text=CLEAN)
        noop = health_check(channel)
        check_input = functools.partial(stub.CheckInput, request, timeout=5)
        await alternate(check_input, noop, 300)  # warm up both paths and the channel
        guard_ms, noop_ms = await alternate(check_input, noop, calls)
        print_ratio("CheckInput, 1 KB", guard_ms, noop_ms)

        for name, call in (
            ("health Check", noop),
            ("CheckInput", check_input),
        ):
            total = calls

            async def worker(count: int, call: Call = call) -> None:
                for _ in range(count):
                    await call()

            started = time.perf_counter()
            await asyncio.gather(*(worker(total // 16) for _ in range(16)))
            elapsed = time.perf_counter() - started
            print(f"throughput, 16 in flight, {name}: {total // 16 * 16 / elapsed:,.0f} calls/s")
        print()


def adversarial_section() -> None:
    print("100 KB adversarial inputs, slowest input per detector (each detector alone):")
    print("| detector | slowest input | time |")
    print("| --- | --- | --- |")
    for detector in ("invisible_text", "injection", "secrets", "pii"):
        document = {
            "policies": {
                "default": {"input": [{"detector": detector, "action": "flag", "threshold": 0.0}]}
            }
        }
        engine = GuardrailEngine(parse_policies(document, 200_000), pseudonym_secret=SECRET)
        worst = ("", 0.0)
        for name, text in ADVERSARIAL.items():
            started = time.perf_counter()
            engine.check_input(text, tenant="b")
            elapsed = (time.perf_counter() - started) * 1000
            worst = max(worst, (name, elapsed), key=lambda item: item[1])
        print(f"| {detector} | {worst[0]} | {worst[1]:.1f} ms |")
    print("target <= 50 ms per detector\n")


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    engine_section()
    asyncio.run(rpc_section(calls))
    adversarial_section()


if __name__ == "__main__":
    main()
