"""Stage 5: everything checked so far -> an RDF dataset with one named graph per source and PROV-O on every
curated assertion. Names of classes and properties come from the ontology (docs/data-model.md)."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable

from rdflib import DCTERMS, FOAF, OWL, RDF, RDFS, SKOS, XSD, Dataset, Graph, Literal, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

from ingest import ids, links, treaties
from ingest import states as state_reference
from ingest.assertions import Assertion, assertion_types
from ingest.dates import parse_partial_date
from ingest.documents import Document
from ingest.mentions import Mention
from ingest.ontology import Ontology
from ingest.registry import Entity, Registry
from mdkg.settings import PROV, Settings

ORG = "http://www.w3.org/ns/org#"
WIKIDATA = "http://www.wikidata.org/entity/"


class Emitter:
    def __init__(self, settings: Settings, ontology: Ontology, registry: Registry,
                 passage_ids: dict[tuple[str, int], str] | None = None):
        self.settings, self.ns, self.ontology, self.registry = settings, settings.ns, ontology, registry
        self.passage_ids = passage_ids or {}
        self.M = self.ns.MDKG
        self.curators = self.ns.ID["agent/curators"]
        self.build_activity = self.ns.ID["activity/build"]
        self.mention_activity = self.ns.ID["activity/mention-detection"]
        self._types: dict[str, list[URIRef]] = {}

    def passage(self, doc_id: str, n: int) -> URIRef:
        """A passage's IRI: its kept id (ingest/ids.py), not its ordinal."""
        return self.ns.ID[f"doc/{doc_id}/{self.passage_ids.get((doc_id, n), f'p{n}')}"]

    def ref(self, ref: str) -> URIRef:
        return self.ns.state(ref) if self.registry.kind_of(ref) == "State" else self.ns.entity(ref)

    def types(self, kind: str) -> list[URIRef]:
        """The class and every named superclass: shapes run without inference and rely on these."""
        if kind not in self._types:
            self._types[kind] = sorted(self.ontology.superclasses(kind))
        return self._types[kind]

    def typed(self, g: Graph, node: URIRef, kind: str) -> None:
        for cls in self.types(kind):
            g.add((node, RDF.type, cls))

    # -- registry --------------------------------------------------------------------------------------
    def registry_graph(self, g: Graph) -> None:
        for entity in self.registry.entities.values():
            self.entity(g, entity)
        for iso3, names in self.registry.state_names.items():
            node = self.ns.state(iso3)
            preferred = self.registry.states[iso3].name
            for alias in names.aliases:
                if alias != preferred:  # SKOS S13: a label is preferred or alternative, never both
                    g.add((node, SKOS.altLabel, Literal(alias, lang="en")))
            for demonym in names.demonyms:
                g.add((node, self.M.demonym, Literal(demonym, lang="en")))
            if names.wikidata:
                g.add((node, OWL.sameAs, URIRef(WIKIDATA + names.wikidata)))

    def entity(self, g: Graph, e: Entity) -> None:
        node = self.ns.entity(e.id)
        self.typed(g, node, e.kind)
        g.add((node, RDFS.label, Literal(e.name, lang="en")))
        g.add((node, SKOS.prefLabel, Literal(e.name, lang="en")))
        g.add((node, DCTERMS.identifier, Literal(e.id)))
        for alias in e.aliases:
            if alias != e.name:  # SKOS S13: the seed lists the name among the forms to detect; not an altLabel
                g.add((node, SKOS.altLabel, Literal(alias, lang="en")))
        for acronym in e.acronyms:
            g.add((node, self.M.acronym, Literal(acronym)))
        if e.state:
            g.add((node, self.M.basedIn, self.ns.state(e.state)))
        if e.part_of:
            parent = self.registry.entities[e.part_of]
            both_orgs = self.ontology.is_a(e.kind, "Organisation") and self.ontology.is_a(parent.kind, "Organisation")
            g.add((node, URIRef(ORG + "subOrganizationOf") if both_orgs else DCTERMS.isPartOf,
                   self.ns.entity(e.part_of)))
        for theme in e.themes:
            g.add((node, self.M.theme, self.ns.theme(theme)))
        if e.date is not None:
            g.add((node, DCTERMS.date, parse_partial_date(e.date)))
        if e.place:
            g.add((node, self.M.place, Literal(e.place)))
        if e.note:  # a note about the curation, not a description of the thing
            g.add((node, SKOS.editorialNote, Literal(e.note, lang="en")))
        if e.wikidata:
            g.add((node, OWL.sameAs, URIRef(WIKIDATA + e.wikidata)))

    # -- documents -------------------------------------------------------------------------------------
    def document(self, g: Graph, doc: Document, mentions: Iterable[Mention], theme_matcher: ThemeMatcher) -> None:
        node, meta = self.ns.doc(doc.id), doc.meta
        self.typed(g, node, "Document")
        g.add((node, DCTERMS.identifier, Literal(doc.id)))
        g.add((node, DCTERMS.title, Literal(meta["title"], lang="en")))
        g.add((node, RDFS.label, Literal(meta["title"], lang="en")))
        g.add((node, self.M.sha256, Literal(doc.sha256)))
        g.add((node, self.M.sourceFile, Literal(doc.path.name)))
        for creator in meta.get("creators") or []:
            g.add((node, DCTERMS.creator, self._agent(creator)))
        if meta.get("publisher"):
            g.add((node, DCTERMS.publisher, self._agent(meta["publisher"])))
        if meta.get("date") is not None:
            g.add((node, DCTERMS.date, parse_partial_date(meta["date"])))
        if meta.get("place"):
            g.add((node, self.M.place, Literal(meta["place"])))
        if meta.get("kind"):
            g.add((node, DCTERMS.type, Literal(meta["kind"], lang="en")))
        for p in doc.passages:
            pn = self.passage(doc.id, p.n)
            g.add((pn, RDF.type, self.M.Passage))
            g.add((pn, RDFS.label, Literal(f"{doc.id} ¶{p.n}")))
            g.add((pn, DCTERMS.isPartOf, node))
            g.add((pn, self.M.ordinal, Literal(p.n)))
            g.add((pn, self.M.startLine, Literal(p.start_line)))
            g.add((pn, self.M.endLine, Literal(p.end_line)))
            g.add((pn, self.M.text, Literal(p.text)))
            for theme in theme_matcher.themes_in(p.text):
                g.add((pn, self.M.theme, self.ns.theme(theme)))
        for m in mentions:
            pn = self.passage(doc.id, m.passage.n)
            mn = URIRef(f"{pn}/m{m.start}-{m.end}")
            target = self.ref(m.ref)
            g.add((mn, RDF.type, self.M.Mention))
            g.add((mn, self.M.inPassage, pn))
            g.add((mn, self.M.mentionOf, target))
            g.add((mn, self.M.start, Literal(m.start)))
            g.add((mn, self.M.end, Literal(m.end)))
            g.add((mn, self.M.surfaceForm, Literal(m.surface)))
            g.add((mn, PROV.wasGeneratedBy, self.mention_activity))
            g.add((pn, self.M.mentions, target))

    def _agent(self, value: str) -> URIRef | Literal:
        return self.ref(value) if self.registry.kind_of(str(value)) else Literal(str(value))

    # -- curated assertions ----------------------------------------------------------------------------
    def assertion(self, g: Graph, a: Assertion) -> None:
        spec = a.spec
        node = self.ns.ID[f"rel/{a.key}"]
        self.typed(g, node, spec["class"])
        labels = []
        for name, rule in spec["fields"].items():
            value = a.values.get(name)
            if value is None or "roles_of" in rule:
                continue
            prop = self.M[rule["property"]]
            if rule.get("vocabulary"):
                g.add((node, prop, self.ns.ID[f"{rule['vocabulary']}/{value}"]))
            elif rule.get("literal"):
                g.add((node, prop, Literal(value, lang="en")))
            elif rule.get("date"):
                g.add((node, prop, value))  # already a typed literal: xsd:date, xsd:gYearMonth or xsd:gYear
            elif rule.get("integer"):
                g.add((node, prop, Literal(value, datatype=XSD.integer)))
            else:
                for ref in value if isinstance(value, list) else [value]:
                    g.add((node, prop, self.ref(ref)))
                    labels.append(self._label(ref))
        for name, rule in spec["fields"].items():
            for ref, role in (a.values.get(name) or {}).items() if "roles_of" in rule else ():
                role_node = URIRef(f"{node}/role/{ref}")
                g.add((node, self.M.hasRole, role_node))
                g.add((role_node, RDF.type, self.M.PartnerRole))
                g.add((role_node, self.M.agent, self.ref(ref)))
                g.add((role_node, self.M.roleLabel, Literal(role, lang="en")))
        self._shortcut(g, a, spec.get("shortcut"))
        g.add((node, RDFS.label, Literal(f"{_words(spec['class'])}: {' – '.join(labels)}", lang="en")))
        g.add((node, self.M.quote, Literal(" ".join(a.quote.split()), lang="en")))
        for p in a.passages:
            g.add((node, PROV.wasDerivedFrom, self.passage(a.doc.id, p.n)))
        g.add((node, DCTERMS.source, self.ns.doc(a.doc.id)))
        g.add((node, PROV.wasAttributedTo, self.curators))
        g.add((node, PROV.wasGeneratedBy, self.build_activity))
        if a.start is not None:
            g.add((node, self.M.startDate, a.start))
        if a.end is not None:
            g.add((node, self.M.endDate, a.end))
        for theme in a.themes:
            g.add((node, self.M.theme, self.ns.theme(theme)))
        if a.note:
            g.add((node, SKOS.editorialNote, Literal(a.note, lang="en")))

    def _shortcut(self, g: Graph, a: Assertion, rule: dict | None) -> None:
        if not rule:
            return
        prop = self.M[rule["property"]]
        if "pairs" in rule:
            for x, y in itertools.permutations(a.values[rule["pairs"]], 2):
                g.add((self.ref(x), prop, self.ref(y)))
        else:
            g.add((self.ref(a.values[rule["from"]]), prop, self.ref(a.values[rule["to"]])))

    def _label(self, ref: str) -> str:
        if ref in self.registry.entities:
            e = self.registry.entities[ref]
            return e.acronyms[0] if e.acronyms else e.name
        return self.registry.states[ref].name

    # -- build provenance ------------------------------------------------------------------------------
    def build_graph(self, g: Graph, docs: list[Document], started: dt.datetime, graphs: Iterable[URIRef]) -> None:
        g.add((self.build_activity, RDF.type, PROV.Activity))
        g.add((self.build_activity, RDFS.label, Literal("mdkg build", lang="en")))
        g.add((self.build_activity, PROV.startedAtTime, Literal(started.isoformat(), datatype=XSD.dateTime)))
        g.add((self.build_activity, PROV.wasAssociatedWith, self.curators))
        g.add((self.mention_activity, RDF.type, PROV.Activity))
        g.add((self.mention_activity, RDFS.label, Literal("automatic mention detection", lang="en")))
        g.add((self.mention_activity, PROV.wasInformedBy, self.build_activity))
        g.add((self.curators, RDF.type, PROV.Agent))
        g.add((self.curators, RDF.type, FOAF.Organization))
        g.add((self.curators, RDFS.label, Literal("mdkg curators", lang="en")))
        for doc in docs:
            g.add((self.build_activity, PROV.used, self.ns.doc(doc.id)))
        for graph_iri in graphs:
            g.add((graph_iri, PROV.wasGeneratedBy, self.build_activity))


class ThemeMatcher:
    """Tags passages with the themes whose labels (ontology/themes.ttl) occur in them, case-insensitively."""

    def __init__(self, ontology: Ontology):
        scheme_prefix = ontology.namespace.replace("ontology#", "id/theme/")
        patterns = {}
        for concept in ontology.graph.subjects(RDF.type, SKOS.Concept):
            if not str(concept).startswith(scheme_prefix):
                continue
            labels = [str(o) for p in (SKOS.prefLabel, SKOS.altLabel) for o in ontology.graph.objects(concept, p)]
            if labels:
                body = "|".join(re.escape(x) for x in sorted(labels, key=len, reverse=True))
                patterns[str(concept)[len(scheme_prefix):]] = re.compile(rf"\b(?:{body})\b", re.IGNORECASE)
        self.patterns = patterns

    def themes_in(self, text: str) -> list[str]:
        return [slug for slug, pattern in self.patterns.items() if pattern.search(text)]


def _words(class_name: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", class_name)


def emit_dataset(settings: Settings, ontology: Ontology, docs: list[Document], registry: Registry,
                 mentions: list[Mention], assertions: list[Assertion], started: dt.datetime) -> Dataset:
    ns = settings.ns
    ds = Dataset()
    id_folder = settings.seeds / "ids"
    ids.check_relationships(id_folder, assertions)
    emitter = Emitter(settings, ontology, registry, ids.passage_ids(id_folder, docs))
    ontology_graph = ds.graph(ns.graph("ontology"))
    for triple in ontology.graph:
        ontology_graph.add(triple)
    emitter.registry_graph(ds.graph(ns.graph("registry")))
    state_reference.emit(ds, settings)
    treaties.emit(ds, settings)
    links.emit(ds, settings)
    themes = ThemeMatcher(ontology)
    by_doc: dict[str, list[Mention]] = {}
    for m in mentions:
        by_doc.setdefault(m.passage.doc_id, []).append(m)
    for doc in docs:
        emitter.document(ds.graph(ns.graph(f"doc/{doc.id}")), doc, by_doc.get(doc.id, []), themes)
    for a in assertions:
        emitter.assertion(ds.graph(ns.graph(f"doc/{a.doc.id}")), a)
    graphs = [c.identifier for c in ds.graphs()
              if isinstance(c.identifier, URIRef) and c.identifier != DATASET_DEFAULT_GRAPH_ID]
    emitter.build_graph(ds.graph(ns.graph("build")), docs, started, [*graphs, ns.graph("build")])
    assert set(assertion_types())  # the type table is loaded once and shared with the assertions stage
    return ds
