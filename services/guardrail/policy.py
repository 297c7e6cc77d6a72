"""Named, versioned guardrail policies loaded from a YAML (or JSON) file.

File shape::

    default_policy: default
    policies:
      default:
        version: "2026-11-27"          # optional; a content hash is used when absent
        description: Block injections, redact PII and secrets.
        max_text_length: 32000         # optional; the server's maximum when absent
        input:                         # run in this order; injection before pii/secrets
          - {detector: injection, action: block, threshold: 0.5, semantic: false}
          - {detector: pii, action: redact, redaction_style: placeholder,
             entity_types: [EMAIL, PHONE], allow_list: [support@example.com]}
        output:
          - {detector: secrets, action: block}

Every mistake is reported at load time with the policy and detector it is in, so a
bad file stops the server at start-up instead of misbehaving on a request.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from services.guardrail.injection import DETECTOR as INJECTION
from services.guardrail.invisible import DETECTOR as INVISIBLE
from services.guardrail.invisible import ENTITY_TYPES as INVISIBLE_TYPES
from services.guardrail.model import Action, RedactionStyle
from services.guardrail.pii import ENTITY_TYPES, PII, SECRETS

DEFAULT_POLICY_FILE = Path(__file__).parent / "policies" / "default.yaml"
DETECTORS = (INVISIBLE, INJECTION, SECRETS, PII)
_DEFAULT_THRESHOLD = 0.5
_KNOWN_TYPES: dict[str, frozenset[str]] = {
    PII: ENTITY_TYPES[PII],
    SECRETS: ENTITY_TYPES[SECRETS],
    INVISIBLE: INVISIBLE_TYPES,
    INJECTION: frozenset(),
}


class PolicyError(ValueError):
    """The policy file is malformed; the message says where."""


@dataclass(frozen=True)
class DetectorConfig:
    """One detector as a policy configures it."""

    name: str
    action: Action
    threshold: float
    entity_types: frozenset[str]
    """Types reported; empty means every type the detector knows."""
    allow_list: frozenset[str]
    """Values never reported, compared case-insensitively with the matched text."""
    redaction_style: RedactionStyle
    semantic: bool = False


@dataclass(frozen=True)
class Policy:
    """A named, versioned set of input and output detectors."""

    name: str
    version: str
    description: str
    input_detectors: tuple[DetectorConfig, ...]
    output_detectors: tuple[DetectorConfig, ...]
    max_text_length: int

    @property
    def uses_semantic(self) -> bool:
        """Whether any detector of this policy runs the embedding tier."""
        return any(d.semantic for d in self.input_detectors + self.output_detectors)


@dataclass(frozen=True)
class PolicySet:
    """All loaded policies and the one used when a request names none."""

    policies: dict[str, Policy]
    default: str


def load_policies(path: Path | None, max_text_length: int) -> PolicySet:
    """Parse and validate a policy file; ``max_text_length`` caps every policy's limit."""
    path = path or DEFAULT_POLICY_FILE
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"{path}: cannot read policy file: {exc}") from None
    return parse_policies(document, max_text_length, source=str(path))


def parse_policies(document: Any, max_text_length: int, source: str = "<policies>") -> PolicySet:
    """Validate an already-parsed policy document."""
    if not isinstance(document, dict) or not isinstance(document.get("policies"), dict):
        raise PolicyError(f"{source}: expected a mapping with a 'policies' mapping")
    if not document["policies"]:
        raise PolicyError(f"{source}: no policies defined")
    policies = {
        str(name): _parse_policy(f"{source}: policy {name!r}", str(name), body, max_text_length)
        for name, body in document["policies"].items()
    }
    default = str(document.get("default_policy", "default"))
    if default not in policies:
        raise PolicyError(f"{source}: default_policy {default!r} is not defined")
    return PolicySet(policies, default)


def _parse_policy(where: str, name: str, body: Any, max_text_length: int) -> Policy:
    if not isinstance(body, dict):
        raise PolicyError(f"{where}: expected a mapping")
    _reject_unknown(where, body, {"version", "description", "max_text_length", "input", "output"})
    limit = body.get("max_text_length", max_text_length)
    if not isinstance(limit, int) or limit <= 0:
        raise PolicyError(f"{where}: max_text_length must be a positive integer")
    inputs = _parse_detectors(f"{where} input", body.get("input", []))
    outputs = _parse_detectors(f"{where} output", body.get("output", []))
    names = [d.name for d in inputs]
    if INJECTION in names and any(
        names.index(n) < names.index(INJECTION) for n in (PII, SECRETS) if n in names
    ):
        raise PolicyError(f"{where}: on input, injection must run before pii and secrets")
    version = body.get("version")
    if version is None:
        canonical = json.dumps(body, sort_keys=True, default=str).encode()
        version = hashlib.sha256(canonical).hexdigest()[:12]
    return Policy(
        name=name,
        version=str(version),
        description=str(body.get("description", "")),
        input_detectors=inputs,
        output_detectors=outputs,
        max_text_length=min(limit, max_text_length),
    )


def _parse_detectors(where: str, items: Any) -> tuple[DetectorConfig, ...]:
    if not isinstance(items, list):
        raise PolicyError(f"{where}: expected a list of detectors")
    configs: list[DetectorConfig] = []
    for item in items:
        config = _parse_detector(where, item)
        if any(c.name == config.name for c in configs):
            raise PolicyError(f"{where}: detector {config.name!r} listed twice")
        configs.append(config)
    return tuple(configs)


def _parse_detector(where: str, item: Any) -> DetectorConfig:
    if not isinstance(item, dict) or "detector" not in item:
        raise PolicyError(f"{where}: each entry needs a 'detector' name")
    name = str(item["detector"])
    where = f"{where} detector {name!r}"
    if name not in DETECTORS:
        raise PolicyError(f"{where}: unknown detector (known: {', '.join(DETECTORS)})")
    _reject_unknown(
        where,
        item,
        {
            "detector",
            "action",
            "threshold",
            "entity_types",
            "allow_list",
            "redaction_style",
            "semantic",
        },
    )
    action = _enum(where, "action", Action, str(item.get("action", "flag")).upper())
    style = _enum(
        where,
        "redaction_style",
        RedactionStyle,
        str(item.get("redaction_style", "placeholder")).lower(),
        by_value=True,
    )
    threshold = item.get("threshold", _DEFAULT_THRESHOLD)
    if not isinstance(threshold, int | float) or not 0.0 <= threshold <= 1.0:
        raise PolicyError(f"{where}: threshold must be a number in [0, 1]")
    types = frozenset(str(t).upper() for t in item.get("entity_types", []) or [])
    unknown = types - _KNOWN_TYPES[name]
    if unknown:
        raise PolicyError(f"{where}: unknown entity types {sorted(unknown)}")
    semantic = item.get("semantic", False)
    if not isinstance(semantic, bool) or (semantic and name != INJECTION):
        raise PolicyError(f"{where}: semantic is a boolean and only valid for injection")
    allow = frozenset(str(v).strip().casefold() for v in item.get("allow_list", []) or [])
    return DetectorConfig(name, action, float(threshold), types, allow, style, semantic)


def _enum(where: str, key: str, cls: Any, raw: str, *, by_value: bool = False) -> Any:
    try:
        return cls(raw) if by_value else cls[raw]
    except (KeyError, ValueError):
        choices = [m.value if by_value else m.name.lower() for m in cls]
        raise PolicyError(f"{where}: {key} must be one of {', '.join(choices)}") from None


def _reject_unknown(where: str, body: dict[str, Any], known: set[str]) -> None:
    unknown = set(body) - known
    if unknown:
        raise PolicyError(f"{where}: unknown keys {sorted(unknown)}")
