"""HTTP layer: SPARQL facade, linked-data pages and REST routers."""
