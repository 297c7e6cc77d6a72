"""Settings of CostService, read from ``LLMOPS_*`` environment variables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from services.common.settings import CommonSettings, grpc_port, metrics_port, setting

BUNDLED_PRICE_FILE = Path(__file__).parent / "data" / "prices.yaml"


@dataclass(frozen=True)
class CostSettings(CommonSettings):
    """CostService settings; shared ones come from :class:`CommonSettings`."""

    port: int = grpc_port("cost", 50052)
    metrics_port: int = metrics_port("cost", 9102)
    price_file: Path = setting(
        BUNDLED_PRICE_FILE, "Price table (YAML); ReloadPrices re-reads it without a restart"
    )
    tiktoken_cache_dir: Path = setting(
        Path("./data/tiktoken"),
        "Folder the bundled tiktoken vocabularies are installed into at start-up",
    )
    token_count_threads: int = setting(
        2,
        "Threads that count inputs of 8 KiB or more, a large batch split across them; "
        "each holds its own copy of the tokenizers (about 60 MB)",
        minimum=1,
    )
    budget_refresh_seconds: float = setting(
        5.0,
        "How often the last hour of spend is re-read from SQL, so replicas converge on "
        "spend recorded by the others (0 disables refreshing)",
    )
    budget_rebuild_seconds: float = setting(
        60.0,
        "How often budget state is rebuilt from the whole ledger window (late records, "
        "billed corrections, budgets and prices changed through other replicas)",
    )
    max_budgets_per_tenant: int = setting(
        1000, "Most budgets one tenant may have (each is checked on every CheckBudget)"
    )
    budget_metrics_limit: int = setting(
        200, "Most budgets exported as Prometheus gauges (bounds label cardinality)"
    )
    reconciliation_tolerance_percent: float = setting(
        2.0, "Gap between estimated and billed below which reconciliation reports no cause"
    )
