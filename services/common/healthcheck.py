"""Container health check: ``python -m services.common.healthcheck HOST:PORT [SERVICE]``.

Docker and docker-compose cannot speak gRPC, and ``grpc_health_probe`` is not in the
image, so this asks the standard ``grpc.health.v1.Health/Check`` of a running server
and exits 0 only when it answers SERVING. ``SERVICE`` is the full proto service name
(``llmops.v1.GuardrailService``); without it the server's overall status is asked.
With ``--ca`` it speaks TLS (and mutual TLS with ``--cert``/``--key``), which
Kubernetes' built-in gRPC probes cannot: use it as an ``exec`` probe then.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

EXIT_SERVING = 0
EXIT_NOT_SERVING = 1


def check(
    address: str,
    service: str = "",
    timeout: float = 3.0,
    credentials: grpc.ChannelCredentials | None = None,
    server_name: str | None = None,
) -> bool:
    """Whether the server at ``address`` reports ``service`` as SERVING within ``timeout``.

    ``server_name`` is the name the server's certificate must carry, when it differs
    from the host in ``address`` (a probe dials 127.0.0.1 but the certificate names
    the Service).
    """
    if credentials is None:
        channel = grpc.insecure_channel(address)
    else:
        options = [("grpc.ssl_target_name_override", server_name)] if server_name else []
        channel = grpc.secure_channel(address, credentials, options=options)
    with channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.RpcError:
            return False
    return bool(response.status == health_pb2.HealthCheckResponse.SERVING)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("address", help="host:port of the gRPC server")
    parser.add_argument("service", nargs="?", default="", help="full proto service name")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds to wait")
    parser.add_argument("--ca", type=Path, help="CA bundle (PEM): use TLS, trusting this CA")
    parser.add_argument("--cert", type=Path, help="client certificate (PEM) for mutual TLS")
    parser.add_argument("--key", type=Path, help="client private key (PEM) for mutual TLS")
    parser.add_argument("--server-name", help="name the server certificate must carry")
    args = parser.parse_args(argv)
    if (args.cert is None) != (args.key is None):
        parser.error("--cert and --key go together")
    credentials = None
    if args.ca is not None:
        credentials = grpc.ssl_channel_credentials(
            root_certificates=args.ca.read_bytes(),
            private_key=args.key.read_bytes() if args.key else None,
            certificate_chain=args.cert.read_bytes() if args.cert else None,
        )
    serving = check(args.address, args.service, args.timeout, credentials, args.server_name)
    return EXIT_SERVING if serving else EXIT_NOT_SERVING


if __name__ == "__main__":
    sys.exit(main())
