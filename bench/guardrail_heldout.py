"""Held-out evaluation of the injection guard: recall and false-positive rate.

`tests/data/injection_heldout.jsonl` was written without looking at the detector's
patterns, its attack corpus or its authors' evaluation set, so these figures are not
tuned to the data. Nothing in the engine is changed here: the engine is loaded as the
service loads it and `check_input` is called on every text.

Configurations:

* `default` - the shipped default policy as it is (pattern tier only);
* `default+semantic` - the same policy with only the injection detector's `semantic`
  switched on (tier 2, all-MiniLM-L6-v2), every threshold and action unchanged;
* `strict` - the shipped strict policy as it is (both tiers, any invisible-text trick
  blocks, secrets block).

An attack counts as detected when the action is BLOCK, and separately when it is
BLOCK or FLAG; a benign text is a false positive on the same two rules. Intervals are
95% Wilson score intervals.

    .venv/bin/python bench/guardrail_heldout.py [--no-semantic] [--width 110]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.guardrail.engine import GuardrailEngine  # noqa: E402
from services.guardrail.policy import Action, PolicySet  # noqa: E402

if TYPE_CHECKING:
    from services.guardrail.engine import GuardResult

DATA = ROOT / "tests" / "data" / "injection_heldout.jsonl"
SECRET = b"x" * 32
TENANT = "heldout-eval"
Z = 1.959963984540054


def wilson(k: int, n: int) -> tuple[float, float, float]:
    """Proportion and 95% Wilson score interval."""
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    p = k / n
    denom = 1 + Z * Z / n
    centre = (p + Z * Z / (2 * n)) / denom
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / denom
    return p, max(0.0, centre - half), min(1.0, centre + half)


def fmt(k: int, n: int) -> str:
    p, lo, hi = wilson(k, n)
    return f"{k:3d}/{n:<3d} {100 * p:5.1f}% [{100 * lo:5.1f}, {100 * hi:5.1f}]"


def load_rows(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            valid = (
                row.get("label") in ("attack", "benign") and row.get("text") and row.get("style")
            )
            if not valid:
                raise SystemExit(f"{path}:{number}: needs text, label attack|benign, style")
            rows.append(row)
    return rows


def engines(with_semantic: bool) -> list[tuple[str, GuardrailEngine, str]]:
    shipped = GuardrailEngine.from_policy_file(None, pseudonym_secret=SECRET)
    configs = [("default", shipped, shipped.default_policy)]
    if not with_semantic:
        return configs
    policies = {p.name: p for p in shipped.policies()}
    default = policies[shipped.default_policy]
    if not any(d.name == "injection" for d in default.input_detectors):
        return configs
    semantic_default = dataclasses.replace(
        default,
        name="default+semantic",
        input_detectors=tuple(
            dataclasses.replace(d, semantic=True) if d.name == "injection" else d
            for d in default.input_detectors
        ),
    )
    variant = GuardrailEngine(
        PolicySet({"default+semantic": semantic_default}, default="default+semantic"),
        pseudonym_secret=SECRET,
    )
    variant.load_semantic()
    configs.append(("default+semantic", variant, "default+semantic"))
    if "strict" in policies:
        shipped.load_semantic()
        configs.append(("strict", shipped, "strict"))
    return configs


def short(text: str, width: int) -> str:
    flat = " ".join(text.split())
    flat = (
        flat.encode("unicode_escape").decode("ascii")
        if any(ord(c) >= 0xE0000 or 0x200B <= ord(c) <= 0x200F for c in flat)
        else flat
    )
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def describe(result: GuardResult) -> str:
    if not result.findings:
        return "no finding"
    best = max(result.findings, key=lambda f: f.score)
    kinds = sorted({f"{f.detector}:{f.type}" for f in result.findings})
    return f"score {best.score:.2f} {','.join(kinds)}"


def evaluate(name: str, engine: GuardrailEngine, policy: str, rows: list[dict], width: int) -> dict:
    results = []
    started = time.perf_counter()
    for row in rows:
        results.append(engine.check_input(row["text"], tenant=TENANT, policy=policy))
    elapsed = time.perf_counter() - started

    rules = {
        "BLOCK": lambda r: r.action == Action.BLOCK,
        "BLOCK|FLAG": lambda r: r.action in (Action.BLOCK, Action.FLAG),
    }
    summary = {}
    per_check = 1000 * elapsed / len(rows)
    print(f"\n=== policy {name} ({len(rows)} texts, {per_check:.2f} ms per check) ===")
    for rule, hit in rules.items():
        tally: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        for row, result in zip(rows, results, strict=True):
            for key in ((row["label"], "ALL"), (row["label"], row["style"])):
                tally[key][0] += hit(result)
                tally[key][1] += 1
        k, n = tally[("attack", "ALL")]
        fk, fn = tally[("benign", "ALL")]
        summary[rule] = {"recall": (k, n), "fpr": (fk, fn)}
        print(f"\n-- detected = {rule}")
        print(f"recall               {fmt(k, n)}")
        print(f"false-positive rate  {fmt(fk, fn)}")
        for label, title in (
            ("attack", "recall by attack style"),
            ("benign", "false positives by benign style"),
        ):
            print(f"\n  {title}:")
            styles = sorted(s for (lab, s) in tally if lab == label and s != "ALL")
            for style in styles:
                sk, sn = tally[(label, style)]
                print(f"    {style:<28} {fmt(sk, sn)}")

    block = rules["BLOCK|FLAG"]
    pairs = list(zip(rows, results, strict=True))
    misses = [(row, r) for row, r in pairs if row["label"] == "attack" and not block(r)]
    false_pos = [(row, r) for row, r in pairs if row["label"] == "benign" and block(r)]
    print(f"\n  missed attacks (neither BLOCK nor FLAG): {len(misses)}")
    for row, r in misses:
        print(f"    [{row['style']}] ({describe(r)}) {short(row['text'], width)}")
    print(f"\n  false positives (BLOCK or FLAG): {len(false_pos)}")
    for row, r in false_pos:
        print(f"    [{row['style']}] {r.action.name} ({describe(r)}) {short(row['text'], width)}")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument(
        "--no-semantic", action="store_true", help="only the shipped default policy"
    )
    parser.add_argument(
        "--width", type=int, default=110, help="truncate printed texts to this many characters"
    )
    args = parser.parse_args()

    rows = load_rows(args.data)
    attacks = sum(r["label"] == "attack" for r in rows)
    print(
        f"{args.data.relative_to(ROOT) if args.data.is_relative_to(ROOT) else args.data}: "
        f"{attacks} attacks, {len(rows) - attacks} benign, "
        f"{len({r['style'] for r in rows if r['label'] == 'attack'})} attack styles, "
        f"{len({r['style'] for r in rows if r['label'] == 'benign'})} benign styles"
    )
    overall = {}
    for name, engine, policy in engines(not args.no_semantic):
        overall[name] = evaluate(name, engine, policy, rows, args.width)

    print("\n=== summary (95% Wilson intervals) ===")
    print(f"{'policy':<18} {'rule':<11} {'recall':<34} {'false-positive rate':<34}")
    for name, by_rule in overall.items():
        for rule, figures in by_rule.items():
            print(f"{name:<18} {rule:<11} {fmt(*figures['recall']):<34} {fmt(*figures['fpr']):<34}")


if __name__ == "__main__":
    main()
