"""Python client for the llmops gRPC services."""
