"""LogSinkService: durable call-record ingestion, queries, LLM metrics."""
