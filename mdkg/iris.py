"""Our entity IRIs and their short ids: `{base}id/iom` <-> `iom`, `{base}id/state/MEX` <-> `state/MEX`."""

from __future__ import annotations

from mdkg.settings import Settings


def entity_id(iri: str, settings: Settings) -> str | None:
    """The part of one of our IRIs after `{base}id/`; None for any other IRI."""
    prefix = str(settings.ns.ID)
    return iri[len(prefix) :] if iri.startswith(prefix) else None


def entity_key(iri: str, settings: Settings) -> str:
    """`entity_id`, or the IRI itself when it is not one of ours (keys of network nodes, search hits)."""
    key = entity_id(iri, settings)
    return iri if key is None else key
