"""Prometheus metrics of GuardrailService (labels are policy, detector, action: all bounded)."""

from __future__ import annotations

from prometheus_client import Counter

from services.guardrail.model import Action, GuardResult

GUARD_ACTIONS = Counter(
    "llmops_guard_actions",
    "Guardrail decisions: one per detector that acted in a check, or detector 'none' on a pass",
    ["policy", "detector", "action"],
)


def record(result: GuardResult) -> None:
    """Count one check: each (detector, action) pair once, or a clean pass."""
    pairs = {(f.detector, f.action) for f in result.findings}
    if not pairs:
        pairs = {("none", Action.PASS)}
    for detector, action in pairs:
        GUARD_ACTIONS.labels(result.policy, detector, action.name.lower()).inc()
