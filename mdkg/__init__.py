"""mdkg: a linked-data knowledge graph of the migration-and-development field."""

__version__ = "0.1.0"
