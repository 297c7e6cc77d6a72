"""The drift verdict on real all-MiniLM-L6-v2 embeddings of synthetic answers.

Baseline and windows are independent draws (different seeds) from the corpus
generator, so "same mix" means a fresh sample of the same population, as in
production, never a reuse of baseline texts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from services.common.embeddings import get_encoder
from services.drift import stats
from services.drift.engine import DriftReport, compare
from services.drift.settings import DriftSettings
from services.drift.store import Baseline
from tests.fixtures import drift_corpus as corpus

ALPHA = 0.05
DRAWS = 10
WINDOW = 200


@dataclass(frozen=True)
class Embedded:
    texts: list[str]
    vectors: np.ndarray


@dataclass(frozen=True)
class Corpus:
    baseline: Baseline
    calibration: stats.Calibration
    same_mix: Embedded
    other_topic: Embedded
    other_style: Embedded


def _embed(texts: list[str]) -> Embedded:
    return Embedded(texts, get_encoder("cpu").encode(texts))


@pytest.fixture(scope="module")
def embedded() -> Corpus:
    base = _embed(corpus.sample(corpus.BASELINE_MIX, 500, seed=101))
    calibration = stats.calibrate(base.vectors, 500, np.random.default_rng(0))
    return Corpus(
        baseline=Baseline("b", base.vectors, base.texts),
        calibration=calibration,
        same_mix=_embed(corpus.sample(corpus.BASELINE_MIX, 600, seed=202)),
        other_topic=_embed(corpus.sample({"cooking": 0.5, "sports": 0.5}, 60, seed=303)),
        other_style=_embed(corpus.refusals(corpus.BASELINE_MIX, 100, seed=404)),
    )


def _window(parts: list[tuple[Embedded, np.ndarray]]) -> tuple[list[str], np.ndarray]:
    texts = [part.texts[i] for part, rows in parts for i in rows]
    vectors = np.concatenate([part.vectors[rows] for part, rows in parts])
    return texts, vectors


def _verdict(data: Corpus, texts: list[str], vectors: np.ndarray) -> DriftReport:
    return compare("m", data.baseline, data.calibration, texts, vectors, ALPHA, DriftSettings())


def test_same_mix_windows_rarely_alarm(embedded: Corpus) -> None:
    rng = np.random.default_rng(7)
    reports = []
    for _ in range(DRAWS):
        rows = rng.choice(len(embedded.same_mix.texts), WINDOW, replace=False)
        reports.append(_verdict(embedded, *_window([(embedded.same_mix, rows)])))
    # At alpha = 0.05 a calibrated test rejects ~0.5 of 10 draws; 2 is a generous bound.
    assert sum(r.p_value < ALPHA for r in reports) <= 2
    assert sum(r.drifted for r in reports) <= 2


def test_window_with_a_new_topic_alarms(embedded: Corpus) -> None:
    # 30% of the answers are now about cooking and sports.
    texts, vectors = _window(
        [(embedded.same_mix, np.arange(140)), (embedded.other_topic, np.arange(60))]
    )
    report = _verdict(embedded, texts, vectors)
    assert report.drifted, report
    assert report.distance > report.distance_threshold


def test_window_in_another_style_alarms(embedded: Corpus) -> None:
    # Half of the answers became refusals about the usual subjects.
    texts, vectors = _window(
        [(embedded.same_mix, np.arange(100)), (embedded.other_style, np.arange(100))]
    )
    report = _verdict(embedded, texts, vectors)
    assert report.drifted, report


def test_examples_are_readable_texts_nearest_each_centroid(embedded: Corpus) -> None:
    texts, vectors = _window([(embedded.other_style, np.arange(100))])
    report = _verdict(embedded, texts, vectors)
    assert len(report.window_examples) == 3
    assert all(e.text in embedded.other_style.texts for e in report.window_examples)
    assert all(e.text in embedded.baseline.texts for e in report.baseline_examples)
    distances = [e.distance for e in report.window_examples]
    assert distances == sorted(distances)
