"""Settings of DriftService, read from ``LLMOPS_*`` environment variables."""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.common.settings import (
    CommonSettings,
    SettingsError,
    grpc_port,
    metrics_port,
    setting,
)


@dataclass(frozen=True)
class DriftSettings(CommonSettings):
    """DriftService settings; shared ones come from :class:`CommonSettings`."""

    port: int = grpc_port("drift", 50053)
    metrics_port: int = metrics_port("drift", 9103)
    drift_device: str = setting(
        "cpu",
        "Device of the embedding model: cpu, cuda, cuda:<n>, or auto (cuda when present)",
    )
    drift_batch_size: int = setting(
        64, "Most texts the micro-batcher hands the embedding model at once"
    )
    drift_batch_wait_ms: float = setting(
        5.0, "Longest a request waits for others to share its embedding batch, in ms"
    )
    drift_window_size: int = setting(1000, "Capacity of each monitor's recent window (texts)")
    drift_min_window_size: int = setting(
        50, "Texts a window needs before CheckDrift runs (FAILED_PRECONDITION below)"
    )
    drift_max_texts_per_request: int = setting(
        10000, "Most texts one Observe, SetBaseline or ScoreTexts request may carry"
    )
    drift_stored_text_chars: int = setting(
        1000, "Characters of each text kept for the readable examples of a drift check"
    )
    drift_default_alpha: float = setting(
        0.01, "Significance level of CheckDrift when the request leaves alpha at 0"
    )
    drift_permutations: int = setting(
        200, "Permutations of the MMD test; the smallest possible p-value is 1/(n+1)"
    )
    drift_test_max_samples: int = setting(
        1000,
        "Most texts per side fed to the MMD test (a larger baseline or window is "
        "subsampled); bounds the check's time and memory, which grow with its square",
    )
    drift_calibration_rounds: int = setting(
        500, "Random baseline half-splits used to calibrate the distance threshold"
    )
    drift_examples: int = setting(3, "Texts nearest each centroid reported as examples")
    drift_max_metric_monitors: int = setting(
        100, "Monitors exported with their own Prometheus gauge series; further ones are not"
    )
    drift_baseline_cache_size: int = setting(
        16, "Baselines (embeddings and texts) kept in memory between checks"
    )
    drift_logsink_address: str = setting(
        "127.0.0.1:50055",
        "host:port of LogSinkService, read when a baseline is set from stored records",
    )
    drift_logsink_timeout_seconds: float = setting(
        30.0, "Deadline of each ListRecords call made to LogSink"
    )

    def __post_init__(self) -> None:
        minimums = {
            "drift_batch_size": 1,
            "drift_window_size": 2,
            "drift_min_window_size": 2,
            # A baseline (500 texts at least) must fit in one request.
            "drift_max_texts_per_request": 500,
            "drift_stored_text_chars": 1,
            "drift_permutations": 19,
            "drift_test_max_samples": 2,
            "drift_calibration_rounds": 10,
            "drift_examples": 0,
            "drift_max_metric_monitors": 0,
            "drift_baseline_cache_size": 1,
        }
        for name, minimum in minimums.items():
            if getattr(self, name) < minimum:
                raise SettingsError(
                    f"Invalid value for environment variable LLMOPS_{name.upper()}: "
                    f"must be at least {minimum}"
                )
        if self.drift_min_window_size > self.drift_window_size:
            raise SettingsError(
                "Invalid value for environment variable LLMOPS_DRIFT_MIN_WINDOW_SIZE: "
                "must not exceed LLMOPS_DRIFT_WINDOW_SIZE"
            )
        if not 0.0 < self.drift_default_alpha < 1.0:
            raise SettingsError(
                "Invalid value for environment variable LLMOPS_DRIFT_DEFAULT_ALPHA: "
                "must be between 0 and 1"
            )
        if self.drift_batch_wait_ms < 0:
            raise SettingsError(
                "Invalid value for environment variable LLMOPS_DRIFT_BATCH_WAIT_MS: "
                "must not be negative"
            )
        if self.drift_logsink_timeout_seconds <= 0:
            raise SettingsError(
                "Invalid value for environment variable LLMOPS_DRIFT_LOGSINK_TIMEOUT_SECONDS: "
                "must be positive"
            )


def resolve_device(configured: str, cuda_available: bool) -> str:
    """The torch device for ``LLMOPS_DRIFT_DEVICE``; fails fast on an unusable value."""
    value = configured.strip().lower()
    if value == "auto":
        return "cuda" if cuda_available else "cpu"
    if value == "cpu":
        return value
    if re.fullmatch(r"cuda(:\d+)?", value):
        if not cuda_available:
            raise SettingsError(
                f"Invalid value for environment variable LLMOPS_DRIFT_DEVICE: {configured!r} "
                "but no CUDA device is available (use cpu or auto)"
            )
        return value
    raise SettingsError(
        f"Invalid value for environment variable LLMOPS_DRIFT_DEVICE: {configured!r} is "
        "not cpu, cuda, cuda:<n> or auto"
    )
