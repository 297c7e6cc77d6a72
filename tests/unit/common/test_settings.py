"""Settings are parsed once, loudly, from LLMOPS_* variables."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from services.common.settings import (
    CommonSettings,
    LogFormat,
    SettingsError,
    load_settings,
    settings_table,
)
from services.cost.settings import CostSettings
from services.drift.settings import DriftSettings
from services.experiment.settings import ExperimentSettings
from services.guardrail.settings import GuardrailSettings
from services.logsink.settings import LogSinkSettings

ALL = (GuardrailSettings, CostSettings, DriftSettings, ExperimentSettings, LogSinkSettings)


def test_defaults_need_no_environment() -> None:
    settings = load_settings(GuardrailSettings, {})
    assert (settings.port, settings.metrics_port) == (50051, 9101)
    assert settings.database_url == "sqlite:///./data/llmops.db"
    assert settings.object_store == "file:./data/objects"
    assert settings.log_format is LogFormat.JSON
    assert settings.tls_cert_file is None


def test_each_service_has_its_own_ports() -> None:
    ports = [(s().port, s().metrics_port) for s in ALL]
    assert ports == [(50051 + i, 9101 + i) for i in range(5)]


def test_values_are_parsed_by_type() -> None:
    settings = load_settings(
        CostSettings,
        {
            "LLMOPS_COST_PORT": "6000",
            "LLMOPS_GRACE_SECONDS": "2.5",
            "LLMOPS_S3_SECURE": "true",
            "LLMOPS_LOG_FORMAT": "TEXT",
            "LLMOPS_TLS_CERT_FILE": "/etc/tls/cert.pem",
            "LLMOPS_S3_REGION": "",
        },
    )
    assert settings.port == 6000
    assert settings.grace_seconds == 2.5
    assert settings.s3_secure is True
    assert settings.log_format is LogFormat.TEXT
    assert settings.tls_cert_file == Path("/etc/tls/cert.pem")
    assert settings.s3_region is None


def test_bad_port_names_the_variable() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(GuardrailSettings, {"LLMOPS_GUARDRAIL_PORT": "abc"})
    assert str(caught.value) == (
        "Invalid value for environment variable LLMOPS_GUARDRAIL_PORT: 'abc' is not an integer"
    )


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("LLMOPS_S3_SECURE", "maybe", "is not a boolean"),
        ("LLMOPS_GRACE_SECONDS", "soon", "is not a number"),
        ("LLMOPS_LOG_FORMAT", "xml", "is not one of json, text"),
        ("LLMOPS_LOG_LEVEL", "LOUD", "is not one of"),
    ],
)
def test_bad_values_name_the_variable(variable: str, value: str, problem: str) -> None:
    with pytest.raises(SettingsError, match=f"{variable}: '{value}' {problem}"):
        load_settings(CommonSettings, {variable: value})


def test_settings_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        GuardrailSettings().port = 1  # type: ignore[misc]


def test_table_lists_every_variable_once() -> None:
    table = settings_table(*ALL)
    assert table.count("`LLMOPS_DATABASE_URL`") == 1
    assert "`LLMOPS_LOGSINK_METRICS_PORT` | `9105`" in table
    assert "`LLMOPS_PORT`" not in table


def test_out_of_range_port_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="LLMOPS_COST_METRICS_PORT: 70000 is above the maximum"):
        load_settings(CostSettings, {"LLMOPS_COST_METRICS_PORT": "70000"})
