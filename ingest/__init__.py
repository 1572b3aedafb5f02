"""Seeds -> triples. One module per stage: documents, registry, mentions, assertions, emit, validate; build runs them."""
