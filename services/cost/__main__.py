"""Entry point: ``python -m services.cost``."""

from services.common.server import serve
from services.cost.servicer import SPEC

if __name__ == "__main__":
    serve(SPEC)
