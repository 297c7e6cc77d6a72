"""Settings declared once as frozen dataclasses and read from ``LLMOPS_*`` variables.

Each field is declared with :func:`setting`, which records its environment variable
and a one-line doc next to the default, so the parser, the error messages and the
README configuration table all come from the same declaration. Values are parsed
once at start-up by :func:`load_settings`; a bad value stops the process with a
message naming the variable instead of failing later deep inside a request.

A service's settings class subclasses :class:`CommonSettings` and redeclares
``port`` and ``metrics_port`` with :func:`grpc_port` / :func:`metrics_port`, which
gives every service its own variable names (``LLMOPS_GUARDRAIL_PORT``) and defaults
so that all five can share one environment.
"""

from __future__ import annotations

import dataclasses
import enum
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

_PREFIX = "LLMOPS_"
_REPO_ROOT = Path(__file__).resolve().parents[2]
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class SettingsError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


def setting(
    default: Any,
    doc: str,
    *,
    env: str | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
) -> Any:
    """Declare a settings field; ``env`` defaults to ``LLMOPS_<FIELD_NAME_UPPER>``.

    ``minimum``/``maximum`` bound numeric values, so that e.g. a port of 70000 is
    rejected naming its variable rather than failing later inside grpc.
    """
    metadata = {"doc": doc, "env": env, "minimum": minimum, "maximum": maximum}
    return dataclasses.field(default=default, metadata=metadata)


def grpc_port(service: str, default: int) -> Any:
    """The gRPC port field of one service, read from ``LLMOPS_<SERVICE>_PORT``."""
    return setting(
        default,
        f"gRPC port of the {service} service",
        env=f"{_PREFIX}{service.upper()}_PORT",
        minimum=0,
        maximum=65535,
    )


def metrics_port(service: str, default: int) -> Any:
    """The Prometheus HTTP port of one service, read from ``LLMOPS_<SERVICE>_METRICS_PORT``."""
    return setting(
        default,
        f"Prometheus /metrics HTTP port of the {service} service",
        env=f"{_PREFIX}{service.upper()}_METRICS_PORT",
        minimum=0,
        maximum=65535,
    )


class LogLevel(enum.Enum):
    """Threshold of the records written to stdout."""

    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class LogFormat(enum.Enum):
    """How log records are written to stdout."""

    JSON = "json"
    TEXT = "text"


@dataclasses.dataclass(frozen=True)
class CommonSettings:
    """Settings every service reads; subclasses add ``port``/``metrics_port`` defaults."""

    port: int = setting(0, "gRPC port (each service declares its own variable)")
    metrics_port: int = setting(0, "Metrics port (each service declares its own variable)")
    host: str = setting(
        "127.0.0.1",
        "Interface the gRPC and metrics servers bind to; loopback by default so an "
        "unauthenticated laptop setup is not exposed; containers set 0.0.0.0",
    )
    database_url: str = setting(
        "sqlite:///./data/llmops.db",
        "SQLAlchemy URL: a SQLite file, or postgresql://user:pass@host/db",
    )
    object_store: str = setting(
        "file:./data/objects", "Where raw texts are kept: file:<folder> or s3://<bucket>[/<prefix>]"
    )
    s3_endpoint: str = setting("", "S3/MinIO endpoint as host:port (for s3:// object stores)")
    s3_access_key: str = setting("", "S3/MinIO access key")
    s3_secret_key: str = setting("", "S3/MinIO secret key")
    s3_secure: bool = setting(False, "Use HTTPS to reach the S3/MinIO endpoint")
    s3_region: str | None = setting(None, "S3 region (optional)")
    log_level: LogLevel = setting(LogLevel.INFO, "Log level: DEBUG, INFO, WARNING or ERROR")
    log_format: LogFormat = setting(LogFormat.JSON, "Log format on stdout: json or text")
    grace_seconds: float = setting(
        10.0,
        "On SIGTERM/SIGINT, how long in-flight calls may take to finish",
        minimum=0,
    )
    max_message_bytes: int = setting(
        16 * 1024 * 1024,
        "Largest gRPC message accepted or sent, in bytes",
        minimum=1024,
    )
    keepalive_time_seconds: float = setting(
        60.0,
        "Interval of the server's keepalive pings to clients",
        minimum=1,
    )
    keepalive_timeout_seconds: float = setting(
        20.0,
        "How long the server waits for a keepalive ping ack before closing",
        minimum=1,
    )
    keepalive_min_client_interval_seconds: float = setting(
        10.0,
        "Shortest client keepalive ping interval the server accepts",
        minimum=1,
    )
    default_tenant: str = setting(
        "default", "Tenant of calls that carry no x-llmops-tenant metadata and no API key"
    )
    tls_cert_file: Path | None = setting(None, "Server certificate (PEM); enables TLS")
    tls_key_file: Path | None = setting(None, "Server private key (PEM); required with the cert")
    tls_client_ca_file: Path | None = setting(
        None, "CA bundle (PEM) for client certificates; enables mutual TLS"
    )
    api_keys_file: Path | None = setting(
        None,
        'JSON file {"<tenant>": ["<sha256 hex of key>", ...]}; when set every call '
        "needs an API key",
    )
    tls_ca_file: Path | None = setting(
        None,
        "CA bundle (PEM) trusted when this service calls another llmops service; enables "
        "TLS on those calls, presenting this service's certificate and key when both are set",
    )
    internal_api_key: str = setting(
        "",
        "Key this service presents when it calls another llmops service on a tenant's "
        'behalf; list its digest under "*" in the API keys file',
    )


S = TypeVar("S")


def env_name(field: dataclasses.Field[Any]) -> str:
    """The environment variable a settings field is read from."""
    return field.metadata.get("env") or f"{_PREFIX}{field.name.upper()}"


def load_settings(cls: type[S], environ: Mapping[str, str] | None = None) -> S:
    """Build ``cls`` from the environment; raise :class:`SettingsError` on a bad value."""
    env = os.environ if environ is None else environ
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        name = env_name(field)
        raw = env.get(name)
        if raw is None:
            continue
        try:
            values[field.name] = _check_range(_parse(raw, hints[field.name]), field)
        except ValueError as exc:
            raise SettingsError(f"Invalid value for environment variable {name}: {exc}") from None
    return cls(**values)


def _check_range(value: Any, field: dataclasses.Field[Any]) -> Any:
    minimum, maximum = field.metadata.get("minimum"), field.metadata.get("maximum")
    if minimum is not None and value < minimum:
        raise ValueError(f"{value!r} is below the minimum {minimum}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{value!r} is above the maximum {maximum}")
    return value


def _parse(raw: str, annotation: Any) -> Any:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
        if raw.strip() == "":
            return None
        (inner,) = (a for a in args if a is not type(None))
        return _parse(raw, inner)
    if annotation is bool:
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"{raw!r} is not a boolean (use true or false)")
    if annotation is int:
        try:
            return int(raw.strip())
        except ValueError:
            raise ValueError(f"{raw!r} is not an integer") from None
    if annotation is float:
        try:
            return float(raw.strip())
        except ValueError:
            raise ValueError(f"{raw!r} is not a number") from None
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        choices = {str(member.value).lower(): member for member in annotation}
        try:
            return choices[raw.strip().lower()]
        except KeyError:
            raise ValueError(f"{raw!r} is not one of {', '.join(sorted(choices))}") from None
    if annotation is Path:
        return Path(raw)
    if annotation is str:
        return raw
    raise TypeError(f"unsupported settings type {annotation!r}")


def settings_table(*classes: type[Any]) -> str:
    """Render the settings of ``classes`` as a Markdown table for the README.

    Shared ``CommonSettings`` variables come first, once, then each class's own
    variables in order, so passing the five service classes documents the suite.
    """
    common = {f.name for f in dataclasses.fields(CommonSettings)} - {"port", "metrics_port"}
    fields = [f for cls in classes[:1] for f in dataclasses.fields(cls) if f.name in common]
    fields += [f for cls in classes for f in dataclasses.fields(cls) if f.name not in common]
    rows = ["| Variable | Default | Description |", "| --- | --- | --- |"]
    seen: set[str] = set()
    for field in fields:
        name = env_name(field)
        if name in seen:
            continue
        seen.add(name)
        doc = field.metadata["doc"].replace("<", "\\<")
        rows.append(f"| `{name}` | {_render_default(field.default)} | {doc} |")
    return "\n".join(rows) + "\n"


def _render_default(value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, Path) and value.is_absolute() and value.is_relative_to(_REPO_ROOT):
        # Defaults that point into the installed tree read the same on every machine.
        value = value.relative_to(_REPO_ROOT)
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        value = str(value).lower()
    if value == "":
        return "(empty)"
    return f"`{value}`"
