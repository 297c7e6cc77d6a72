"""GetResults cost as the data grows: SQL aggregation per user plus the statistics.

Run: .venv/bin/python bench/experiment_results.py [users]

Stores one thumbs-up outcome per user and one call outcome per user (two variants,
SQLite in a temp folder), then times the two halves of GetResults for an app metric
and an automatic one: the per-user SQL aggregation, and the statistics (summaries,
tests, SRM and the sequential test over every prefix). The baseline in the same run
is a plain ``SELECT count(*)`` over the same rows, the least any query must pay.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from services.common.db import create_engine
from services.experiment.model import Experiment, MetricSpec, Variant
from services.experiment.results import compute_results
from services.experiment.store import (
    CallOutcomeRow,
    ExperimentStore,
    OutcomeRow,
    outcomes,
)

EXPERIMENT = Experiment(id="bench", variants=(Variant("a", 1.0), Variant("b", 1.0)))


def main() -> None:
    users = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        store = ExperimentStore(engine)
        store.migrate()
        variants = np.where(rng.random(users) < 0.5, "a", "b")
        thumbs = rng.random(users) < 0.2
        latency = rng.lognormal(6.0, 0.5, users)
        store.record_outcomes(
            [
                OutcomeRow("t", "bench", 1, str(v), f"u{i}", "thumbs_up", float(y), i)
                for i, (v, y) in enumerate(zip(variants, thumbs, strict=True))
            ]
        )
        store.record_call_outcomes(
            [
                CallOutcomeRow(
                    "t", f"r{i}", "bench", 1, str(v), f"u{i}", float(ms), None, 100, 20, 0, i
                )
                for i, (v, ms) in enumerate(zip(variants, latency, strict=True))
            ]
        )
        started = time.perf_counter()
        with engine.connect() as connection:
            connection.execute(sa.select(sa.func.count()).select_from(outcomes)).scalar()
        baseline = time.perf_counter() - started
        print(f"users: {users:,} (one outcome and one call each), SQLite")
        print(f"baseline SELECT count(*): {baseline * 1000:.1f} ms")
        for metric in ("thumbs_up", "latency_ms"):
            started = time.perf_counter()
            observations = store.unit_values("t", "bench", 1, metric)
            counts = store.exposure_counts("t", "bench", 1)
            loaded = time.perf_counter()
            results = compute_results(
                EXPERIMENT, MetricSpec(metric), observations, counts, 0.05, 1000
            )
            done = time.perf_counter()
            print(
                f"{metric:>10}: per-user SQL {(loaded - started) * 1000:.0f} ms "
                f"({(loaded - started) / baseline:.1f}x the count), "
                f"statistics {(done - loaded) * 1000:.0f} ms "
                f"({results.comparisons[0].test.test})"
            )
        store.close()


if __name__ == "__main__":
    main()
