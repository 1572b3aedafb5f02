"""Dereferenceable IRIs on a live server: same-IRI content negotiation for entities, the ontology and the
shapes (HTML, Turtle, JSON-LD, N-Triples, RDF/XML), explicit extensions, 404/406, and paged inverse relations."""

from __future__ import annotations

import re
from html import escape

import httpx
import pytest
from rdflib import OWL, RDF, RDFS, SKOS, Graph, Literal, Namespace, URIRef
from test_pages import live_server

from api import formats as F
from api.paths import Paths
from mdkg.settings import Settings

SETTINGS = Settings()  # plain defaults: this checkout's seeds and queries, the default base IRI

LD = Paths(SETTINGS.ns.base)  # IRI <-> path

ID = Namespace(SETTINGS.ns.base + "id/")
MDKG = Namespace(SETTINGS.ns.base + "ontology#")
SH = Namespace("http://www.w3.org/ns/shacl#")
RDF_TYPES = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
}
EXTENSIONS = {
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
    "nt": "application/n-triples",
    "rdf": "application/rdf+xml",
}


@pytest.fixture(scope="module")
def base(request) -> str:
    return live_server(request)


def get(base: str, path: str, accept: str | None = None) -> httpx.Response:
    return httpx.get(base + path, headers={"Accept": accept} if accept else {}, timeout=60)


def parse(r: httpx.Response, media_type: str) -> Graph:
    g = Graph()
    g.parse(data=r.content, format=RDF_TYPES[media_type])
    return g


def test_iri_and_path_map_both_ways():
    b = SETTINGS.ns.base
    for iri, path in (
        (b + "id/iom", "/id/iom"),
        (b + "id/state/MEX", "/id/state/MEX"),
        (b + "id/doc/iom-idm-2005/p3", "/id/doc/iom-idm-2005/p3"),
        (b + "ontology", "/ontology"),
        (b + "ontology#State", "/ontology#State"),
        (b + "shapes", "/shapes"),
        (b + "graph/registry", "/graph/registry"),  # named graphs dereference too (issue 14)
        (b + "context.jsonld", "/context.jsonld"),
    ):
        assert LD.local_path(iri) == path
        assert LD.iri_of(path) == iri
    assert LD.local_path("http://www.w3.org/ns/prov#Entity") is None
    assert LD.local_path(b + "dumps/mdkg.nq") is None


@pytest.mark.parametrize("media_type", sorted(RDF_TYPES))
def test_entity_negotiates_each_rdf_format(base, media_type):
    r = get(base, "/id/iom", media_type)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(media_type)
    assert "Accept" in r.headers["vary"]
    ext = F.negotiate(media_type, [F.GRAPH]).extension
    assert r.headers["content-location"] == f"/id/iom.{ext}"
    g = parse(r, media_type)
    iom = ID["iom"]
    assert (iom, SKOS.prefLabel, Literal("International Organization for Migration", lang="en")) in g
    assert (iom, RDF.type, MDKG.InternationalOrganisation) in g
    assert (iom, MDKG.partnerOf, ID["state/EGY"]) in g
    assert (ID["state/EGY"], RDFS.label, None) in g  # labels of what it links to
    assert (None, MDKG.partner, iom) in g  # incoming links too


@pytest.mark.parametrize("ext", sorted(EXTENSIONS))
def test_explicit_forms_answer_their_format_whatever_the_accept(base, ext):
    r = get(base, f"/id/state/MEX.{ext}", "text/html")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(EXTENSIONS[ext])
    assert "content-location" not in r.headers
    g = parse(r, EXTENSIONS[ext])
    assert (ID["state/MEX"], MDKG.iso3166Alpha3, Literal("MEX")) in g


def test_browsers_get_html_with_alternates(base):
    r = get(base, "/id/iom", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["content-location"] == "/id/iom.html"
    assert '</id/iom.ttl>; rel="alternate"; type="text/turtle"' in r.headers["link"]
    assert 'href="/id/iom.ttl"' in r.text and 'href="/id/iom.jsonld"' in r.text
    assert get(base, "/id/iom.html").headers["content-type"].startswith("text/html")


def test_format_parameter_overrides_accept(base):
    r = get(base, "/id/iom?format=ttl", "text/html")
    assert r.headers["content-type"].startswith("text/turtle")


def test_unknown_iri_404_and_unacceptable_406(base):
    r = get(base, "/id/no-such-thing", "text/turtle")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "no-such-thing" in r.json()["detail"]
    r = get(base, "/id/iom", "image/png")
    assert r.status_code == 406
    assert "text/turtle" in r.json()["detail"]


def test_every_kind_of_iri_dereferences(base):
    for path in (
        "/id/state/MEX",
        "/id/icrmw",
        "/id/doc/iom-idm-2005",
        "/id/doc/iom-idm-2005/p287",
        "/id/theme/diaspora-engagement",
        "/id/action/icrmw/MEX/ratification/1999-03-08",
    ):
        r = get(base, path, "text/turtle")
        assert r.status_code == 200, path
        assert len(parse(r, "text/turtle")) > 2, path
        assert get(base, path, "text/html").status_code == 200, path
    rel = re.search(r'href="(/id/rel/[0-9a-f]{12})"', get(base, "/id/iom", "text/html").text).group(1)
    assert get(base, rel, "text/html").status_code == 200
    assert (URIRef(LD.iri_of(rel)), RDF.type, MDKG.Relationship) in parse(get(base, rel, "text/turtle"), "text/turtle")


def test_ontology_negotiated_and_documented(base):
    r = get(base, "/ontology", "text/turtle")
    assert r.status_code == 200 and "Accept" in r.headers["vary"]
    g = parse(r, "text/turtle")
    assert (URIRef(SETTINGS.ns.base + "ontology"), RDF.type, OWL.Ontology) in g
    assert (MDKG.Partnership, RDF.type, OWL.Class) in g
    for ext, media_type in EXTENSIONS.items():
        assert get(base, f"/ontology.{ext}").headers["content-type"].startswith(media_type)
    html = get(base, "/ontology", "text/html").text
    assert '<div class="term" id="Partnership">' in html
    # the term's documentation is the ontology's: its label and definition, in the term's own block
    block = html[html.index('<div class="term" id="Partnership">') :]
    block = block[: block.find('<div class="term"', 1)]
    for prop in (RDFS.label, SKOS.definition):
        assert escape(str(g.value(MDKG.Partnership, prop))) in block, prop
    # classes link to their superclasses by label
    assert re.search(
        r'<div class="term" id="DiasporaOrganisation">.*?subsumed by <a href="/ontology#Organisation">', html, re.S
    )


def test_shapes_negotiated_and_documented(base):
    r = get(base, "/shapes", "application/n-triples")
    assert r.status_code == 200
    g = parse(r, "application/n-triples")
    assert set(g.subjects(RDF.type, SH.PropertyShape)) and set(g.subjects(RDF.type, SH.NodeShape))
    html = get(base, "/shapes", "text/html").text
    assert "needs a non-empty rdfs:label" in html
    assert get(base, "/shapes.ttl").headers["content-type"].startswith("text/turtle")


def test_inverse_relations_counted_and_paged(base):
    html = get(base, "/id/doc/iom-idm-2005", "text/html").text
    m = re.search(r'part of <span class="count">([\d,]+)</span>', html)
    assert m, "the passages of a document are listed as an inverse relation with their count"
    total = int(m.group(1).replace(",", ""))
    assert total > 100
    more = re.search(r'<a class="more" href="(\?inverse=[^"]+)">all', html).group(1).replace("&amp;", "&")
    first = get(base, "/id/doc/iom-idm-2005" + more, "text/html").text
    assert "page 1 / " in first
    items1 = re.findall(r'<li><a href="(/id/doc/iom-idm-2005/p\d+)">', first)
    assert len(items1) == 50
    second = get(base, "/id/doc/iom-idm-2005" + more.replace("page=1", "page=2"), "text/html").text
    items2 = re.findall(r'<li><a href="(/id/doc/iom-idm-2005/p\d+)">', second)
    assert len(items2) == 50 and not set(items1) & set(items2)


def test_head_requests_answer_like_get(base):
    r = httpx.head(base + "/id/iom", headers={"Accept": "text/turtle"}, timeout=30)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle") and not r.content
    assert httpx.head(base + "/ontology", headers={"Accept": "text/html"}, timeout=30).status_code == 200
