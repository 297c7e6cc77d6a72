"""Prompt-injection detection, tier 2: similarity to a curated corpus of attack styles.

Patterns catch the phrasings they were written for; paraphrases slip through. This
tier embeds the text with all-MiniLM-L6-v2 (the suite's one shared loader) and
compares it with a corpus of known attack styles (``data/attacks.jsonl``), embedded
once at start-up. Long texts are cut into sentence windows so that one injected
paragraph inside a long e-mail or web page is not diluted by the rest.

The cosine similarity of the closest window to the closest corpus entry is mapped
linearly to a score: :data:`SIMILARITY_FLOOR` (unrelated text sits well below it) is
0 and :data:`SIMILARITY_CEILING` (a paraphrase of a corpus entry) is 1, so a policy
threshold of 0.5 means cosine 0.62. The two constants come from MiniLM's general
behaviour (unrelated sentences rarely exceed 0.4, paraphrases usually exceed 0.8),
not from the evaluation set.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import re2

from services.guardrail.injection import DETECTOR
from services.guardrail.model import Candidate
from services.guardrail.normalize import Normalized
from services.guardrail.patterns import options

CORPUS_FILE = Path(__file__).parent / "data" / "attacks.jsonl"
SIMILARITY_FLOOR = 0.45
SIMILARITY_CEILING = 0.80
MAX_WINDOWS = 48
_WINDOW_CHARS = 400
_SENTENCE = re2.compile(r"[^.!?\n]+[.!?\n]*", options())


class Encoder(Protocol):
    """What the semantic tier needs from an embedding model."""

    def encode(self, texts: list[str]) -> np.ndarray: ...


EncoderLoader = Callable[[], Encoder]


@dataclass(frozen=True)
class AttackExample:
    """One corpus entry: an attack text and the style it illustrates."""

    style: str
    text: str


def load_corpus(path: Path = CORPUS_FILE) -> list[AttackExample]:
    """Read the JSON-lines corpus ({"style": ..., "text": ...} per line)."""
    examples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            examples.append(AttackExample(row["style"], row["text"]))
    return examples


def windows(text: str) -> list[tuple[int, int]]:
    """Spans of single sentences and adjacent pairs, at most :data:`MAX_WINDOWS`.

    A text longer than the window budget is sampled evenly, so an injection at the
    end of a long document is looked at as much as one at the start.
    """
    sentences = [m.span() for m in _SENTENCE.finditer(text) if m.group().strip()]
    spans: list[tuple[int, int]] = []
    if len(text) <= _WINDOW_CHARS:
        spans.append((0, len(text)))
    for index, (start, end) in enumerate(sentences):
        spans.append((start, min(end, start + _WINDOW_CHARS)))
        if index + 1 < len(sentences):
            pair_end = sentences[index + 1][1]
            if pair_end - start <= _WINDOW_CHARS:
                spans.append((start, pair_end))
    unique = list(dict.fromkeys(spans))
    if len(unique) > MAX_WINDOWS:
        step = len(unique) / MAX_WINDOWS
        unique = [unique[int(i * step)] for i in range(MAX_WINDOWS)]
    return unique


def similarity_score(similarity: float) -> float:
    """Map a cosine similarity to a [0, 1] score (see the module docstring)."""
    scaled = (similarity - SIMILARITY_FLOOR) / (SIMILARITY_CEILING - SIMILARITY_FLOOR)
    return float(min(1.0, max(0.0, scaled)))


class SemanticDetector:
    """Nearest-neighbour search of text windows against the embedded attack corpus."""

    def __init__(self, encoder: Encoder, corpus: list[AttackExample]) -> None:
        if not corpus:
            raise ValueError("the attack corpus is empty")
        self._encoder = encoder
        self._corpus = corpus
        self._matrix = np.asarray(encoder.encode([e.text for e in corpus]), dtype=np.float32)

    def nearest(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Best cosine similarity and corpus index for each text."""
        vectors = np.asarray(self._encoder.encode(texts), dtype=np.float32)
        similarities = vectors @ self._matrix.T
        best = similarities.argmax(axis=1)
        return similarities[np.arange(len(texts)), best], best

    def detect(self, norm: Normalized) -> list[Candidate]:
        """At most one candidate: the window most similar to a known attack."""
        spans = windows(norm.text)
        if not spans:
            return []
        similarities, indices = self.nearest([norm.text[s:e] for s, e in spans])
        best = int(similarities.argmax())
        score = similarity_score(float(similarities[best]))
        if score <= 0.0:
            return []
        start, end = norm.span(*spans[best])
        style = self._corpus[int(indices[best])].style
        return [
            Candidate(
                DETECTOR,
                "SEMANTIC_SIMILARITY",
                start,
                end,
                score,
                f"similar to known {style.replace('_', ' ')} attacks "
                f"(cosine {float(similarities[best]):.2f})",
            )
        ]
