"""What every llmops service shares: bootstrap, settings, storage, errors."""
