"""In-process assignment throughput: the engine against the seed's loop, same run.

Run: .venv/bin/python bench/experiment_assignment.py [users]

Prints assignments per second for
* the seed design's loop (sum the weights, walk the cumulative sum, per call),
* the engine (thresholds precomputed once, bisect), and
* sha256 alone, the floor every implementation pays,
and the engine's speed as a ratio of the seed's. Target: >= 200,000/s.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable

from services.experiment.assignment import Assigner

WEIGHTS = [0.4, 0.3, 0.2, 0.1]
EXPERIMENT = "bench-experiment"


def seed_assign(user_id: str) -> str:
    """The seed design's PromptExperiment.assign, as written there."""
    h = hashlib.sha256(f"{EXPERIMENT}:{user_id}".encode()).hexdigest()
    bucket = int(h[:8], 16) / 0xFFFFFFFF
    cumulative = 0.0
    total = sum(WEIGHTS)
    for i, weight in enumerate(WEIGHTS):
        cumulative += weight / total
        if bucket <= cumulative:
            return f"v{i}"
    return f"v{len(WEIGHTS) - 1}"


def rate(function: Callable[[str], object], users: list[str], rounds: int = 3) -> float:
    """Best of ``rounds`` passes, in calls per second (the least disturbed pass)."""
    best = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        for user in users:
            function(user)
        best = max(best, len(users) / (time.perf_counter() - started))
    return best


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    users = [f"user-{i}" for i in range(count)]
    assigner = Assigner(EXPERIMENT, WEIGHTS)
    names = [f"v{i}" for i in range(len(WEIGHTS))]
    assert all(names[assigner.assign(u)[0]] == seed_assign(u) for u in users[:10_000])

    def sha_only(user: str) -> str:
        return hashlib.sha256(f"{EXPERIMENT}:{user}".encode()).hexdigest()

    seed = rate(seed_assign, users)
    engine = rate(assigner.assign, users)
    floor = rate(sha_only, users)
    print(f"users per pass:        {count:,}")
    print(f"seed loop:             {seed:,.0f} assignments/s")
    print(f"engine (bisect):       {engine:,.0f} assignments/s")
    print(f"sha256 alone:          {floor:,.0f} hashes/s")
    print(f"engine / seed:         {engine / seed:.2f}x")
    print(f"engine / sha256 alone: {engine / floor:.2f}x")
    print(f"target >= 200,000/s:   {'met' if engine >= 200_000 else 'NOT met'}")


if __name__ == "__main__":
    main()
