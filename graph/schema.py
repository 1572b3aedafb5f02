"""The schema as the code sees it, read once from the ontology (ontology/*.ttl) and the assertion types
(ingest/assertion_types.yaml): which classes there are and how they nest, which are stakeholders, hubs,
relationships; the most specific class of a set; labels and plurals; each relationship's roles and how it ties
stakeholders in the network. The code asks here instead of listing classes (as FollowTheMoney's model answers
`is_a` and never lists schemata); tests/test_schema.py fails when code, queries and ontology disagree.

Classes are named by their local name in the mdkg namespace (`State`, `Partnership`), which does not depend on the
base IRI (MDKG_BASE). What the ontology says for the code, beyond the class tree:
  mdkg:abstract true    every instance is also of a subclass (Stakeholder, Organisation, Instrument, Relationship):
                        never a node's kind, never a kind to count or search by
  mdkg:searchable true  its instances, and its subclasses', have names of their own that the search lists
  mdkg:group            the heading a top class is counted under (else its plural)
  mdkg:pluralLabel      the plural of rdfs:label
Tree order: top classes in the order of the ontology's owl:AllDisjointClasses axiom; under each, the general
before the specific (by depth), then by label."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import yaml
from rdflib import OWL, RDF, RDFS, SKOS, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection

from mdkg.settings import ROOT

MDKG = Namespace("https://w3id.org/mdkg/ontology#")  # as written in ontology/*.ttl
ONTOLOGY_DIR = ROOT / "ontology"
ASSERTION_TYPES = ROOT / "ingest" / "assertion_types.yaml"


@dataclass(frozen=True)
class TieRole:
    """One way a relationship ties a stakeholder (`source`, a property) to the other end (`target`)."""

    type: str  # the tie's keyword in the network (queries/network-ties.rq ?type)
    cls: str  # the relationship class
    source: str  # property local names
    target: str
    target_refers: tuple[str, ...]  # the classes the far end must belong to


class Schema:
    def __init__(self, graph: Graph, assertion_types: dict):
        self.graph = graph
        self.assertion_types = assertion_types
        self.classes = frozenset(name for c in graph.subjects(RDF.type, OWL.Class) if (name := _local(c)) is not None)
        self._parents = {
            c: frozenset(p for o in graph.objects(MDKG[c], RDFS.subClassOf) if (p := _local(o)) in self.classes)
            for c in self.classes
        }

    # -- the class tree ---------------------------------------------------------------------------------------
    def parents(self, cls: str) -> frozenset[str]:
        return self._parents.get(cls, frozenset())

    def children(self, cls: str) -> list[str]:
        return sorted((c for c in self.classes if cls in self.parents(c)), key=lambda c: (self.label(c), c))

    def ancestors(self, cls: str) -> frozenset[str]:
        """The class and every mdkg class above it."""
        return frozenset({cls}).union(*(self.ancestors(p) for p in self.parents(cls)))

    def is_a(self, cls: str, ancestor: str) -> bool:
        return ancestor in self.ancestors(cls)

    def descendants(self, cls: str) -> list[str]:
        """The class and every class below it, in tree order."""
        below = {cls}.union(*(self.descendants(c) for c in self.children(cls)))
        return sorted(below, key=lambda c: (self.depth(c), self.label(c), c))

    def depth(self, cls: str) -> int:
        return max((self.depth(p) + 1 for p in self.parents(cls)), default=0)

    @cached_property
    def top_classes(self) -> list[str]:
        """The classes of the ontology's owl:AllDisjointClasses axiom, in its order."""
        for axiom in self.graph.subjects(RDF.type, OWL.AllDisjointClasses):
            members = [_local(m) for m in Collection(self.graph, self.graph.value(axiom, OWL.members))]
            if all(m in self.classes for m in members):
                return members
        raise ValueError("the ontology has no owl:AllDisjointClasses axiom of mdkg classes")

    def is_abstract(self, cls: str) -> bool:
        return self._flag(cls, "abstract")

    def kinds(self, *roots: str) -> tuple[str, ...]:
        """The classes a thing can have as its most specific class (not abstract), under `roots` (default: every
        top class), in tree order."""
        out: list[str] = []
        for root in roots or self.top_classes:
            out += [c for c in self.descendants(root) if not self.is_abstract(c) and c not in out]
        return tuple(out)

    def most_specific(self, classes) -> str | None:
        """The deepest of `classes` (local names; others are ignored); between equals, the first in tree order
        (a node's kind: its classes include every superclass)."""
        known = [c for c in classes if c in self._specificity]
        return min(known, key=self._specificity.__getitem__) if known else None

    @cached_property
    def _specificity(self) -> dict[str, tuple]:
        order = {c: i for i, c in enumerate(self.kinds())}
        return {c: (-self.depth(c), order.get(c, len(order)), c) for c in self.classes}

    # -- groupings the code asks for --------------------------------------------------------------------------
    @cached_property
    def stakeholder_kinds(self) -> tuple[str, ...]:
        return self.kinds("Stakeholder")

    @cached_property
    def generic_stakeholder_classes(self) -> tuple[str, ...]:
        """The abstract classes under Stakeholder: a filter may name them (a node has every superclass)."""
        return tuple(c for c in self.descendants("Stakeholder") if self.is_abstract(c))

    @cached_property
    def relationship_kinds(self) -> tuple[str, ...]:
        return self.kinds("Relationship")

    @cached_property
    def hub_roots(self) -> tuple[str, ...]:
        """The top classes of what a network tie's far end may be besides a stakeholder (programmes, forums,
        agreements...: the groups that tie their members), read from the assertion types' `refers`."""
        refers = {c for t in self.ties for c in t.target_refers}
        tops = {next(a for a in self.top_classes if self.is_a(c, a)) for c in refers}
        return tuple(c for c in self.top_classes if c in tops and c != "Stakeholder")

    @cached_property
    def hub_kinds(self) -> tuple[str, ...]:
        return self.kinds(*self.hub_roots)

    @cached_property
    def searchable_kinds(self) -> tuple[str, ...]:
        return tuple(c for c in self.kinds() if any(self._flag(a, "searchable") for a in self.ancestors(c)))

    def groups(self) -> dict[str, tuple[str, ...]]:
        """Heading -> the kinds counted under it (mdkg:group of a top class, else its plural)."""
        out: dict[str, tuple[str, ...]] = {}
        for top in self.top_classes:
            group = self._text(top, MDKG.group) or self.plural(top).capitalize()
            out[group] = (*out.get(group, ()), *self.kinds(top))
        return out

    # -- words ------------------------------------------------------------------------------------------------
    def label(self, cls: str) -> str:
        return self._text(cls, RDFS.label) or self._text(cls, SKOS.prefLabel) or cls

    def plural(self, cls: str) -> str:
        return self._text(cls, MDKG.pluralLabel) or self.label(cls) + "s"

    # -- relationships ----------------------------------------------------------------------------------------
    @cached_property
    def ties(self) -> tuple[TieRole, ...]:
        """Every way a relationship ties a stakeholder to another end in the network (the assertion types'
        `network` entries), in the order of the assertion types."""
        out = []
        for spec in self.assertion_types.values():
            net = spec.get("network")
            for source, target in (net or {}).get("ties", []):
                fields = spec["fields"]
                target_spec = fields[target]
                out.append(
                    TieRole(
                        net["type"],
                        spec["class"],
                        fields[source]["property"],
                        target_spec["property"],
                        tuple(target_spec.get("refers", ())),
                    )
                )
        return tuple(out)

    def roles(self, cls: str) -> tuple[str, ...]:
        """The properties (local names) that give a relationship's participants and its controlled values."""
        spec = next(s for s in self.assertion_types.values() if s["class"] == cls)
        return tuple(f["property"] for f in spec["fields"].values() if "refers" in f or "vocabulary" in f)

    @cached_property
    def relationship_roles(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r for spec in self.assertion_types.values() for r in self.roles(spec["class"])))

    # -- helpers ----------------------------------------------------------------------------------------------
    def _text(self, cls: str, prop: URIRef) -> str | None:
        values = [o for o in self.graph.objects(MDKG[cls], prop) if isinstance(o, Literal)]
        values.sort(key=lambda o: (o.language not in ("en", None), str(o)))
        return str(values[0]) if values else None

    def _flag(self, cls: str, name: str) -> bool:
        return any(o.toPython() is True for o in self.graph.objects(MDKG[cls], MDKG[name]) if isinstance(o, Literal))


def _local(iri: object) -> str | None:
    s = str(iri)
    return s[len(MDKG) :] if isinstance(iri, URIRef) and s.startswith(str(MDKG)) else None


def load(ontology_dir: Path = ONTOLOGY_DIR, assertion_types: Path = ASSERTION_TYPES) -> Schema:
    g = Graph()
    for path in sorted(ontology_dir.glob("*.ttl")):
        g.parse(path, format="turtle")
    return Schema(g, yaml.safe_load(assertion_types.read_text(encoding="utf-8")))


@cache
def schema() -> Schema:
    """The schema of this checkout, parsed once per process."""
    return load()


# -- the tables the queries take from the schema ------------------------------------------------------------------
# A `VALUES` block whose closing brace is followed by `# schema: <name>` is written from the schema by
# `python -m graph.schema` (the .rq files stay complete for any SPARQL client); tests/test_schema.py fails when a
# file differs from what it would write.
_TABLE = re.compile(
    r"(?P<head>VALUES[ \t]*(?P<vars>\?\w+|\([^)]*\))[ \t]*\{)(?P<body>[^}]*)\}(?P<tail>[ \t]*#[ \t]*schema:[ \t]*"
    r"(?P<name>[\w -]*\w))"
)


def tables(s: Schema) -> dict[str, list[tuple[str, ...]]]:
    """Name -> rows of SPARQL terms."""
    return {
        "network nodes": [(f"mdkg:{c}",) for c in ("Stakeholder", *s.hub_roots)],
        "network relationships": [(f"mdkg:{c}",) for c in dict.fromkeys(t.cls for t in s.ties)],
        "network ties": [(f'"{t.type}"', f"mdkg:{t.cls}", f"mdkg:{t.source}", f"mdkg:{t.target}") for t in s.ties],
    }


def write_tables(text: str, s: Schema) -> str:
    """The query text with every `# schema:` table written from the schema."""
    known = tables(s)

    def fill(m: re.Match) -> str:
        rows = known.get(m["name"])
        if rows is None:
            raise ValueError(f"unknown schema table {m['name']!r}; known: {', '.join(known)}")
        one = m["vars"].startswith("?")  # one variable: a value a row, on one line if it fits
        line = f"{m['head']} {' '.join(r[0] for r in rows)} }}{m['tail']}"
        if one and len(line) <= 110:
            return line
        body = "".join(f"\n    {r[0] if one else '(' + ' '.join(r) + ')'}" for r in rows)  # under a VALUES at 2 spaces
        return f"{m['head']}{body}\n  }}{m['tail']}"

    return _TABLE.sub(fill, text)


def main() -> None:
    """Rewrite the schema tables of queries/*.rq."""
    s = schema()
    for path in sorted((ROOT / "queries").glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        new = write_tables(text, s)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
