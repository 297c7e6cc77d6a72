"""Generated protobuf and gRPC modules for package llmops.v1 (produced by `make gen`)."""
