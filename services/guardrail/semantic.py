"""Prompt-injection detection, tier 2: similarity to a curated corpus of attack styles.

Patterns catch the phrasings they were written for; paraphrases slip through. This
tier embeds the text with all-MiniLM-L6-v2 (the suite's one shared loader) and
compares it with a corpus of known attack styles (``data/attacks.jsonl``), embedded
once at start-up. Texts are cut into sentence windows so that one injected
instruction inside a long e-mail or web page is not diluted by the rest: each
sentence on its own, the whole text too when it is short. The model's cost is the
tokens it embeds, so every sentence is embedded once; only when a sentence is related
to an attack at all (above :data:`SIMILARITY_FLOOR`) is it embedded again with each
neighbour, for an attack written across two sentences of a longer text.

The cosine similarity of the closest window to the closest corpus entry is mapped
linearly to a score: :data:`SIMILARITY_FLOOR` (unrelated text sits well below it) is
0 and :data:`SIMILARITY_CEILING` (a paraphrase of a corpus entry) is 1, so a policy
threshold of 0.5 means cosine 0.62. The two constants come from MiniLM's general
behaviour (unrelated sentences rarely exceed 0.4, paraphrases usually exceed 0.8),
not from the evaluation set.

Closeness of topic is not intent: "how do jailbreaks work?", "act as a French tutor",
"a rogue AI in my novel" sit near attacks. A window at least as close to one of a set of
ordinary requests on those topics (``data/benign_contrast.jsonl``) as to any attack
counts as unrelated: a two-class nearest neighbour, so an attack still wins where it is
the closer of the two.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
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
CONTRAST_FILE = Path(__file__).parent / "data" / "benign_contrast.jsonl"
SIMILARITY_FLOOR = 0.45
SIMILARITY_CEILING = 0.80
# Sentences embedded at most: the tokens the former cap of 48 windows spent, half
# of them sentence pairs.
MAX_WINDOWS = 72
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


def load_contrast(path: Path = CONTRAST_FILE) -> list[str]:
    """Read the ordinary requests on attack topics ({"topic": ..., "text": ...} per line)."""
    return [
        json.loads(line)["text"]
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the text's sentences (lines count as sentences), blank ones left out."""
    return [m.span() for m in _SENTENCE.finditer(text) if m.group().strip()]


def windows(text: str) -> list[tuple[int, int]]:
    """The whole text when it is short, then each sentence, at most :data:`MAX_WINDOWS`.

    A text longer than the window budget is sampled evenly, its first and last
    sentences included, so an injection at the end of a long document is looked at
    as much as one at the start.
    """
    spans = [(0, len(text))] if len(text) <= _WINDOW_CHARS else []
    spans.extend((start, min(end, start + _WINDOW_CHARS)) for start, end in sentences(text))
    unique = list(dict.fromkeys(spans))
    if len(unique) > MAX_WINDOWS:
        last = len(unique) - 1
        unique = [unique[round(i * last / (MAX_WINDOWS - 1))] for i in range(MAX_WINDOWS)]
    return unique


def neighbour_pairs(text: str, span: tuple[int, int]) -> list[tuple[int, int]]:
    """The sentence that starts at ``span`` joined with the one before and the one after.

    Pairs longer than the window budget are left out; there are none when ``span`` is
    not a sentence, or is the whole short text (which already holds every pair).
    """
    found = sentences(text)
    starts = [start for start, _ in found]
    if span[0] not in starts or (len(found) > 1 and span == (0, len(text))):
        return []
    index = starts.index(span[0])
    pairs = []
    for first, second in ((index - 1, index), (index, index + 1)):
        if first >= 0 and second < len(found):
            pair = (found[first][0], found[second][1])
            if pair[1] - pair[0] <= _WINDOW_CHARS:
                pairs.append(pair)
    return pairs


def similarity_score(similarity: float) -> float:
    """Map a cosine similarity to a [0, 1] score (see the module docstring)."""
    scaled = (similarity - SIMILARITY_FLOOR) / (SIMILARITY_CEILING - SIMILARITY_FLOOR)
    return float(min(1.0, max(0.0, scaled)))


class SemanticDetector:
    """Nearest-neighbour search of text windows against the embedded attack corpus."""

    def __init__(
        self, encoder: Encoder, corpus: list[AttackExample], contrast: Sequence[str] = ()
    ) -> None:
        if not corpus:
            raise ValueError("the attack corpus is empty")
        self._encoder = encoder
        self._corpus = corpus
        self._matrix = np.asarray(encoder.encode([e.text for e in corpus]), dtype=np.float32)
        self._contrast = (
            np.asarray(encoder.encode(list(contrast)), dtype=np.float32) if contrast else None
        )

    def nearest(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Best cosine similarity to an attack, and its corpus index, for each text.

        0.0 for a text at least as close to an ordinary request of the contrast set.
        """
        vectors = np.asarray(self._encoder.encode(texts), dtype=np.float32)
        similarities = vectors @ self._matrix.T
        best = similarities.argmax(axis=1)
        attack = similarities[np.arange(len(texts)), best]
        if self._contrast is not None:
            ordinary = (vectors @ self._contrast.T).max(axis=1)
            attack = np.where(ordinary >= attack, np.float32(0.0), attack)
        return attack, best

    def detect(self, norm: Normalized) -> list[Candidate]:
        """At most one candidate: the window most similar to a known attack."""
        spans = windows(norm.text)
        if not spans:
            return []
        similarities, indices = self.nearest([norm.text[s:e] for s, e in spans])
        best = int(similarities.argmax())
        if similarity_score(float(similarities[best])) > 0.0:
            pairs = neighbour_pairs(norm.text, spans[best])
            if pairs:
                more, more_indices = self.nearest([norm.text[s:e] for s, e in pairs])
                spans = spans + pairs
                similarities = np.concatenate([similarities, more])
                indices = np.concatenate([indices, more_indices])
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
