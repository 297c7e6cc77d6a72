"""GuardrailService: input and output policies: injection, PII, secrets."""
