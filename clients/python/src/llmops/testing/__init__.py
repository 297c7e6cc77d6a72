"""Test helpers that ship with the client: a local OpenAI-compatible server."""
