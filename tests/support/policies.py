"""Guardrail policy files for tests that start the real GuardrailService."""

from __future__ import annotations

from pathlib import Path

import yaml

SHIPPED_POLICIES = (
    Path(__file__).parents[2] / "services" / "guardrail" / "policies" / "default.yaml"
)


def pattern_only_policies(folder: Path) -> Path:
    """The shipped default policy alone: it loads no embedding model, so start-up is quick."""
    shipped = yaml.safe_load(SHIPPED_POLICIES.read_text())
    path = folder / "policies.yaml"
    policies = {
        "default_policy": "default",
        "policies": {"default": shipped["policies"]["default"]},
    }
    path.write_text(yaml.safe_dump(policies))
    return path
