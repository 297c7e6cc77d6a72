"""Detection quality: injection recall / false-positive rate, and PII recall.

Run: .venv/bin/python bench/guardrail_eval.py [--no-semantic]

* Injection, on tests/data/injection_eval.jsonl (labelled attacks and benign prompts,
  many of them near misses), at the shipped policies' threshold of 0.5:
  the pattern tier alone (the ``default`` policy), the embedding tier alone, and
  both combined as the ``strict`` policy combines them, with recall per attack style.
* PII and secrets, on tests/data/pii_eval.jsonl: an entity counts as found when a
  finding of the same type covers exactly its text; findings on texts labelled
  with no entity are false positives.
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from pathlib import Path

from services.common.embeddings import get_encoder
from services.guardrail.engine import GuardrailEngine
from services.guardrail.injection import noisy_or
from services.guardrail.normalize import normalize
from services.guardrail.policy import parse_policies
from services.guardrail.semantic import SemanticDetector, load_contrast, load_corpus

DATA = Path(__file__).parents[1] / "tests" / "data"
THRESHOLD = 0.5


def engine() -> GuardrailEngine:
    document = {
        "default_policy": "patterns",
        "policies": {
            # Threshold 0 keeps weak cues, which the strict policy combines with similarity.
            "patterns": {"input": [{"detector": "injection", "action": "block", "threshold": 0.0}]},
            "entities": {
                "input": [
                    {"detector": "secrets", "action": "redact"},
                    {"detector": "pii", "action": "redact"},
                ]
            },
        },
    }
    return GuardrailEngine(parse_policies(document, 1_000_000), pseudonym_secret=b"e" * 32)


def injection(guard: GuardrailEngine, semantic: SemanticDetector | None) -> None:
    rows = [json.loads(line) for line in (DATA / "injection_eval.jsonl").open(encoding="utf-8")]
    hits: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    started = time.perf_counter()
    for row in rows:
        patterns = guard.check_input(row["text"], tenant="eval", policy="patterns")
        pattern_score = max((f.score for f in patterns.findings), default=0.0)
        verdicts = {"patterns": pattern_score >= THRESHOLD}
        if semantic is not None:
            found = semantic.detect(normalize(row["text"]))
            semantic_score = found[0].score if found else 0.0
            verdicts["embedding only"] = semantic_score >= THRESHOLD
            # The engine's combination of the two tiers (engine._combine_injection).
            verdicts["patterns + embedding"] = (
                noisy_or([pattern_score, semantic_score]) >= THRESHOLD
            )
        for tier, verdict in verdicts.items():
            hits[tier][row["label"]].append(verdict)
            if row["label"] == "attack":
                hits[f"{tier}/{row['style']}"]["attack"].append(verdict)
    elapsed = time.perf_counter() - started
    attacks = sum(r["label"] == "attack" for r in rows)
    print(f"injection: {attacks} attacks, {len(rows) - attacks} benign ({elapsed:.1f} s)")
    print("| tier | recall | false-positive rate |")
    print("| --- | --- | --- |")
    tiers = [t for t in hits if "/" not in t]
    for tier in tiers:
        recall = sum(hits[tier]["attack"]) / len(hits[tier]["attack"])
        fpr = sum(hits[tier]["benign"]) / len(hits[tier]["benign"])
        print(f"| {tier} | {recall:.1%} | {fpr:.1%} |")
    print()
    print("| attack style | n | " + " | ".join(f"recall, {t}" for t in tiers) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in tiers) + " |")
    styles = sorted({key.split("/", 1)[1] for key in hits if "/" in key})
    for style in styles:
        cells = []
        for tier in tiers:
            verdicts = hits[f"{tier}/{style}"]["attack"]
            cells.append(f"{sum(verdicts) / len(verdicts):.0%}")
        n = len(hits[f"patterns/{style}"]["attack"])
        print(f"| {style} | {n} | " + " | ".join(cells) + " |")
    print()


def pii(guard: GuardrailEngine) -> None:
    rows = [json.loads(line) for line in (DATA / "pii_eval.jsonl").open(encoding="utf-8")]
    found = total = false_positives = 0
    missed = []
    for row in rows:
        result = guard.check_input(row["text"], tenant="eval", policy="entities")
        spans = {(f.type, row["text"][f.start : f.end]) for f in result.findings}
        expected = {(e["type"], e["value"]) for e in row["entities"]}
        total += len(expected)
        found += len(expected & spans)
        missed.extend(sorted(expected - spans))
        false_positives += len(spans - expected)
    print(f"PII and secrets: {len(rows)} texts, {total} labelled entities")
    print(f"recall (exact type and span): {found}/{total} = {found / total:.1%}")
    print(f"findings not in the labels: {false_positives}")
    for entity_type, _ in missed:
        print(f"missed: {entity_type}")


def main() -> None:
    semantic = None
    if "--no-semantic" not in sys.argv:
        semantic = SemanticDetector(get_encoder("cpu"), load_corpus(), load_contrast())
    guard = engine()
    injection(guard, semantic)
    pii(guard)


if __name__ == "__main__":
    main()
