"""Regenerates ``litellm_prices.json`` from LiteLLM's price file.

Run ``.venv/bin/python tests/data/make_litellm_prices.py PATH VERSION DAY`` with PATH the
``litellm/model_prices_and_context_window_backup.json`` of a downloaded litellm wheel.
Ids of the providers we price are split by whether the shipped table resolves them:
``prices`` (with LiteLLM's prices, copied as written) or ``unpriced_ids``; every other
id goes to ``other_ids``. Run it after changing the table, then read the test's
failures as prices to fix in ``prices.yaml``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from services.cost.prices import PriceTable, load_price_file
from services.cost.settings import BUNDLED_PRICE_FILE

OUT = Path(__file__).with_name("litellm_prices.json")
PROVIDERS = {
    *("openai", "text-completion-openai", "anthropic", "gemini"),
    *("azure", "azure_text", "azure_ai", "bedrock", "bedrock_converse", "bedrock_mantle"),
    *("mistral", "deepseek", "xai", "cohere_chat", "moonshot", "zai"),
}
# Input, output, cache read, cache creation, each above a long-context threshold, and
# batch input/output (also above a threshold).
KEPT = re.compile(
    r"^(?:(?:input_cost_per_token|output_cost_per_token)(?:_above_\d+k_tokens)?(?:_batches)?"
    r"|(?:cache_read_input_token_cost|cache_creation_input_token_cost)(?:_above_\d+k_tokens)?)$"
)


def main(path: str, version: str, day: str) -> None:
    litellm: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    litellm.pop("sample_spec", None)
    table = PriceTable.of(load_price_file(BUNDLED_PRICE_FILE))
    prices: dict[str, dict[str, str]] = {}
    unpriced: list[str] = []
    other: list[str] = []
    for model_id, row in sorted(litellm.items()):
        provider = str(row.get("litellm_provider", ""))
        if not (provider in PROVIDERS or provider.startswith("vertex_ai")):
            other.append(model_id)
        elif table.canonical(model_id) is None:
            unpriced.append(model_id)
        else:
            kept = {key: repr(float(value)) for key, value in row.items() if KEPT.match(key)}
            prices[model_id] = {"provider": provider, **dict(sorted(kept.items()))}
    source = (
        f"LiteLLM model_prices_and_context_window_backup.json in the litellm {version} wheel "
        f"on PyPI, read {day} (MIT License, Copyright (c) 2023 Berri AI); "
        "see litellm_prices.README.md"
    )
    # One id per line, so a refresh reads as a diff of the ids that changed.
    lines = ["{", f'"source": {json.dumps(source)},', '"prices": {']
    lines += [f"{json.dumps(k)}: {json.dumps(v)}," for k, v in prices.items()]
    lines[-1] = lines[-1].rstrip(",")
    for name, ids in (("unpriced_ids", unpriced), ("other_ids", other)):
        lines += ["},", f'"{name}": ['] if name == "unpriced_ids" else ["],", f'"{name}": [']
        lines += [f"{json.dumps(model_id)}," for model_id in ids]
        lines[-1] = lines[-1].rstrip(",")
    lines += ["]", "}"]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(prices)} priced, {len(unpriced)} unpriced, {len(other)} other ids -> {OUT}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
