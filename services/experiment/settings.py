"""Settings of ExperimentService, read from ``LLMOPS_*`` environment variables."""

from __future__ import annotations

from dataclasses import dataclass

from services.common.settings import CommonSettings, grpc_port, metrics_port, setting


@dataclass(frozen=True)
class ExperimentSettings(CommonSettings):
    """ExperimentService settings; shared ones come from :class:`CommonSettings`."""

    port: int = grpc_port("experiment", 50054)
    metrics_port: int = metrics_port("experiment", 9104)
    experiment_cache_seconds: float = setting(
        2.0,
        "How long Assign may use a cached experiment before re-reading it; an update made "
        "through another replica reaches this one within this time",
    )
    exposure_flush_interval_seconds: float = setting(
        0.25, "Longest time a recorded exposure waits in memory before it is written"
    )
    exposure_batch_size: int = setting(1000, "Exposures written per database statement")
    exposure_max_pending: int = setting(
        100_000, "Buffered exposures at which Assign waits for the database instead of queueing"
    )
    min_samples_per_variant: int = setting(
        1000, "Samples per variant before results call a difference significant"
    )
    msprt_mixing_sd: float = setting(
        0.1,
        "Mixing standard deviation of the sequential test, in standardised effect units "
        "(Cohen's d): the effect size it is most sensitive around",
    )
    max_batch_users: int = setting(10_000, "Most user ids one AssignBatch call may carry")
