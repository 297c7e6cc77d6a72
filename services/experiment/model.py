"""Experiments as domain objects, and the rules for creating and changing them.

No gRPC and no SQL here: the servicer converts protos to these dataclasses, the
store persists them, and the rules below decide what a create or an update may do.

Lifecycle: DRAFT -> RUNNING <-> PAUSED -> STOPPED (STOPPED from any state, and for
good). Only a RUNNING experiment assigns users to variants and records exposures;
DRAFT, PAUSED and STOPPED ones answer with the control variant.

Once an experiment has started (RUNNING or PAUSED), any change to its variants
(names, order, weights or templates) changes what users see or which bucket maps
to which variant, so it is refused unless the caller sets ``new_version``; the
version is then bumped and exposures, outcomes and results start afresh for it.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from services.common.errors import FailedPrecondition, InvalidArgument

ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,128}")
METRIC_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")
MAX_VARIANTS = 100
MAX_USER_ID_CHARS = 256
MAX_TEXT_CHARS = 16_384

UPDATABLE_FIELDS = frozenset(
    {
        "description",
        "variants",
        "status",
        "control_variant",
        "primary_metric",
        "guardrail_metrics",
    }
)


class Status(enum.IntEnum):
    """Mirrors ``llmops.v1.ExperimentStatus`` (same numbers)."""

    UNSPECIFIED = 0
    DRAFT = 1
    RUNNING = 2
    PAUSED = 3
    STOPPED = 4


class MetricKind(enum.IntEnum):
    """Mirrors ``llmops.v1.MetricKind`` (same numbers)."""

    UNSPECIFIED = 0
    CONTINUOUS = 1
    PROPORTION = 2


@dataclass(frozen=True)
class Variant:
    """One arm: a name, what the client renders, and its relative weight."""

    name: str
    weight: float
    prompt_template: str = ""
    template_text: str = ""


@dataclass(frozen=True)
class MetricSpec:
    """A metric the experiment is judged on."""

    name: str
    kind: MetricKind = MetricKind.UNSPECIFIED
    higher_is_better: bool = True


# Metrics computed from forwarded call records; every other name is app-reported.
AUTOMATIC_METRICS: dict[str, MetricSpec] = {
    "latency_ms": MetricSpec("latency_ms", MetricKind.CONTINUOUS, False),
    "cost_micros": MetricSpec("cost_micros", MetricKind.CONTINUOUS, False),
    "input_tokens": MetricSpec("input_tokens", MetricKind.CONTINUOUS, False),
    "output_tokens": MetricSpec("output_tokens", MetricKind.CONTINUOUS, False),
    "error": MetricSpec("error", MetricKind.PROPORTION, False),
}


@dataclass(frozen=True)
class Experiment:
    """An experiment as stored; times are UTC microseconds since the epoch (0 = unset)."""

    id: str
    variants: tuple[Variant, ...]
    description: str = ""
    status: Status = Status.DRAFT
    control_variant: str = ""
    primary_metric: MetricSpec | None = None
    guardrail_metrics: tuple[MetricSpec, ...] = ()
    version: int = 1
    start_time_us: int = 0
    stop_time_us: int = 0
    create_time_us: int = 0
    update_time_us: int = 0

    @property
    def control(self) -> Variant:
        """The control variant: the named one, else the first."""
        for variant in self.variants:
            if variant.name == self.control_variant:
                return variant
        return self.variants[0]

    @property
    def weights(self) -> list[float]:
        """Variant weights in variant order."""
        return [v.weight for v in self.variants]

    def variant_named(self, name: str) -> Variant | None:
        """The variant called ``name``, if any."""
        return next((v for v in self.variants if v.name == name), None)

    def metric_spec(self, name: str) -> MetricSpec:
        """The declared spec of a metric, else the automatic one, else an app metric."""
        for spec in (self.primary_metric, *self.guardrail_metrics):
            if spec is not None and spec.name == name:
                return spec
        return AUTOMATIC_METRICS.get(name, MetricSpec(name))


def validate_id(value: str, field: str) -> str:
    """Experiment ids are part of the assignment hash, so they are kept plain ASCII."""
    if not ID_PATTERN.fullmatch(value):
        raise InvalidArgument(field, "must match [A-Za-z0-9._-]{1,128}")
    return value


def validate_user_id(value: str, field: str) -> str:
    """User ids are hashed as given; only emptiness, length and NUL are refused."""
    if not value:
        raise InvalidArgument(field, "must not be empty")
    if len(value) > MAX_USER_ID_CHARS:
        raise InvalidArgument(field, f"must be at most {MAX_USER_ID_CHARS} characters")
    if "\x00" in value:
        # PostgreSQL text cannot hold NUL: a buffered exposure with one would fail
        # every write of its batch.
        raise InvalidArgument(field, "must not contain NUL characters")
    return value


def validate_metric_name(value: str, field: str) -> str:
    """Metric names are short identifiers such as ``thumbs_up`` or ``latency_ms``."""
    if not METRIC_PATTERN.fullmatch(value):
        raise InvalidArgument(field, "must match [A-Za-z0-9._:-]{1,128}")
    return value


def _validate_variants(variants: Sequence[Variant], field: str) -> None:
    if not variants:
        raise InvalidArgument(field, "an experiment needs at least one variant")
    if len(variants) > MAX_VARIANTS:
        raise InvalidArgument(field, f"at most {MAX_VARIANTS} variants")
    seen: set[str] = set()
    total = 0.0
    for i, variant in enumerate(variants):
        if not variant.name or len(variant.name) > 128:
            raise InvalidArgument(f"{field}[{i}].name", "must be 1 to 128 characters")
        if variant.name in seen:
            raise InvalidArgument(f"{field}[{i}].name", f"duplicate variant name {variant.name!r}")
        seen.add(variant.name)
        if not (variant.weight > 0 and math.isfinite(variant.weight)):
            raise InvalidArgument(f"{field}[{i}].weight", "must be a positive finite number")
        total += variant.weight
        if not math.isfinite(total):
            # Normalised by an infinite total, every threshold would be 0.
            raise InvalidArgument(f"{field}[{i}].weight", "weights must have a finite sum")
        if len(variant.template_text) > MAX_TEXT_CHARS:
            raise InvalidArgument(
                f"{field}[{i}].template_text", f"at most {MAX_TEXT_CHARS} characters"
            )


def _validate_metrics(experiment: Experiment, field: str) -> None:
    if experiment.primary_metric is not None:
        validate_metric_name(experiment.primary_metric.name, f"{field}.primary_metric.name")
    for i, spec in enumerate(experiment.guardrail_metrics):
        validate_metric_name(spec.name, f"{field}.guardrail_metrics[{i}].name")


def _validate_control(experiment: Experiment, field: str) -> None:
    if experiment.control_variant and experiment.variant_named(experiment.control_variant) is None:
        raise InvalidArgument(f"{field}.control_variant", "must name one of the variants")


def new_experiment(experiment: Experiment, now_us: int) -> Experiment:
    """Validate a create request and fill in the output-only fields."""
    validate_id(experiment.id, "experiment.id")
    _validate_variants(experiment.variants, "experiment.variants")
    _validate_control(experiment, "experiment")
    _validate_metrics(experiment, "experiment")
    if len(experiment.description) > MAX_TEXT_CHARS:
        raise InvalidArgument("experiment.description", f"at most {MAX_TEXT_CHARS} characters")
    status = experiment.status
    if status is Status.UNSPECIFIED:
        status = Status.DRAFT
    if status not in (Status.DRAFT, Status.RUNNING):
        raise InvalidArgument("experiment.status", "a new experiment is DRAFT or RUNNING")
    return dataclasses.replace(
        experiment,
        status=status,
        version=1,
        start_time_us=now_us if status is Status.RUNNING else 0,
        stop_time_us=0,
        create_time_us=now_us,
        update_time_us=now_us,
    )


_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.DRAFT: frozenset({Status.DRAFT, Status.RUNNING, Status.STOPPED}),
    Status.RUNNING: frozenset({Status.RUNNING, Status.PAUSED, Status.STOPPED}),
    Status.PAUSED: frozenset({Status.PAUSED, Status.RUNNING, Status.STOPPED}),
    Status.STOPPED: frozenset(),
}


def with_status(current: Experiment, status: Status, now_us: int) -> Experiment:
    """Move to ``status`` if the lifecycle allows it, stamping start and stop times."""
    if status is Status.UNSPECIFIED:
        raise InvalidArgument("experiment.status", "must be set")
    if current.status is Status.STOPPED:
        raise FailedPrecondition(f"experiment {current.id!r} is stopped for good")
    if status not in _TRANSITIONS[current.status]:
        raise FailedPrecondition(
            f"experiment {current.id!r} cannot go from {current.status.name} to {status.name}"
        )
    start = current.start_time_us or (now_us if status is Status.RUNNING else 0)
    stop = now_us if status is Status.STOPPED else 0
    return dataclasses.replace(current, status=status, start_time_us=start, stop_time_us=stop)


def apply_update(
    current: Experiment,
    patch: Experiment,
    paths: Sequence[str],
    new_version: bool,
    now_us: int,
) -> Experiment:
    """The experiment after an update of the fields named in ``paths`` (a field mask)."""
    if not paths:
        raise InvalidArgument("update_mask", "name at least one field to update")
    for path in paths:
        if path not in UPDATABLE_FIELDS:
            raise InvalidArgument(
                "update_mask",
                f"{path!r} is not updatable; use {', '.join(sorted(UPDATABLE_FIELDS))}",
            )
    if current.status is Status.STOPPED:
        raise FailedPrecondition(f"experiment {current.id!r} is stopped for good")
    updated = current
    if "description" in paths:
        if len(patch.description) > MAX_TEXT_CHARS:
            raise InvalidArgument("experiment.description", f"at most {MAX_TEXT_CHARS} characters")
        updated = dataclasses.replace(updated, description=patch.description)
    if "variants" in paths and tuple(patch.variants) != current.variants:
        _validate_variants(patch.variants, "experiment.variants")
        version = current.version
        if current.status in (Status.RUNNING, Status.PAUSED):
            if not new_version:
                raise FailedPrecondition(
                    f"experiment {current.id!r} has started: changing its variants re-buckets "
                    "users; set new_version to start version "
                    f"{current.version + 1} with fresh exposures and results"
                )
            version += 1
        updated = dataclasses.replace(updated, variants=tuple(patch.variants), version=version)
    if "control_variant" in paths:
        updated = dataclasses.replace(updated, control_variant=patch.control_variant)
    if "primary_metric" in paths:
        updated = dataclasses.replace(updated, primary_metric=patch.primary_metric)
    if "guardrail_metrics" in paths:
        updated = dataclasses.replace(updated, guardrail_metrics=tuple(patch.guardrail_metrics))
    if "status" in paths:
        updated = with_status(updated, patch.status, now_us)
    _validate_control(updated, "experiment")
    _validate_metrics(updated, "experiment")
    return dataclasses.replace(updated, update_time_us=now_us)


class CallStatus(enum.IntEnum):
    """Mirrors ``llmops.v1.CallStatus`` (same numbers)."""

    UNSPECIFIED = 0
    SUCCESS = 1
    ERROR = 2
    TIMEOUT = 3
    FILTERED = 4


# What the automatic "error" metric counts: the call failed. A guardrail block
# (FILTERED) is the guard working, not the variant failing, so it counts as 0.
FAILED_CALL_STATUSES = frozenset({CallStatus.ERROR, CallStatus.TIMEOUT})
