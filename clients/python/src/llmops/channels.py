"""Long-lived gRPC channels to the llmops services, configured once.

One channel per target for the life of the process. Retries are declared in the
channel's service config and only for UNAVAILABLE (the request never reached a
server), so they are safe for every RPC; each call still carries its own deadline,
which bounds the retries too. Keepalive pings every 30 s stay well above the 10 s
minimum the llmops servers accept (faster pings get a GOAWAY "too_many_pings").
"""

from __future__ import annotations

import json

import grpc

KEEPALIVE_TIME_MS = 30_000
KEEPALIVE_TIMEOUT_MS = 10_000


def service_config(service: str) -> str:
    """Retry UNAVAILABLE with a short exponential backoff, for every method of ``service``."""
    return json.dumps(
        {
            "methodConfig": [
                {
                    "name": [{"service": service}],
                    "retryPolicy": {
                        "maxAttempts": 3,
                        "initialBackoff": "0.01s",
                        "maxBackoff": "0.2s",
                        "backoffMultiplier": 2,
                        "retryableStatusCodes": ["UNAVAILABLE"],
                    },
                }
            ]
        }
    )


def channel_options(service: str, retries: bool = True) -> list[tuple[str, str | int]]:
    keepalive: list[tuple[str, str | int]] = [
        ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
        ("grpc.keepalive_timeout_ms", KEEPALIVE_TIMEOUT_MS),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),
    ]
    if not retries:
        return [("grpc.enable_retries", 0), *keepalive]
    return [
        ("grpc.service_config", service_config(service)),
        ("grpc.enable_retries", 1),
        *keepalive,
    ]


def create_channel(
    target: str,
    service: str,
    tls: bool | grpc.ChannelCredentials = False,
    retries: bool = True,
) -> grpc.Channel:
    """A channel to ``target`` for the proto service ``service`` (e.g. llmops.v1.CostService).

    ``tls=True`` uses the system roots; pass ``grpc.ssl_channel_credentials(root, key,
    cert)`` for a private CA or mutual TLS. ``retries=False`` leaves retrying to the
    caller (the shipper, which backs off, honours RetryInfo and spools).
    """
    options = channel_options(service, retries)
    if tls is False:
        return grpc.insecure_channel(target, options=options)
    credentials = grpc.ssl_channel_credentials() if tls is True else tls
    return grpc.secure_channel(target, credentials, options=options)
