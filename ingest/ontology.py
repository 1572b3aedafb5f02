"""The ontology as the ingest sees it: class names and the subclass closure, read from ontology/*.ttl."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rdflib import OWL, RDF, RDFS, SKOS, Graph, URIRef

from graph.schema import schema
from mdkg.settings import Namespaces

# The registry lists the named things of the ontology (graph.schema's searchable kinds) but states, which come
# from the ISO reference set, and documents, which come from the catalogue.
NOT_IN_REGISTRY = {"State", "Document"}


@dataclass(frozen=True)
class Ontology:
    graph: Graph
    namespace: str

    def iri(self, local: str) -> URIRef:
        return URIRef(self.namespace + local)

    @property
    def classes(self) -> set[str]:
        return {self.local(c) for c in self.graph.subjects(RDF.type, OWL.Class) if self.local(c)}

    def local(self, iri: object) -> str | None:
        s = str(iri)
        return s[len(self.namespace):] if s.startswith(self.namespace) else None

    def superclasses(self, local: str) -> set[URIRef]:
        """The class and all its named superclasses (any namespace), transitively."""
        return _closure(self.graph, self.iri(local))

    def is_a(self, local: str, parent: str) -> bool:
        return self.iri(parent) in self.superclasses(local)

    def concepts(self, vocabulary: str) -> set[str]:
        """Slugs of the SKOS concepts minted under {base}id/{vocabulary}/ (themes, action-kind, ...)."""
        prefix = self.namespace.replace("ontology#", f"id/{vocabulary}/")
        return {str(c)[len(prefix):] for c in self.graph.subjects(RDF.type, SKOS.Concept)
                if str(c).startswith(prefix)}

    def registry_kinds(self) -> set[str]:
        return (set(schema().searchable_kinds) - NOT_IN_REGISTRY) & self.classes


def _closure(graph: Graph, cls: URIRef) -> set[URIRef]:
    seen, todo = set(), [cls]
    while todo:
        c = todo.pop()
        if c in seen or not isinstance(c, URIRef):
            continue
        seen.add(c)
        todo.extend(graph.objects(c, RDFS.subClassOf))
        todo.extend(graph.objects(c, OWL.equivalentClass))
    return seen


def parse_rebased(paths: list[Path], base: str) -> Graph:
    """Parse Turtle files written against the default base, moved to `base` (MDKG_BASE) if it differs."""
    g = Graph()
    for path in paths:
        text = Namespaces(base).moved(path.read_text(encoding="utf-8"))
        g.parse(data=text, format="turtle", publicID=path.as_uri())
    return g


@lru_cache(maxsize=4)
def load_ontology(folder: Path, base: str) -> Ontology:
    return Ontology(parse_rebased(sorted(folder.glob("*.ttl")), base), base + "ontology#")
