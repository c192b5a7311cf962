"""Coordinator pages: statewide capacity, matcher runs and unmet need."""
