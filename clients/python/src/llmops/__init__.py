"""Python client for the llmops gRPC services.

Three lines monitor an OpenAI-style app::

    mon = llmops.Monitor(guardrail="localhost:50051", logsink="localhost:50055")
    client = mon.wrap(openai.OpenAI())
    client.chat.completions.create(model="gpt-4o-mini", messages=[...])

The generated stubs live in :mod:`llmops.v1`.
"""

from llmops.errors import BudgetExceeded, GuardrailBlocked, GuardUnavailable, LLMOpsError
from llmops.monitor import Monitor
from llmops.shipper import Shipper

__all__ = [
    "BudgetExceeded",
    "GuardUnavailable",
    "GuardrailBlocked",
    "LLMOpsError",
    "Monitor",
    "Shipper",
]
