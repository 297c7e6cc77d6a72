"""Entry point: ``python -m services.logsink``."""

from services.common.server import serve
from services.logsink.servicer import SPEC

if __name__ == "__main__":
    serve(SPEC)
