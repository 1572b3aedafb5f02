"""The SHACL shapes: a valid fixture conforms, each mutation is caught by the shape it targets, every NodeShape
is exercised, and the real built graph conforms."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from rdflib import Graph, URIRef

from ingest.ontology import load_ontology
from ingest.validate import load_shapes, validate
from mdkg.settings import Settings

SETTINGS = Settings()  # plain defaults: this checkout's seeds and queries, the default base IRI

FIXTURES = Path(__file__).parent / "fixtures" / "shapes"
SHAPE = "https://w3id.org/mdkg/shapes#"
MUTATIONS = yaml.safe_load((FIXTURES / "mutations.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def env():
    ontology = load_ontology(SETTINGS.ontology_dir, SETTINGS.ns.base)
    shapes = load_shapes(SETTINGS.shapes_dir, SETTINGS.ns.base)
    valid = Graph().parse(FIXTURES / "valid.ttl")
    return ontology.graph, shapes, valid


def _term(g: Graph, text: str):
    prefix, local = text.split(":", 1)
    return URIRef(dict(g.namespaces())[prefix] + local)


def _expand(g: Graph, turtle: str) -> str:
    """Prefixed names with slashes (id:rel/p) are not Turtle; write them as full IRIs."""
    namespaces = dict(g.namespaces())
    return re.sub(r"(?<![\w<])(id|st):([\w/.-]*[\w])", lambda m: f"<{namespaces[m[1]]}{m[2]}>", turtle)


def _mutate(valid: Graph, case: dict) -> Graph:
    g = Graph()
    for prefix, ns in valid.namespaces():
        g.bind(prefix, ns)
    g += valid
    for spec in case.get("remove", []):
        s, p, o = spec.split(" ", 2)
        pattern = (_term(g, s), _term(g, p), None if o == "*" else _term(g, o))
        assert any(True for _ in g.triples(pattern)), f"fixture lacks {spec}"
        g.remove(pattern)
    if case.get("add"):
        prefixes = "".join(f"@prefix {p}: <{n}> .\n" for p, n in valid.namespaces())
        prefixes += "@prefix shape: <https://w3id.org/mdkg/shapes#> .\n"
        g.parse(data=prefixes + _expand(g, case["add"]), format="turtle")
    return g


def test_the_valid_fixture_conforms(env):
    ontology, shapes, valid = env
    assert validate(valid, shapes, ontology) == []


@pytest.mark.parametrize("case", MUTATIONS, ids=lambda c: f"{c['shape']}-{c.get('add') or c.get('remove')}"[:70])
def test_each_mutation_is_a_violation_of_its_shape(env, case):
    ontology, shapes, valid = env
    findings = [f for f in validate(_mutate(valid, case), shapes, ontology) if f.severity == "Violation"]
    focus = str(_term(valid, case["focus"])) if not case["focus"].startswith("shape:") \
        else SHAPE + case["focus"][6:]
    hits = [f for f in findings if f.focus == f"<{focus}>"]
    assert hits, f"no violation on {focus}; got {[str(f) for f in findings]}"
    assert all(f.message for f in hits)


def test_every_node_shape_has_a_failing_example(env):
    _, shapes, _ = env
    from rdflib import RDF
    from rdflib.namespace import SH
    names = {str(s)[len(SHAPE):] for s in shapes.subjects(RDF.type, SH.NodeShape)}
    assert names - {c["shape"] for c in MUTATIONS} <= {"Theme"}  # Theme only checks node kind, as RDF does


def test_the_built_graph_conforms_and_reports_are_written(built):
    assert not [f for f in built.findings if f.severity == "Violation"]
    assert (built.folder / "report" / "shacl.txt").exists()
