"""ExperimentService: deterministic variant assignment, outcomes, results."""
