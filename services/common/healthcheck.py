"""Container health check: ``python -m services.common.healthcheck HOST:PORT [SERVICE]``.

Docker and docker-compose cannot speak gRPC, and ``grpc_health_probe`` is not in the
image, so this asks the standard ``grpc.health.v1.Health/Check`` of a running server
and exits 0 only when it answers SERVING. ``SERVICE`` is the full proto service name
(``llmops.v1.GuardrailService``); without it the server's overall status is asked.
Kubernetes needs none of this: its probes speak gRPC health natively.
"""

from __future__ import annotations

import argparse
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

EXIT_SERVING = 0
EXIT_NOT_SERVING = 1


def check(address: str, service: str = "", timeout: float = 3.0) -> bool:
    """Whether the server at ``address`` reports ``service`` as SERVING within ``timeout``."""
    with grpc.insecure_channel(address) as channel:
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
    args = parser.parse_args(argv)
    return EXIT_SERVING if check(args.address, args.service, args.timeout) else EXIT_NOT_SERVING


if __name__ == "__main__":
    sys.exit(main())
