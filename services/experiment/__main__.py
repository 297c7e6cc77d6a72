"""Entry point: ``python -m services.experiment``."""

from services.common.server import serve
from services.experiment.servicer import SPEC

if __name__ == "__main__":
    serve(SPEC)
