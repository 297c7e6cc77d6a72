"""Experiment lifecycle, validation and the versioning rule for running experiments."""

from __future__ import annotations

import dataclasses

import pytest

from services.common.errors import FailedPrecondition, InvalidArgument
from services.experiment.model import (
    Experiment,
    MetricKind,
    MetricSpec,
    Status,
    Variant,
    apply_update,
    new_experiment,
    validate_id,
    validate_metric_name,
    with_status,
)

NOW = 1_700_000_000_000_000


def _experiment(**changes: object) -> Experiment:
    base = Experiment(
        id="checkout-tone",
        variants=(Variant("control", 1.0, "answer@v1"), Variant("concise", 1.0, "answer@v2")),
        primary_metric=MetricSpec("thumbs_up", MetricKind.PROPORTION, True),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _field(exc: pytest.ExceptionInfo[InvalidArgument]) -> str:
    return exc.value.field


def test_new_experiment_defaults_to_draft_version_one_with_times() -> None:
    created = new_experiment(_experiment(status=Status.UNSPECIFIED), NOW)
    assert created.status is Status.DRAFT
    assert created.version == 1
    assert created.create_time_us == created.update_time_us == NOW
    assert created.start_time_us == 0


def test_new_running_experiment_records_its_start() -> None:
    assert new_experiment(_experiment(status=Status.RUNNING), NOW).start_time_us == NOW


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"variants": ()}, "experiment.variants"),
        ({"variants": (Variant("a", 1.0), Variant("b", 0.0))}, "experiment.variants[1].weight"),
        ({"variants": (Variant("a", -2.0),)}, "experiment.variants[0].weight"),
        ({"variants": (Variant("a", float("nan")),)}, "experiment.variants[0].weight"),
        # Each finite, but the sum is not: every user would land in the last variant.
        (
            {"variants": (Variant("a", 1e308), Variant("b", 1e308))},
            "experiment.variants[1].weight",
        ),
        ({"variants": (Variant("a", 1.0), Variant("a", 1.0))}, "experiment.variants[1].name"),
        ({"variants": (Variant("", 1.0),)}, "experiment.variants[0].name"),
        ({"id": "has space"}, "experiment.id"),
        ({"id": ""}, "experiment.id"),
        ({"control_variant": "missing"}, "experiment.control_variant"),
        ({"status": Status.STOPPED}, "experiment.status"),
        ({"primary_metric": MetricSpec("bad metric")}, "experiment.primary_metric.name"),
    ],
)
def test_invalid_new_experiment_names_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        new_experiment(_experiment(**changes), NOW)
    assert _field(exc) == field


def test_control_is_the_named_variant_else_the_first() -> None:
    assert _experiment().control.name == "control"
    assert _experiment(control_variant="concise").control.name == "concise"


def test_running_experiment_refuses_a_silent_weight_change() -> None:
    running = new_experiment(_experiment(status=Status.RUNNING), NOW)
    patch = _experiment(variants=(Variant("control", 3.0, "answer@v1"), running.variants[1]))
    with pytest.raises(FailedPrecondition, match="new_version"):
        apply_update(running, patch, ["variants"], new_version=False, now_us=NOW + 1)


def test_new_version_allows_the_change_and_bumps_the_version() -> None:
    running = new_experiment(_experiment(status=Status.RUNNING), NOW)
    patch = _experiment(variants=(Variant("control", 3.0), Variant("concise", 1.0)))
    updated = apply_update(running, patch, ["variants"], new_version=True, now_us=NOW + 1)
    assert updated.version == 2
    assert updated.weights == [3.0, 1.0]
    assert updated.update_time_us == NOW + 1


def test_draft_variants_change_freely_without_a_new_version() -> None:
    draft = new_experiment(_experiment(), NOW)
    patch = _experiment(variants=(Variant("only", 1.0),))
    updated = apply_update(draft, patch, ["variants"], new_version=False, now_us=NOW)
    assert updated.version == 1
    assert [v.name for v in updated.variants] == ["only"]


def test_unchanged_variants_in_the_mask_need_no_new_version() -> None:
    running = new_experiment(_experiment(status=Status.RUNNING), NOW)
    patch = dataclasses.replace(running, description="clarified")
    updated = apply_update(running, patch, ["variants", "description"], False, NOW)
    assert updated.version == 1
    assert updated.description == "clarified"


def test_only_masked_fields_change() -> None:
    draft = new_experiment(_experiment(description="old"), NOW)
    patch = _experiment(description="new", control_variant="concise")
    updated = apply_update(draft, patch, ["control_variant"], False, NOW)
    assert updated.description == "old"
    assert updated.control_variant == "concise"


@pytest.mark.parametrize("paths", [[], ["id"], ["version"], ["description", "nope"]])
def test_bad_update_mask_is_invalid(paths: list[str]) -> None:
    with pytest.raises(InvalidArgument) as exc:
        apply_update(new_experiment(_experiment(), NOW), _experiment(), paths, False, NOW)
    assert _field(exc) == "update_mask"


def test_lifecycle_pause_resume_stop() -> None:
    draft = new_experiment(_experiment(), NOW)
    running = with_status(draft, Status.RUNNING, NOW + 1)
    paused = with_status(running, Status.PAUSED, NOW + 2)
    resumed = with_status(paused, Status.RUNNING, NOW + 3)
    stopped = with_status(resumed, Status.STOPPED, NOW + 4)
    assert resumed.start_time_us == NOW + 1
    assert stopped.stop_time_us == NOW + 4


def test_stopped_is_for_good() -> None:
    stopped = with_status(new_experiment(_experiment(), NOW), Status.STOPPED, NOW)
    with pytest.raises(FailedPrecondition, match="stopped"):
        with_status(stopped, Status.RUNNING, NOW)
    with pytest.raises(FailedPrecondition, match="stopped"):
        apply_update(stopped, _experiment(description="x"), ["description"], False, NOW)


def test_running_cannot_go_back_to_draft() -> None:
    running = new_experiment(_experiment(status=Status.RUNNING), NOW)
    with pytest.raises(FailedPrecondition, match="DRAFT"):
        with_status(running, Status.DRAFT, NOW)


def test_metric_spec_prefers_declared_then_automatic_then_app_metric() -> None:
    experiment = _experiment(
        guardrail_metrics=(MetricSpec("latency_ms", MetricKind.CONTINUOUS, True),)
    )
    assert experiment.metric_spec("thumbs_up").kind is MetricKind.PROPORTION
    assert experiment.metric_spec("latency_ms").higher_is_better is True
    assert experiment.metric_spec("error").kind is MetricKind.PROPORTION
    assert experiment.metric_spec("error").higher_is_better is False
    assert experiment.metric_spec("score") == MetricSpec("score")


@pytest.mark.parametrize("value", ["tone\n", "tone\n\n", "\ntone"])
def test_ids_and_metric_names_with_a_newline_are_invalid(value: str) -> None:
    with pytest.raises(InvalidArgument):
        validate_id(value, "experiment.id")
    with pytest.raises(InvalidArgument):
        validate_metric_name(value, "metric")
