"""graph/schema.py against the ontology, the assertion types, the queries, the code and the real build: each
fails when one of them says something the others do not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import OWL, RDF, RDFS

from graph import gaps
from graph import network as nw
from graph.schema import MDKG, schema, write_tables
from mdkg.settings import ROOT, Settings

S = schema()
SETTINGS = Settings()  # plain defaults: the default base IRI
M = str(SETTINGS.ns.MDKG)


@pytest.fixture(scope="module")
def store(built_dataset: Path):
    return gaps.load_store(built_dataset)


def _classes_by_node(store) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    q = f'SELECT ?s ?c WHERE {{ ?s a ?c FILTER(STRSTARTS(STR(?c), "{M}")) }}'
    for r in store.query(q, use_default_graph_as_union=True):
        out.setdefault(r["s"].value, set()).add(r["c"].value[len(M) :])
    return out


# -- the schema against the ontology and the assertion types --------------------------------------------------
def test_the_class_tree():
    assert S.is_a("DiasporaOrganisation", "Stakeholder") and S.is_a("Meeting", "Process")
    assert not S.is_a("Person", "Stakeholder") and not S.is_a("Survey", "Process")
    assert S.most_specific({"Stakeholder", "Organisation", "GovernmentAgency"}) == "GovernmentAgency"
    assert S.most_specific({"Process", "Meeting"}) == "Meeting" and S.most_specific({"prov:Entity"}) is None
    assert S.stakeholder_kinds[0] == "State" and "Organisation" not in S.stakeholder_kinds
    assert set(S.generic_stakeholder_classes) == {"Stakeholder", "Organisation"}
    assert S.hub_roots == ("Instrument", "Process")
    assert (S.label("GovernmentAgency"), S.plural("GovernmentAgency"), S.plural("Person")) == (
        "government agency",
        "government agencies",
        "people",
    )


def test_every_class_has_a_plural_and_the_top_classes_cover_the_kinds():
    assert [c for c in S.classes if S.graph.value(MDKG[c], MDKG.pluralLabel) is None] == []
    grouped = [k for kinds in S.groups().values() for k in kinds]
    assert sorted(grouped) == sorted(S.kinds()) and len(grouped) == len(set(grouped))
    assert list(S.groups()) == ["Stakeholders", "Instruments and processes", "Relationships", "Sources and records"]
    # the top classes are the roots of the tree (nothing above them in mdkg) and pairwise unrelated
    assert all(not S.parents(c) for c in S.top_classes)


def test_abstract_classes_are_covered_by_their_subclasses():
    for c in S.classes:
        if S.is_abstract(c):
            assert S.children(c), c
    assert {c for c in S.classes if S.is_abstract(c)} == {"Stakeholder", "Organisation", "Instrument", "Relationship"}


def test_every_assertion_type_names_ontology_terms():
    g = S.graph
    for name, spec in S.assertion_types.items():
        cls = spec["class"]
        assert cls in S.relationship_kinds, (name, cls)
        for field, rule in spec["fields"].items():
            if "property" not in rule:
                continue
            prop = MDKG[rule["property"]]
            kinds = set(g.objects(prop, RDF.type))
            assert kinds & {OWL.ObjectProperty, OWL.DatatypeProperty}, (name, field)
            domains = _members(g, g.value(prop, RDFS.domain))  # none: a property of several types
            assert not domains or any(S.is_a(cls, d) for d in domains), (name, field, domains)
            for ref in rule.get("refers", []):
                assert ref in S.classes, (name, field, ref)


def _members(g, node) -> set[str]:
    """A class, or the members of an owl:unionOf, as mdkg local names."""
    from rdflib.collection import Collection

    union = g.value(node, OWL.unionOf)
    nodes = list(Collection(g, union)) if union is not None else [node]
    return {str(n)[len(str(MDKG)) :] for n in nodes if str(n).startswith(str(MDKG))}


def test_network_ties_come_from_the_assertion_types():
    assert {t.type for t in S.ties} == {
        "partnership",
        "agreement",
        "implementation",
        "participation",
        "membership",
        "funding",
        "survey",
    }
    for t in S.ties:
        spec = next(s for s in S.assertion_types.values() if s["class"] == t.cls)
        source = next(f for f in spec["fields"].values() if f.get("property") == t.source)
        assert source["refers"] == ["Stakeholder"] or "Stakeholder" in source["refers"], t
    # every tie type is a relation kind of the network, or split into two by the far end (programme or forum)
    assert {t.type for t in S.ties} - set(nw.RELATION_KINDS) == {"implementation", "participation"}


# -- the queries' schema tables are the schema's ---------------------------------------------------------------
@pytest.mark.parametrize("path", sorted((ROOT / "queries").glob("*.rq")), ids=lambda p: p.name)
def test_query_tables_are_written_from_the_schema(path):
    text = path.read_text(encoding="utf-8")
    assert write_tables(text, S) == text, f"run: python -m graph.schema ({path.name} differs)"


def test_an_unknown_table_is_an_error():
    with pytest.raises(ValueError, match="unknown schema table 'nodes'"):
        write_tables("VALUES ?x { }  # schema: nodes", S)


# -- the schema against the real build -------------------------------------------------------------------------
def test_every_class_the_build_writes_is_in_the_ontology(store):
    classes = set().union(*_classes_by_node(store).values())
    assert classes <= S.classes, classes - S.classes


def test_kinds_are_what_the_build_produces(store):
    kinds = {S.most_specific(c) for c in _classes_by_node(store).values()}
    assert not {k for k in kinds if S.is_abstract(k)}  # nothing is only a Stakeholder, an Instrument...
    stakeholders = {S.most_specific(c) for c in _classes_by_node(store).values() if "Stakeholder" in c}
    assert stakeholders == set(S.stakeholder_kinds)
    assert all(S.is_a(k, "Stakeholder") for k in S.stakeholder_kinds)
    relationships = {S.most_specific(c) for c in _classes_by_node(store).values() if "Relationship" in c}
    assert relationships <= set(S.relationship_kinds) and "Partnership" in relationships
    # the things with names of their own (registry entities, states, documents) are what the search finds
    named = kinds & set(S.kinds()) - set(S.relationship_kinds) - {"Passage", "Mention", "TreatyAction"}
    assert named == set(S.searchable_kinds)


def test_network_ties_cover_every_relationship_that_ties_a_stakeholder(store):
    rows = gaps.select(store, "network-ties", SETTINGS)
    for t in S.ties:
        q = f"""SELECT DISTINCT ?rel WHERE {{ ?rel a <{M}{t.cls}> ; <{M}{t.source}> ?s ; <{M}{t.target}> ?o .
                ?s a <{M}Stakeholder> FILTER(?s != ?o) }}"""
        expected = {r["rel"].value for r in store.query(q, use_default_graph_as_union=True)}
        answered = {r["rel"] for r in rows if r["type"] == t.type and r["rel"] in expected}
        assert expected and answered == expected, t
    assert {r["type"] for r in rows} == {t.type for t in S.ties}


def test_node_kinds_of_the_network_are_the_schema_kinds(store):
    data = nw.load_network_data(store, SETTINGS, comentions=False)
    kinds = {n["kind"] for n in data.nodes.values()}
    assert kinds <= set(S.stakeholder_kinds) | set(S.hub_kinds)
    assert {n["kind"] for n in data.nodes.values() if n["stakeholder"]} == set(S.stakeholder_kinds)
    hubs = {data.nodes[t.o]["kind"] for t in data.ties if not t.direct}
    assert hubs <= set(S.hub_kinds) and {"Programme", "Process", "Agreement", "Survey"} <= hubs


# -- no class list restated in code -----------------------------------------------------------------------------
# (this file states what the build must give, so it is left out)
CODE = [
    p
    for d in ("api", "graph", "ingest", "mdkg", "bench", "tests")
    for p in (ROOT / d).rglob("*")
    if p.suffix in (".py", ".js") and "vendor" not in p.parts and p.name != "test_schema.py"
]
_QUOTED_RUN = re.compile(r"""(?:["'](\w+)["']\s*(?::\s*["'][^"']*["'])?\s*,\s*){3,}["'](\w+)["']""")


@pytest.mark.parametrize("path", CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_class_list_is_written_out_in_code(path):
    """Four or more class names in a row (a tuple, a list, the keys of a mapping) restate the ontology."""
    text = path.read_text(encoding="utf-8")
    for m in _QUOTED_RUN.finditer(text):
        names = set(re.findall(r"""["'](\w+)["']""", m.group(0)))
        listed = names & S.classes
        assert len(listed) < 4, f"{path.relative_to(ROOT)}: {sorted(listed)}: ask graph.schema instead"
