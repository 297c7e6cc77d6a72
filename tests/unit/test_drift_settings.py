"""DriftService settings: device choice and loud failures on nonsense values."""

from __future__ import annotations

import pytest

from services.common.settings import SettingsError, load_settings
from services.drift.settings import DriftSettings, resolve_device


def test_defaults_follow_the_design() -> None:
    settings = load_settings(DriftSettings, {})
    assert settings.drift_window_size == 1000
    assert settings.drift_device == "cpu"
    assert settings.port == 50053


def test_environment_overrides_are_parsed() -> None:
    settings = load_settings(
        DriftSettings,
        {"LLMOPS_DRIFT_WINDOW_SIZE": "200", "LLMOPS_DRIFT_LOGSINK_ADDRESS": "logsink:50055"},
    )
    assert settings.drift_window_size == 200
    assert settings.drift_logsink_address == "logsink:50055"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LLMOPS_DRIFT_BATCH_SIZE", "0"),
        ("LLMOPS_DRIFT_DEFAULT_ALPHA", "1.5"),
        ("LLMOPS_DRIFT_MIN_WINDOW_SIZE", "5000"),
        ("LLMOPS_DRIFT_MAX_TEXTS_PER_REQUEST", "100"),
        ("LLMOPS_DRIFT_BATCH_WAIT_MS", "-1"),
    ],
)
def test_nonsense_values_fail_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings(DriftSettings, {variable: value})


@pytest.mark.parametrize(
    ("configured", "cuda", "expected"),
    [
        ("cpu", True, "cpu"),
        ("auto", False, "cpu"),
        ("auto", True, "cuda"),
        ("CUDA:1", True, "cuda:1"),
    ],
)
def test_device_resolution(configured: str, cuda: bool, expected: str) -> None:
    assert resolve_device(configured, cuda) == expected


def test_cuda_without_a_gpu_fails_fast() -> None:
    with pytest.raises(SettingsError, match="no CUDA device"):
        resolve_device("cuda", cuda_available=False)


def test_unknown_device_is_refused() -> None:
    with pytest.raises(SettingsError, match="LLMOPS_DRIFT_DEVICE"):
        resolve_device("tpu", cuda_available=True)
