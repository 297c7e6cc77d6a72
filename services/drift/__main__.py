"""Entry point: ``python -m services.drift``."""

from services.common.server import serve
from services.drift.servicer import SPEC

if __name__ == "__main__":
    serve(SPEC)
