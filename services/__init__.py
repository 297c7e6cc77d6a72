"""The llmops gRPC services; each subpackage runs as its own process."""
