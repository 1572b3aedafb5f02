"""Queries over the built graph: the store, ratification gaps, network analysis."""
