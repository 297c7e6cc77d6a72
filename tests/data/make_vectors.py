"""Regenerates ``assignment_vectors.json``: the cross-language assignment contract.

Run ``.venv/bin/python tests/data/make_vectors.py``. The expected variants come from
a literal transcription of the seed design's ``PromptExperiment.assign`` loop (not
from ``services.experiment``), so the engine's bisect over precomputed thresholds is
checked against an independent implementation. The file is committed; the Python
engine, the service and the Node client all test against it.

Format: ``[{"experiment_id", "variants": [{"name", "weight"}], "user_id", "bucket",
"variant"}]``. Floats are written with Python's shortest round-trip repr, which
JavaScript's ``JSON.parse`` reads back to the same doubles.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("assignment_vectors.json")


def seed_assign(
    experiment_id: str, variants: list[dict[str, Any]], user_id: str
) -> tuple[str, float]:
    """The seed design's assignment, step by step."""
    h = hashlib.sha256(f"{experiment_id}:{user_id}".encode()).hexdigest()
    bucket = int(h[:8], 16) / 0xFFFFFFFF
    total = 0.0
    for v in variants:
        total += v["weight"]
    cumulative = 0.0
    for v in variants:
        cumulative += v["weight"] / total
        if bucket <= cumulative:
            return v["name"], bucket
    return variants[-1]["name"], bucket


def weight_sets(rng: random.Random) -> list[list[float]]:
    sets: list[list[float]] = [
        [1.0],
        [1.0, 1.0],
        [50.0, 50.0],
        [0.5, 0.5],
        [1.0, 1.0, 1.0],
        [0.1, 0.2, 0.7],
        [0.7, 0.2, 0.1],
        [1.0, 2.0, 3.0, 4.0],
        [0.3333333333333333, 0.3333333333333333, 0.3333333333333334],
        [90.0, 10.0],
        [99.9, 0.1],
        [1e-9, 1.0],
        [1.0, 1e-9, 1.0],
        [1e-12, 1e-12, 5e-13],
        [3.0, 1e-6, 2.0, 1e-6, 5.0],
        [123456789.0, 987654321.0],
        [0.05] * 20,
    ]
    for _ in range(15):
        count = rng.randint(2, 8)
        sets.append(
            [
                rng.choice([rng.uniform(0.001, 100.0), float(rng.randint(1, 9))])
                for _ in range(count)
            ]
        )
    return sets


EXPERIMENT_IDS = [
    "exp1",
    "checkout-prompt.v2",
    "A_B-test.2026",
    "x",
    "e" * 128,
    "prompt-experiment-42",
    "résumé-tone",
    "实验-提示词",
    "emoji-🚀-rollout",
]

USER_IDS = [
    "user-1",
    "user-2",
    "",
    " ",
    "alice@example.com",
    "ユーザー42",
    "Zoë",
    "👩‍💻",
    "a:b:c",
    "1234567890" * 10,
    "tab\there",
    "line\nbreak",
]


def build() -> list[dict[str, Any]]:
    rng = random.Random(20261127)
    cases: list[dict[str, Any]] = []

    def add(experiment_id: str, weights: list[float], user_id: str) -> None:
        variants = [{"name": f"v{i}", "weight": w} for i, w in enumerate(weights)]
        variant, bucket = seed_assign(experiment_id, variants, user_id)
        cases.append(
            {
                "experiment_id": experiment_id,
                "variants": variants,
                "user_id": user_id,
                "bucket": bucket,
                "variant": variant,
            }
        )

    sets = weight_sets(rng)
    for experiment_id in EXPERIMENT_IDS:
        for weights in sets:
            users = [*rng.sample(USER_IDS, 3), *(f"u{rng.randrange(10**9)}" for _ in range(5))]
            for user_id in users:
                add(experiment_id, weights, user_id)
    # Boundary cases: weights derived from the user's own bucket put a threshold within
    # an ulp or two of it, where a different summation order would flip the answer.
    for i in range(200):
        experiment_id = rng.choice(EXPERIMENT_IDS)
        user_id = f"edge-{i}"
        bucket = seed_assign(experiment_id, [{"name": "v0", "weight": 1.0}], user_id)[1]
        split = rng.randint(1, 3)
        add(experiment_id, [bucket / split] * split + [1.0 - bucket], user_id)
    return cases


def main() -> None:
    cases = build()
    OUT.write_text(json.dumps(cases, ensure_ascii=False, indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
