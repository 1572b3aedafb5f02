"""Seeds -> triples, one module per stage: documents, registry, mentions, assertions, treaties, states, emit,
validate; `build` runs them in order."""
