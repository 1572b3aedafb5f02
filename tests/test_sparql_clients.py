"""Real SPARQL clients against a live `mdkg serve` (uvicorn) on the built graph: SPARQLWrapper and rdflib's
SPARQLStore, with the formats and methods they use by default and on request."""

from __future__ import annotations

import pytest
from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from sparql_server import dataset_for_tests, mdkg_server
from SPARQLWrapper import CSV, JSON, JSONLD, N3, POST, POSTDIRECTLY, RDFXML, TSV, TURTLE, XML, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

MDKG = Namespace("https://w3id.org/mdkg/ontology#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")

STATES = """PREFIX mdkg: <https://w3id.org/mdkg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?state ?label WHERE { ?state a mdkg:State ; rdfs:label ?label } ORDER BY ?state LIMIT 10"""
CONSTRUCT = """PREFIX mdkg: <https://w3id.org/mdkg/ontology#>
CONSTRUCT { ?s a mdkg:State } WHERE { ?s a mdkg:State } LIMIT 7"""


@pytest.fixture(scope="module")
def endpoint(request, tmp_path_factory):
    data = dataset_for_tests(request)
    with mdkg_server(tmp_path_factory.mktemp("clients"), "--data", str(data), "--timeout", "20") as (base, _):
        yield f"{base}/sparql"


@pytest.fixture(scope="module")
def n_states(endpoint) -> int:
    sw = SPARQLWrapper(endpoint)
    sw.setQuery(
        "PREFIX mdkg: <https://w3id.org/mdkg/ontology#> SELECT (COUNT(DISTINCT ?s) AS ?n) "
        "WHERE { ?s a mdkg:State }"
    )
    sw.setReturnFormat(JSON)
    n = int(sw.queryAndConvert()["results"]["bindings"][0]["n"]["value"])
    assert n > 100
    return n


# ---------------------------------------------------------------------------------------------- SPARQLWrapper


@pytest.mark.parametrize("method", ["GET", POST, POSTDIRECTLY])
def test_sparqlwrapper_select_json(endpoint, method):
    sw = SPARQLWrapper(endpoint)
    sw.setQuery(STATES)
    sw.setReturnFormat(JSON)
    if method == POSTDIRECTLY:
        sw.setMethod(POST)
        sw.setRequestMethod(POSTDIRECTLY)
    elif method == POST:
        sw.setMethod(POST)
    results = sw.queryAndConvert()
    assert results["head"]["vars"] == ["state", "label"]
    rows = results["results"]["bindings"]
    assert len(rows) == 10
    assert all(
        r["state"]["type"] == "uri" and r["state"]["value"].startswith("https://w3id.org/mdkg/id/state/")
        for r in rows
    )


def test_sparqlwrapper_select_xml_csv_tsv(endpoint):
    sw = SPARQLWrapper(endpoint)
    sw.setQuery(STATES)
    sw.setReturnFormat(XML)
    doc = sw.queryAndConvert()
    assert len(doc.getElementsByTagName("result")) == 10
    sw.setReturnFormat(CSV)
    lines = sw.queryAndConvert().decode().splitlines()
    assert lines[0] == "state,label" and len(lines) == 11
    sw.setReturnFormat(TSV)
    lines = sw.queryAndConvert().decode().splitlines()
    assert lines[0] == "?state\t?label" and len(lines) == 11


def test_sparqlwrapper_ask(endpoint):
    sw = SPARQLWrapper(endpoint)
    sw.setReturnFormat(JSON)
    sw.setQuery("ASK { ?s a <https://w3id.org/mdkg/ontology#State> }")
    assert sw.queryAndConvert()["boolean"] is True
    sw.setQuery("ASK { ?s a <https://w3id.org/mdkg/ontology#NoSuchClass> }")
    assert sw.queryAndConvert()["boolean"] is False
    sw.setReturnFormat(XML)
    sw.setQuery("ASK {}")
    assert sw.queryAndConvert().getElementsByTagName("boolean")[0].firstChild.data == "true"


@pytest.mark.parametrize("fmt", [RDFXML, TURTLE, N3, JSONLD])
def test_sparqlwrapper_construct(endpoint, fmt):
    sw = SPARQLWrapper(endpoint)
    sw.setQuery(CONSTRUCT)
    sw.setReturnFormat(fmt)
    result = sw.query()
    g = result.convert()
    if not isinstance(g, Graph):  # SPARQLWrapper returns the raw bytes for some formats
        parse_as = {TURTLE: "turtle", N3: "turtle", JSONLD: "json-ld"}[fmt]
        g = Graph().parse(data=g, format=parse_as)
    assert len(g) == 7
    assert all(o == MDKG.State for o in g.objects(None, RDF.type))


def test_sparqlwrapper_describe(endpoint):
    sw = SPARQLWrapper(endpoint)
    sw.setQuery("DESCRIBE <https://w3id.org/mdkg/id/state/FRA>")
    sw.setReturnFormat(TURTLE)
    g = Graph().parse(data=sw.queryAndConvert(), format="turtle")
    assert (URIRef("https://w3id.org/mdkg/id/state/FRA"), RDF.type, MDKG.State) in g


def test_sparqlwrapper_bad_query(endpoint):
    sw = SPARQLWrapper(endpoint)
    sw.setQuery("SELECT * WHERE { ?s ?p }")
    sw.setReturnFormat(JSON)
    with pytest.raises(QueryBadFormed) as e:
        sw.queryAndConvert()
    assert "1:" in str(e.value)


def test_sparqlwrapper_dataset(endpoint):
    sw = SPARQLWrapper(endpoint)
    sw.addDefaultGraph("https://w3id.org/mdkg/graph/ontology")
    sw.setQuery("SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/mdkg/ontology#State> }")
    sw.setReturnFormat(JSON)
    assert sw.queryAndConvert()["results"]["bindings"][0]["n"]["value"] == "0"


# ---------------------------------------------------------------------------------------- rdflib SPARQLStore


def test_rdflib_sparqlstore_select(endpoint, n_states):
    g = Graph(store=SPARQLStore(query_endpoint=endpoint))
    rows = list(
        g.query("PREFIX mdkg: <https://w3id.org/mdkg/ontology#> SELECT DISTINCT ?s WHERE { ?s a mdkg:State }")
    )
    assert len(rows) == n_states
    assert all(isinstance(r[0], URIRef) for r in rows)


def test_rdflib_sparqlstore_triples_and_ask(endpoint):
    g = Graph(store=SPARQLStore(query_endpoint=endpoint))
    fra = URIRef("https://w3id.org/mdkg/id/state/FRA")
    assert (fra, RDF.type, MDKG.State) in g
    labels = list(g.objects(fra, RDFS.label))
    assert labels and all(str(label) for label in labels)
    assert bool(g.query("ASK { ?s ?p ?o }").askAnswer)


@pytest.mark.parametrize("method", ["GET", "POST", "POST_FORM"])
def test_rdflib_sparqlstore_methods(endpoint, method):
    g = Graph(store=SPARQLStore(query_endpoint=endpoint, method=method))
    assert len(list(g.query(STATES))) == 10
    assert len(g.query(CONSTRUCT).graph) == 7  # asked as RDF/XML
    json_store = Graph(store=SPARQLStore(query_endpoint=endpoint, returnFormat="json", method=method))
    assert [str(r.label) for r in json_store.query(STATES)] == [str(r.label) for r in g.query(STATES)]


def test_rdflib_sparqlstore_len_and_contexts(endpoint):
    store = SPARQLStore(query_endpoint=endpoint)
    names = {str(c) for c in store.contexts()}
    assert "https://w3id.org/mdkg/graph/registry" in names
    assert len(store) > 10_000
