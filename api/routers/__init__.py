"""The HTTP routes, one module per concern; none imports another (tests/test_api_layers.py). What they share is
a layer down: api.render, api.errors, api.state, api.store, api.paths, api.problems, and graph/."""
