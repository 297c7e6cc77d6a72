"""DriftService: embeddings, baselines and drift of prompt/response texts."""
