"""CostService: token counts, prices, budgets, spend, reconciliation."""
