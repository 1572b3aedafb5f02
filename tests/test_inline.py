"""Lookups answered in the server process (api/inline.py): which queries count as lookups, and that an answer given
there is the answer a worker gives (the same columns and rows in every results format), that the caps hold, and
that every other query still goes to a worker. On the built graph, through a real `mdkg serve`."""

from __future__ import annotations

import csv
import io
from collections import Counter

import httpx
import pyoxigraph as ox
import pytest
from sparql_server import dataset_for_tests, mdkg_server

from api.inline import MAX_LENGTH, MAX_ROWS, Inline, lookup_form
from api.workers import BackendSpec, Job

MEX = "<https://w3id.org/mdkg/id/state/MEX>"
M = "PREFIX mdkg: <https://w3id.org/mdkg/ontology#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "

LOOKUPS = [
    f"SELECT ?p ?o WHERE {{ {MEX} ?p ?o }}",
    f"SELECT * {{ {MEX} ?p ?o . }}",
    M + 'SELECT ?s WHERE { ?s rdfs:label "Mexico"@en }',
    M + f"select ?o where {{ {MEX} mdkg:unMemberSince ?o }} limit 3",
    M + 'SELECT ?s { ?s mdkg:iso3166Numeric "484" }',
    M + 'SELECT ?s ?p { ?s ?p "1945"^^<http://www.w3.org/2001/XMLSchema#gYear> }',
    M + f"SELECT ?c {{ {MEX} a ?c }}  # a comment",
    "BASE <https://w3id.org/mdkg/id/> SELECT ?o { <state/MEX> ?p ?o }",
    M + 'SELECT ?s { ?s mdkg:demonym "Mexican"@en-US }',
    # a paragraph whose text ends in a space: XML must keep it (written as a character reference)
    "SELECT ?o { <https://w3id.org/mdkg/id/doc/gfmd-csd-2007/p116> <https://w3id.org/mdkg/ontology#text> ?o }",
]

NOT_LOOKUPS = [
    "SELECT ?s ?p ?o { ?s ?p ?o }",  # no constant subject or object: a scan
    f"SELECT DISTINCT ?p {{ {MEX} ?p ?o }}",  # DISTINCT, OFFSET and ORDER BY may read the whole range
    f"SELECT ?p {{ {MEX} ?p ?o }} OFFSET 5",
    f"SELECT ?p {{ {MEX} ?p ?o }} LIMIT 5 OFFSET 2",
    f"SELECT ?p {{ {MEX} ?p ?o }} ORDER BY ?p",
    f"SELECT ?p {{ {MEX} ?p ?o . ?o ?q ?r }}",
    f"SELECT ?o {{ {MEX} ?p ?o ; ?q ?r }}",
    f"SELECT ?o {{ {MEX} ?p ?o , ?r }}",
    "SELECT ?x { ?x <urn:p> ?x }",  # a variable twice: the whole predicate read for few rows
    f"SELECT ?p ?z {{ {MEX} ?p ?o }}",  # a column not in the pattern: a thousand of them cost milliseconds to write
    f"SELECT ?p ?p {{ {MEX} ?p ?o }}",
    'SELECT ?s { ?s ?p "{" }',  # a brace in a string: not worth tokenizing on the event loop
    f"SELECT ?x {{ {MEX} ?x ?x }}",
    f"SELECT ?o {{ {MEX} <urn:p>* ?o }}",  # property paths
    f"SELECT ?o {{ {MEX} <urn:p>/<urn:q> ?o }}",
    f"SELECT ?o FROM <urn:g> {{ {MEX} ?p ?o }}",
    f"SELECT ?o {{ GRAPH ?g {{ {MEX} ?p ?o }} }}",
    f"SELECT ?o {{ {MEX} ?p ?o FILTER (isIRI(?o)) }}",
    f"SELECT ?o {{ {{ {MEX} ?p ?o }} }}",
    f"SELECT ?o {{ SERVICE <http://example.org/sparql> {{ {MEX} ?p ?o }} }}",
    f"SELECT (COUNT(*) AS ?n) {{ {MEX} ?p ?o }}",
    f"SELECT ?o {{ {MEX} ?p ?o }} VALUES ?o {{ 1 }}",
    f"SELECT ?o {{ {MEX} ?p ?o }} GROUP BY ?o",
    f"SELECT ?o {{ {MEX} ?p ?o }} LIMIT 1.5",
    f"ASK {{ {MEX} ?p ?o }}",
    f"CONSTRUCT {{ {MEX} ?p ?o }} WHERE {{ {MEX} ?p ?o }}",
    f"DESCRIBE {MEX}",
    "INSERT DATA { <urn:s> <urn:p> <urn:o> }",
    "SELECT ?o { _:b ?p ?o }",
    "SELECT ?o { [] ?p ?o }",
    'SELECT ?o { <urn:s> ?p "open }',
    "SELECT ?o { <urn:s> ?p -5 }",
    "SELECT ?o { <urn:s> ?p <<?a ?b ?c>> }",
    f"SELECT ?p ?o WHERE {{ {MEX} ?p ?o }} # " + "x" * MAX_LENGTH,  # too long to be read here
]


@pytest.mark.parametrize("query", LOOKUPS)
def test_lookups_are_recognised(query):
    assert lookup_form(query) is not None


@pytest.mark.parametrize("query", NOT_LOOKUPS)
def test_every_other_query_goes_to_a_worker(query):
    assert lookup_form(query) is None


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    data = dataset_for_tests(request)
    with mdkg_server(tmp_path_factory.mktemp("inline"), "--data", str(data), "--workers", "2") as (base, _):
        yield base


def in_server(base: str) -> int:
    return httpx.get(f"{base}/health").json()["lookups_in_server"]


def get(base: str, query: str, accept: str) -> httpx.Response:
    r = httpx.get(f"{base}/sparql", params={"query": query}, headers={"Accept": accept}, timeout=60)
    assert r.status_code == 200, r.text
    return r


def in_a_worker(query: str) -> str:
    """The same query with a FILTER that changes no answer and makes it no lookup: a worker answers it."""
    head, _, tail = query.rpartition("}")
    return f"{head} FILTER (true) }}{tail}"


def read(body: bytes, key: str) -> tuple[list, Counter]:
    if key == "csv":  # CSV drops the term kinds: compared as text
        rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
        return rows[0], Counter(map(tuple, rows[1:]))
    fmt = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML, "tsv": ox.QueryResultsFormat.TSV}
    result = ox.parse_query_results(body, format=fmt[key])
    return [v.value for v in result.variables], Counter(tuple(s) for s in result)


FORMATS = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}


@pytest.mark.parametrize("query", [q for q in LOOKUPS if "#" not in q])
@pytest.mark.parametrize("key", FORMATS)
def test_a_lookup_answered_in_the_server_is_the_answer_a_worker_gives(server, query, key):
    before = in_server(server)
    here = get(server, query, FORMATS[key])
    assert in_server(server) == before + 1
    there = get(server, in_a_worker(query), FORMATS[key])
    assert in_server(server) == before + 1
    assert here.headers["content-type"] == there.headers["content-type"]
    assert read(here.content, key) == read(there.content, key)


def test_the_answers_are_not_empty(server):
    """What the comparison above compares: Mexico's triples, and Mexico found by its label and its UN year."""
    assert len(read(get(server, LOOKUPS[0], FORMATS["json"]).content, "json")[1]) > 20
    _, rows = read(get(server, LOOKUPS[2], FORMATS["json"]).content, "json")
    assert ox.NamedNode(MEX.strip("<>")) in {r[0] for r in rows}
    names, rows = read(get(server, LOOKUPS[1], FORMATS["json"]).content, "json")
    assert names == ["p", "o"]  # SELECT *: in the order the pattern names them
    _, rows = read(get(server, LOOKUPS[-1], FORMATS["xml"]).content, "xml")
    assert [r[0].value[-1] for r in rows] == [" "]


def test_a_lookup_past_the_row_cap_goes_to_a_worker_and_is_whole(server):
    query = "SELECT ?s WHERE { ?s a <https://w3id.org/mdkg/ontology#TreatyAction> }"
    before = in_server(server)
    _, rows = read(get(server, query, FORMATS["json"]).content, "json")
    count = get(server, in_a_worker(query).replace("SELECT ?s", "SELECT (COUNT(*) AS ?n)"), FORMATS["json"])
    assert in_server(server) == before
    assert sum(rows.values()) == int(count.json()["results"]["bindings"][0]["n"]["value"]) > MAX_ROWS


def test_errors_and_refusals_come_from_a_worker_as_before(server):
    before = in_server(server)
    r = httpx.get(f"{server}/sparql", params={"query": "SELECT ?o { nope:x ?p ?o }"})
    assert r.status_code == 400 and r.text.startswith("SPARQL syntax error")
    r = httpx.get(f"{server}/sparql", params={"query": LOOKUPS[0]}, headers={"Accept": "text/turtle"})
    assert r.status_code == 406
    assert in_server(server) == before


def test_rdf_1_2_terms_are_left_to_a_worker(tmp_path):
    """A triple term (or a literal with a base direction): a worker writes it with Oxigraph's writers, which have
    its form in every results format."""
    store = ox.Store(str(tmp_path / "store"))
    s, p, g = ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.NamedNode("urn:g")
    store.add(ox.Quad(s, p, ox.Triple(s, p, ox.Literal("c")), g))
    store.add(ox.Quad(ox.NamedNode("urn:t"), p, ox.Literal("plain"), g))
    store.flush()
    del store
    inline = Inline.open(BackendSpec(store_dir=tmp_path / "store"))
    assert inline.answer(Job(query="SELECT ?o { <urn:s> <urn:p> ?o }")) is None
    answer = inline.answer(Job(query="SELECT ?o { <urn:t> <urn:p> ?o }"))
    assert answer.status == 200 and b'"plain"' in answer.body
