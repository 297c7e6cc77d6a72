"""The supervisor wires the services it starts to each other."""

from __future__ import annotations

import pytest

from services import run

ADDRESSES = {
    "guardrail": "127.0.0.1:1",
    "cost": "127.0.0.1:2",
    "drift": "127.0.0.1:3",
    "experiment": "127.0.0.1:4",
    "logsink": "127.0.0.1:5",
}


def test_suite_environment_links_logsink_and_drift_to_their_siblings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for variable in run._LINKS:
        monkeypatch.delenv(variable, raising=False)
    env = run._suite_environment(ADDRESSES)
    assert env["LLMOPS_LOGSINK_COST_ADDRESS"] == "127.0.0.1:2"
    assert env["LLMOPS_LOGSINK_EXPERIMENT_ADDRESS"] == "127.0.0.1:4"
    assert env["LLMOPS_LOGSINK_DRIFT_ADDRESS"] == "127.0.0.1:3"
    assert env["LLMOPS_DRIFT_LOGSINK_ADDRESS"] == "127.0.0.1:5"


def test_suite_environment_keeps_links_the_caller_set_even_empty(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LLMOPS_LOGSINK_DRIFT_ADDRESS", "")
    monkeypatch.setenv("LLMOPS_LOGSINK_COST_ADDRESS", "cost.internal:50052")
    env = run._suite_environment(ADDRESSES)
    assert env["LLMOPS_LOGSINK_DRIFT_ADDRESS"] == ""
    assert env["LLMOPS_LOGSINK_COST_ADDRESS"] == "cost.internal:50052"


def test_address_reaches_a_wildcard_bind_on_loopback() -> None:
    settings = run.load_settings(run.SETTINGS["cost"], {"LLMOPS_HOST": "0.0.0.0"})
    assert run._address(settings) == "127.0.0.1:50052"
