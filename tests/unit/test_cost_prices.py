"""Cost formula and price table, checked against prices computed by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.common.errors import InvalidArgument
from services.cost.prices import (
    MAX_PRICE_PER_MTOK,
    MAX_TOKENS,
    Price,
    PriceFileError,
    PriceTable,
    Tier,
    TierMode,
    Usage,
    compute_cost,
    load_price_file,
    model_candidates,
    parse_decimal,
)
from services.cost.settings import BUNDLED_PRICE_FILE


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return PriceTable.of(load_price_file(BUNDLED_PRICE_FILE))


NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def cost(
    table: PriceTable, model: str, usage: Usage, batch: bool = False, at: datetime = NOW
) -> int:
    price = table.price_at(model, at)
    assert price is not None, model
    return compute_cost(price, usage, batch).micros


def test_plain_input_and_output(table: PriceTable) -> None:
    # gpt-4o: 1000 x $2.50/M + 500 x $10/M = $0.0025 + $0.005
    assert cost(table, "gpt-4o", Usage(1000, 500)) == 7_500


def test_openai_cached_tokens_are_inside_input(table: PriceTable) -> None:
    # 10,000 input of which 4,000 cached: 6,000 x 2.50 + 4,000 x 1.25 + 1,000 x 10.00 (per M)
    usage = Usage(input_tokens=10_000, output_tokens=1_000, cache_read_input_tokens=4_000)
    assert cost(table, "gpt-4o", usage) == 15_000 + 5_000 + 10_000


def test_anthropic_cache_write_and_read(table: PriceTable) -> None:
    # Anthropic reported input 100, cache read 2,000, cache creation 500 -> input 2,600.
    # 100 x 3.00 + 2,000 x 0.30 + 500 x 3.75 + 300 x 15.00 = 300 + 600 + 1,875 + 4,500 (per M)
    usage = Usage(2_600, 300, cache_read_input_tokens=2_000, cache_creation_input_tokens=500)
    result = compute_cost(table.price_at("claude-sonnet-4-20250514", NOW), usage)  # type: ignore[arg-type]
    assert result.micros == 7_275
    assert {line.component: line.tokens for line in result.lines} == {
        "input": 100,
        "cache_read": 2_000,
        "cache_write": 500,
        "output": 300,
    }


def test_batch_prices(table: PriceTable) -> None:
    # gpt-4o batch: 1000 x 1.25 + 500 x 5.00 (per M)
    assert cost(table, "gpt-4o", Usage(1000, 500), batch=True) == 3_750


def test_whole_request_tier_reprices_every_token(table: PriceTable) -> None:
    # gemini-2.5-pro above 200k input: 250,000 x 2.50 + 1,000 x 15.00 (per M)
    price = table.price_at("gemini-2.5-pro", NOW)
    assert price is not None
    above = compute_cost(price, Usage(250_000, 1_000))
    assert above.micros == 625_000 + 15_000
    assert above.tier is not None
    assert above.tier.above_input_tokens == 200_000
    # Exactly at the threshold is not above it: 200,000 x 1.25 + 1,000 x 10.00
    assert compute_cost(price, Usage(200_000, 1_000)).micros == 250_000 + 10_000


def test_batch_under_a_whole_request_tier_gets_the_batch_ratio(table: PriceTable) -> None:
    # gemini-2.5-pro batch is half price (0.625/1.25, 5/10); above 200k the tier's
    # 2.50/15.00 get the same ratio: 250,000 x 1.25 + 1,000 x 7.50 (per M)
    assert cost(table, "gemini-2.5-pro", Usage(250_000, 1_000), batch=True) == 312_500 + 7_500


def test_whole_request_tier_applies_to_cache_prices(table: PriceTable) -> None:
    # claude-sonnet-4 above 200k: 201,000 input of which 100,000 cache reads.
    # 101,000 x 6.00 + 100,000 x 0.60 + 1,000 x 22.50 (per M)
    usage = Usage(201_000, 1_000, cache_read_input_tokens=100_000)
    assert cost(table, "claude-sonnet-4", usage) == 606_000 + 60_000 + 22_500


def test_marginal_tier_charges_only_tokens_above_threshold() -> None:
    price = Price(
        model="m",
        effective_from=date(2025, 1, 1),
        input=Decimal("1"),
        output=Decimal("4"),
        tiers=(Tier(1_000, TierMode.MARGINAL, Decimal("2"), Decimal("8")),),
    )
    # 1,000 x 1 + 500 x 2 + 100 x 4 (per M); output keeps its base price.
    assert compute_cost(price, Usage(1_500, 100)).micros == 1_000 + 1_000 + 400


def test_reasoning_tokens_at_their_own_price(table: PriceTable) -> None:
    # gemini-2.5-flash-preview-04-17: 1,000 x 0.15 + 200 x 0.60 + 800 x 3.50 (per M)
    usage = Usage(1_000, 1_000, reasoning_output_tokens=800)
    assert cost(table, "gemini-2.5-flash-preview-04-17", usage) == 150 + 120 + 2_800


def test_reasoning_tokens_default_to_output_price(table: PriceTable) -> None:
    # o4-mini: reasoning is billed as output: 1,000 x 1.10 + 2,000 x 4.40 (per M)
    usage = Usage(1_000, 2_000, reasoning_output_tokens=1_500)
    assert cost(table, "o4-mini", usage) == 1_100 + 8_800


def test_price_change_mid_month_uses_price_in_force(table: PriceTable) -> None:
    # o3 went from 10/40 to 2/8 on 2025-06-10 (UTC day).
    usage = Usage(1_000, 1_000)
    before = datetime(2025, 6, 9, 23, 59, tzinfo=UTC)
    after = datetime(2025, 6, 10, 0, 0, tzinfo=UTC)
    assert cost(table, "o3", usage, at=before) == 10_000 + 40_000
    assert cost(table, "o3", usage, at=after) == 2_000 + 8_000


def test_call_before_first_entry_gets_earliest_price(table: PriceTable) -> None:
    price = table.price_at("gpt-4o", datetime(2023, 1, 1, tzinfo=UTC))
    assert price is not None
    assert price.effective_from == date(2024, 5, 13)


def test_rounding_is_half_up_once_per_call(table: PriceTable) -> None:
    # gpt-4o-mini: 5 x 0.15 + 1 x 0.60 = 1.35 micro-USD -> 1 (rounding each line gives 2)
    assert cost(table, "gpt-4o-mini", Usage(5, 1)) == 1
    # gpt-4.1-nano: 25 x 0.10 = 2.5 micro-USD -> 3 (half-up; banker's rounding would give 2)
    assert cost(table, "gpt-4.1-nano", Usage(25, 0)) == 3


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("GPT-4o", "gpt-4o"),
        ("openai/gpt-4o-mini", "gpt-4o-mini"),
        ("gpt-4.1-nano-2025-04-14", "gpt-4.1-nano"),
        ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet"),
        ("claude-3-5-sonnet-v2@20241022", "claude-3-5-sonnet"),
        ("anthropic/claude-opus-4-1-20250805", "claude-opus-4-1"),
        ("models/gemini-2.5-pro", "gemini-2.5-pro"),
        ("gemini-2.5-pro-preview-06-05", "gemini-2.5-pro"),
        ("gpt-35-turbo", "gpt-3.5-turbo"),
        ("anthropic.claude-3-5-sonnet-20240620-v1:0", "claude-3-5-sonnet"),
        ("us.anthropic.claude-sonnet-4-20250514-v1:0", "claude-sonnet-4"),
        ("bedrock/eu.anthropic.claude-3-haiku-20240307-v1:0", "claude-3-haiku"),
        ("claude-3-5-sonnet-latest", "claude-3-5-sonnet"),
        ("gpt-5-chat-latest", "gpt-5"),
        ("gpt-5.1-2025-11-13", "gpt-5.1"),
        ("gemini-3-pro-preview", "gemini-3-pro-preview"),
        # Routing prefixes of any depth: provider, then region.
        ("azure/gpt-4o-mini", "gpt-4o-mini"),
        ("litellm_proxy/openai/gpt-4o-mini", "gpt-4o-mini"),
        ("vertex_ai/claude-sonnet-4@20250514", "claude-sonnet-4"),
        # The name with its prefix is tried before the release label comes off.
        ("openai/chatgpt-4o-latest", "chatgpt-4o-latest"),
        ("azure/gpt-4o-2024-05-13", "gpt-4o-2024-05-13"),
        # Release labels: Vertex AI versions, Gemini stable versions, Bedrock versions.
        ("vertex_ai/claude-opus-4-6@default", "claude-opus-4-6"),
        ("models/gemini-1.5-pro-001", "gemini-1.5-pro"),
        ("bedrock/eu-west-1/claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
        # Azure spells GPT-3.5 without the dot.
        ("azure/gpt-35-turbo-0125", "gpt-3.5-turbo"),
        # Models of 2026: dated snapshots, a plain name kept as an alias, previews.
        ("gpt-5.5-2026-04-23", "gpt-5.5"),
        ("openai/gpt-5.6", "gpt-5.6-sol"),
        ("azure/gpt-6-sol-2026-09-22", "gpt-6-sol"),
        ("vertex_ai/claude-sonnet-5@default", "claude-sonnet-5"),
        ("gemini/gemini-3.1-flash-lite-preview", "gemini-3.1-flash-lite"),
    ],
)
def test_aliases_and_dated_snapshots(table: PriceTable, name: str, canonical: str) -> None:
    assert table.canonical(name) == canonical


@pytest.mark.parametrize(
    ("name", "entry", "family"),
    [
        # An Azure data zone costs 10% more than the global deployment.
        ("azure/eu/gpt-4o-2024-08-06", "azure/us/gpt-4o", "gpt-4o"),
        ("litellm_proxy/azure/us/gpt-4o-mini", "azure/us/gpt-4o-mini", "gpt-4o-mini"),
        # The first gpt-4o snapshot keeps its own price in a data zone too.
        ("azure/eu/gpt-4o-2024-05-13", "azure/us/gpt-4o-2024-05-13", "gpt-4o-2024-05-13"),
        # A Bedrock cross-region profile, with or without a routing prefix or version.
        (
            "eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "us.anthropic.claude-sonnet-4-5",
            "claude-sonnet-4-5",
        ),
        (
            "bedrock/converse/jp.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "us.anthropic.claude-sonnet-4-5",
            "claude-sonnet-4-5",
        ),
        ("us.anthropic.claude-sonnet-4-6", "us.anthropic.claude-sonnet-4-6", "claude-sonnet-4-6"),
        # GovCloud, with or without the vendor in the id.
        (
            "bedrock/us-gov-west-1/claude-sonnet-4-5-20250929-v1:0",
            "bedrock/us-gov-east-1/claude-sonnet-4-5",
            "claude-sonnet-4-5",
        ),
        ("vertex_ai/claude-3-5-haiku@20241022", "vertex_ai/claude-3-5-haiku", "claude-3-5-haiku"),
        # GPT-6 costs 10% more in the Azure US data zone and 20% more in the EU one.
        ("azure/us/gpt-6-sol", "azure/us/gpt-6-sol", "gpt-6-sol"),
        ("azure/eu/gpt-6-sol-2026-09-22", "azure/eu/gpt-6-sol", "gpt-6-sol"),
        (
            "bedrock/converse/eu.anthropic.claude-opus-5",
            "us.anthropic.claude-opus-5",
            "claude-opus-5",
        ),
        ("bedrock_mantle/openai.gpt-6-sol", "us.openai.gpt-6-sol", "gpt-6-sol"),
        # xAI on Bedrock: the global profile lists no long-context tier.
        ("global.xai.grok-4.7", "global.xai.grok-4.7", "grok-4.7"),
        ("us.xai.grok-4.7", "us.xai.grok-4.7", "grok-4.7"),
        # Where the platform charges the model's own price, the model's entry answers.
        ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5", None),
        ("azure/gpt-4o", "gpt-4o", None),
    ],
)
def test_platform_and_region_ids_find_their_own_price_and_fold_into_the_model(
    table: PriceTable, name: str, entry: str, family: str | None
) -> None:
    assert table.canonical(name) == entry
    assert table.family(name) == (family or entry)


def test_platform_price_differs_from_the_model_price(table: PriceTable) -> None:
    # 100k input + 100k output: 3.00/15.00 per M on Anthropic, 10% more in a Bedrock
    # cross-region profile; 2.50/10.00 for gpt-4o, 10% more in an Azure data zone.
    usage = Usage(100_000, 100_000)
    assert cost(table, "claude-sonnet-4-5", usage) == 1_800_000
    assert cost(table, "us.anthropic.claude-sonnet-4-5-20250929-v1:0", usage) == 1_980_000
    assert cost(table, "azure/gpt-4o", usage) == 1_250_000
    assert cost(table, "azure/eu/gpt-4o", usage) == 1_375_000
    # gpt-6-sol: 2.00/10.00, 10% more in the Azure US data zone, 20% more in the EU one.
    assert cost(table, "gpt-6-sol", usage) == 1_200_000
    assert cost(table, "azure/us/gpt-6-sol", usage) == 1_320_000
    assert cost(table, "azure/eu/gpt-6-sol", usage) == 1_440_000


def test_claude_haiku_5_5_reprices_prompts_over_100k_tokens(table: PriceTable) -> None:
    # 0.10/0.50 per M up to 100k input tokens, 0.50/2.50 for the whole call above.
    assert cost(table, "claude-haiku-5-5", Usage(100_000, 10_000)) == 15_000
    assert cost(table, "claude-haiku-5-5", Usage(150_000, 10_000)) == 100_000


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("mistral/mistral-large-latest", "mistral-large-2512"),
        ("mistral-small-latest", "mistral-small-2603"),
        ("deepseek/deepseek-chat", "deepseek-chat"),
        ("deepseek-reasoner", "deepseek-reasoner"),
        ("xai/grok-4.20-0309-reasoning", "grok-4.20"),
        ("cohere_chat/command-a-03-2025", "command-a-03-2025"),
        ("moonshot/kimi-k2.6", "kimi-k2.6"),
        ("zai/glm-4.6", "glm-4.6"),
        # A model Mistral serves for another maker keeps Mistral's prefix.
        ("mistral/glm-5-2", "mistral/glm-5-2"),
    ],
)
def test_other_providers_first_party_ids(table: PriceTable, name: str, canonical: str) -> None:
    assert table.canonical(name) == canonical


@pytest.mark.parametrize(
    "name",
    ["large", "mistral-large", "mistral/large", "glm-5-2", "grok-4", "command-a", "deepseek"],
)
def test_short_or_partial_names_of_other_providers_are_not_guessed(
    table: PriceTable, name: str
) -> None:
    assert table.canonical(name) is None


def test_unknown_model_has_no_price(table: PriceTable) -> None:
    assert table.price_at("llama-3.1-70b-instruct", NOW) is None
    # A longer name sharing a prefix is not silently priced as the shorter one.
    assert table.canonical("gpt-4o-audio-preview") is None
    assert table.canonical("openai/gpt-4o-mini-search-preview") is None


@pytest.mark.parametrize(
    "name",
    [
        # OpenAI's four-digit snapshots are priced apart from the model's current one.
        "gpt-3.5-turbo-1106",
        "azure/gpt-35-turbo-0613",
        # Fine-tuned models cost more than their base model.
        "ft:gpt-4o-2024-08-06:acme::abc123",
        # A moving alias with no entry of its own is not guessed (LiteLLM lists this
        # one without a price).
        "anthropic/claude-fable-latest",
    ],
)
def test_release_labels_never_reach_a_differently_priced_model(
    table: PriceTable, name: str
) -> None:
    assert table.canonical(name) is None


def test_snapshot_suffix_candidates() -> None:
    assert model_candidates("openai/o3-2025-04-16") == [
        "openai/o3-2025-04-16",
        "openai/o3",
        "o3-2025-04-16",
        "o3",
    ]


def test_candidates_keep_each_routing_prefix_before_dropping_it() -> None:
    assert model_candidates("bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0") == [
        "bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "bedrock/us.anthropic.claude-sonnet-4-5-20250929",
        "bedrock/us.anthropic.claude-sonnet-4-5",
        "bedrock/claude-sonnet-4-5-20250929",
        "bedrock/claude-sonnet-4-5",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "us.anthropic.claude-sonnet-4-5-20250929",
        "us.anthropic.claude-sonnet-4-5",
        "claude-sonnet-4-5-20250929",
        "claude-sonnet-4-5",
    ]


@pytest.mark.parametrize(
    ("usage", "field"),
    [
        (Usage(input_tokens=-1), "usage.input_tokens"),
        (Usage(output_tokens=-5), "usage.output_tokens"),
        (Usage(10, 0, cache_read_input_tokens=-1), "usage.cache_read_input_tokens"),
        (
            Usage(10, 0, cache_read_input_tokens=8, cache_creation_input_tokens=3),
            "usage.cache_read_input_tokens",
        ),
        (Usage(10, 5, reasoning_output_tokens=6), "usage.reasoning_output_tokens"),
    ],
)
def test_impossible_usage_names_the_field(usage: Usage, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        usage.validate()
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("usage", "field"),
    [
        (Usage(input_tokens=2**62), "usage.input_tokens"),
        (Usage(output_tokens=10**12 + 1), "usage.output_tokens"),
    ],
)
def test_token_counts_no_real_call_has_are_refused(usage: Usage, field: str) -> None:
    # Priced, they overflowed the BIGINT micro-dollar ledger (INTERNAL) or the int64
    # Money of an estimate.
    with pytest.raises(InvalidArgument) as caught:
        usage.validate()
    assert caught.value.field == field
    Usage(input_tokens=10**12, output_tokens=10**12).validate()


def test_bundled_table_covers_major_models_with_sources(table: PriceTable) -> None:
    for model in (
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4.1",
        "gpt-4.1-mini",
        "o1",
        "o3",
        "o3-mini",
        "o4-mini",
        "gpt-5",
        "gpt-5-mini",
        "claude-3-haiku",
        "claude-3-5-sonnet",
        "claude-3-7-sonnet",
        "claude-sonnet-4",
        "claude-opus-4",
        "gemini-1.5-pro",
        "gemini-2.0-flash",
        "gemini-2.5-pro",
        "gemini-2.5-flash",
        "gpt-5.5",
        "gpt-5.6-sol",
        "gpt-6-sol",
        "gpt-6.1-sol",
        "claude-opus-5",
        "claude-sonnet-5",
        "claude-haiku-5-5",
        "gemini-3.5-flash",
        "gemini-3.8-flash",
    ):
        assert table.price_at(model, NOW) is not None, model
    assert all(price.source for price in table.entries())
    # Anthropic cache prices follow the published multipliers (write 1.25x, read 0.1x),
    # to the cent the pricing page rounds them to (Claude 3 Haiku: 0.30 for 0.3125);
    # Claude 3 Sonnet predates prompt caching. Some Claude 5 releases read their cache
    # for less (Sonnet 5.5 and Opus 5.5: 0.05x, Fable 5.1 and Mythos 5.1: 0.025x).
    cheaper_reads = {
        "claude-sonnet-5-5",
        "claude-opus-5-5",
        "claude-fable-5-1",
        "claude-mythos-5-1",
    }
    for price in table.entries():
        if price.provider == "anthropic" and price.model != "claude-3-sonnet":
            assert price.cache_write is not None
            assert price.cache_read is not None
            assert abs(price.cache_write - price.input * Decimal("1.25")) < Decimal("0.02")
            if price.model in cheaper_reads:
                assert price.cache_read < price.input * Decimal("0.1"), price.model
            else:
                assert abs(price.cache_read - price.input * Decimal("0.1")) < Decimal("0.01")


def test_later_layer_replaces_same_model_and_date(table: PriceTable) -> None:
    override = Price("gpt-4o", date(2024, 10, 2), Decimal("1"), Decimal("2"))
    layered = PriceTable.of(table.entries(), [override])
    assert layered.price_at("gpt-4o", NOW) == override
    assert len(layered) == len(table)


BAD_FILES = [
    (
        "prices:\n  - model: a\n    effective_from: '2025-01-01'\n    input_per_mtok: 'x'\n"
        "    output_per_mtok: '1'\n",
        4,
        "not a decimal",
    ),
    (
        "prices:\n  - model: a\n    effective_from: '2025-13-01'\n    input_per_mtok: '1'\n"
        "    output_per_mtok: '1'\n",
        3,
        "YYYY-MM-DD",
    ),
    (
        "prices:\n  - model: a\n    effective_from: '2025-01-01'\n    input_per_mtok: '1'\n",
        2,
        "output_per_mtok: is required",
    ),
    (
        "prices:\n  - model: a\n    effective_from: '2025-01-01'\n    input_per_mtok: '1'\n"
        "    output_per_mtok: '1'\n    colour: red\n",
        6,
        "unknown key",
    ),
    (
        "prices:\n  - model: a\n    effective_from: '2025-01-01'\n    input_per_mtok: '1'\n"
        "    output_per_mtok: '1'\n    tiers:\n      - above_input_tokens: '10'\n"
        "        mode: sideways\n        input_per_mtok: '1'\n        output_per_mtok: '1'\n",
        8,
        "whole_request or marginal",
    ),
    ("prices:\n  - model: a\n   effective_from: [\n", 3, ""),
    (
        "prices:\n  - model: a\n    effective_from: '2025-01-01'\n    input_per_mtok: '1'\n"
        "    output_per_mtok: '1'\n  - model: A\n    effective_from: '2025-01-01'\n"
        "    input_per_mtok: '2'\n    output_per_mtok: '2'\n",
        6,
        "duplicate",
    ),
    ("models: []\n", 1, "prices"),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD_FILES)
def test_bad_price_file_names_the_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(text)
    with pytest.raises(PriceFileError) as caught:
        load_price_file(path)
    assert caught.value.line == line
    assert message in str(caught.value)
    assert f"{path}:{line}:" in str(caught.value)


def test_prices_are_read_as_decimals_not_floats(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(
        "prices:\n  - model: a\n    effective_from: 2025-01-01\n    input_per_mtok: 0.1\n"
        "    output_per_mtok: 0.30000000000000004\n"
    )
    (price,) = load_price_file(path)
    assert price.input == Decimal("0.1")
    assert price.output == Decimal("0.30000000000000004")


usages = st.builds(
    lambda cached, written, uncached, reasoning, visible: Usage(
        input_tokens=cached + written + uncached,
        output_tokens=reasoning + visible,
        cache_read_input_tokens=cached,
        cache_creation_input_tokens=written,
        reasoning_output_tokens=reasoning,
    ),
    *(st.integers(0, 400_000) for _ in range(5)),
)


@settings(max_examples=300, deadline=None)
@given(usage=usages, batch=st.booleans(), index=st.integers(0, 10_000))
def test_every_token_is_charged_exactly_once(
    table: PriceTable, usage: Usage, batch: bool, index: int
) -> None:
    entries = table.entries()
    result = compute_cost(entries[index % len(entries)], usage, batch)
    assert sum(line.tokens for line in result.lines) == usage.input_tokens + usage.output_tokens
    exact = sum((line.cost for line in result.lines), Decimal(0))
    assert result.micros == int((exact * 1_000_000).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert all(line.cost >= 0 for line in result.lines)


def test_price_above_the_bound_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidArgument) as exc:
        parse_decimal("1e20", "prices[0].input_per_mtok", required=True)
    assert exc.value.field == "prices[0].input_per_mtok"


def test_the_largest_price_and_token_count_still_fit_int64_micros() -> None:
    price = Price(
        model="m",
        effective_from=date(2026, 1, 1),
        input=MAX_PRICE_PER_MTOK,
        output=MAX_PRICE_PER_MTOK,
    )
    cost = compute_cost(price, Usage(input_tokens=MAX_TOKENS, output_tokens=MAX_TOKENS))
    assert cost.micros < 2**63


def test_chatgpt_4o_latest_is_not_priced_as_gpt_4o(table: PriceTable) -> None:
    # chatgpt-4o-latest stayed at 5/15 when gpt-4o dropped to 2.50/10.
    assert table.canonical("chatgpt-4o-latest") == "chatgpt-4o-latest"
    assert cost(table, "chatgpt-4o-latest", Usage(1000, 500)) == 5_000 + 7_500
