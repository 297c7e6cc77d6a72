"""Entry point: ``python -m services.guardrail``."""

from services.common.server import serve
from services.guardrail.servicer import SPEC

if __name__ == "__main__":
    serve(SPEC)
