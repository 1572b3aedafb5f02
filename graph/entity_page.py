"""Everything an entity's page (`/id/...`) and its REST answer (`/api/entities/{id}`) show, gathered in one call
that runs inside a query worker (api.store.call): the facts, the things pointing at it, its passage text, the
figures about it and, for a state, its treaties. One trip to the worker per page, whatever the number of
queries."""

from __future__ import annotations

from dataclasses import dataclass

from graph import entities as E
from graph import figures as FG
from graph import gaps as G
from graph.in_worker import once
from mdkg.settings import Settings


@dataclass
class EntityPage:
    entity: E.Entity
    incoming: list[tuple[str, str, str]]  # (predicate, subject, label), at most the limit asked for
    passage: E.Passage | None = None  # the text, when the entity is a passage
    figures: list[FG.Figure] | None = None  # None: the figures query failed (the page leaves the section out)
    treaties: G.StateTreaties | None = None  # a state's status under every instrument


def described(store, subject: str, incoming_limit: int, settings: Settings) -> EntityPage | None:
    """The facts and the incoming links only (what /api/entities/{id} answers)."""
    entity = E.describe(store, subject, settings)
    if entity is None:
        return None
    incoming = E.incoming(store, subject, incoming_limit, settings=settings) if entity.inverse_counts else []
    return EntityPage(entity, incoming)


def entity_page(store, subject: str, incoming_limit: int, settings: Settings) -> EntityPage | None:
    page = described(store, subject, incoming_limit, settings)
    if page is None:
        return None
    ident = subject.removeprefix(str(settings.ns.ID)) if subject.startswith(str(settings.ns.ID)) else ""
    if page.entity.kind == "Passage":
        doc, _, n = ident.removeprefix("doc/").rpartition("/p")
        if n.isdigit():
            page.passage = E.passage(store, doc, int(n), settings)
    try:  # the figures are an extra: a failing query leaves the section out rather than fail the page
        page.figures = FG.about(store, subject, settings, pointed_by=page.entity.inverse_counts)
    except Exception:  # noqa: BLE001 - any store error
        page.figures = None
    if page.entity.kind == "State" and ident.startswith("state/"):
        infos = once(G.instruments, store, settings)
        page.treaties = G.state_treaties(store, ident.removeprefix("state/"), None, infos, settings=settings)
    return page


def inverse_listing(
    store, subject: str, predicate: str, page: int, per_page: int, settings: Settings
) -> tuple[dict[str, str], int, list[tuple[str, str]]]:
    """One page of the subjects pointing at `subject` through `predicate`: the two names, the count, the page."""
    names = E.labels(store, [subject, predicate], settings)
    q = (
        f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ ?x {E.iri(predicate)} {E.iri(subject)} "
        "FILTER NOT EXISTS { ?x a mdkg:Relationship } }"
    )
    count = E._int(E._rows(store, q, settings)[0]["n"])
    return names, count, E.inverse_page(store, subject, predicate, page, per_page, settings=settings)
