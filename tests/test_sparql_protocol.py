"""The W3C SPARQL 1.1 Protocol test manifest, sent over HTTP to a running `mdkg serve`, plus the negotiation,
service description, VoID, dumps and query page of the endpoint.

Every query test and every bad-request test of the manifest must pass as written. The update tests expect a
2xx: this endpoint is read-only, so for them the update request must be refused with a 4xx (never a 5xx) and
a message, as tests/conformance/README says."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from sparql_server import dataset_for_tests, mdkg_server

MANIFEST = Path(__file__).resolve().parent / "conformance" / "sparql11-protocol" / "manifest.ttl"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
HTS = "http://www.w3.org/2011/http-statusCodes#StatusCode"

RESULT_TYPES = {
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
}
BOOLEAN_TYPES = {"application/sparql-results+json", "application/sparql-results+xml"}
RDF_TYPES = {
    "application/rdf+xml": "xml",
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
    "application/trig": "trig",
    "application/n-quads": "nquads",
}


def load_manifest() -> tuple[Graph, list[URIRef]]:
    g = Graph()
    g.parse(MANIFEST, format="turtle", publicID=MANIFEST.as_uri())
    manifest = next(g.subjects(RDF.type, MF.Manifest))
    return g, list(Collection(g, g.value(manifest, MF.entries)))


GRAPH, ENTRIES = load_manifest()


def name_of(test: URIRef) -> str:
    return str(test).rsplit("#", 1)[1]


def requests_of(test: URIRef) -> list[dict]:
    g = GRAPH
    action = g.value(test, MF.action)
    out = []
    for req in Collection(g, g.value(action, HT.requests)):
        headers = {}
        hlist = g.value(req, HT.headers)
        if hlist is not None:
            for h in Collection(g, hlist):
                headers[str(g.value(h, HT.fieldName))] = str(g.value(h, HT.fieldValue))
        body = None
        b = g.value(req, HT.body)
        if b is not None:
            encoding = str(g.value(b, CNT.characterEncoding) or "UTF-8")
            body = str(g.value(b, CNT.chars)).encode(encoding)
        resp = g.value(req, HT.resp)
        statuses = {str(s)[len(HTS) :] for s in g.objects(resp, MF.expectedStatus)}
        expected_bool = g.value(resp, MF.expectedBoolean)
        out.append(
            {
                "method": str(g.value(req, HT.methodName)),
                "path": str(g.value(req, HT.absolutePath)),
                "headers": headers,
                "body": body,
                "statuses": statuses,
                "format": str(g.value(resp, MF.expectedFormat) or "") or None,
                "boolean": expected_bool.toPython() if isinstance(expected_bool, Literal) else None,
            }
        )
    return out


def conformance_dataset(path: Path) -> Path:
    """The graphs the manifest's tests use (ut:graphData), named as the tests name them, in N-Quads."""
    lines = set()
    for graph_data in GRAPH.objects(None, UT.graphData):
        name = str(GRAPH.value(graph_data, RDFS.label))
        source = Path(str(GRAPH.value(graph_data, UT.graph)).removeprefix("file://"))
        for line in source.read_text(encoding="utf-8").splitlines():
            if line.strip():
                lines.add(line.strip().removesuffix(".").rstrip() + f" <{name}> .")
    path.write_text("\n".join(sorted(lines)) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def conformance_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("conformance")
    data = conformance_dataset(tmp / "protocol-tests.nq")
    with mdkg_server(tmp, "--data", str(data), "--workers", "2", "--timeout", "10") as (base, _):
        yield base


@pytest.fixture(scope="module")
def dataset(request) -> Path:
    return dataset_for_tests(request)


@pytest.fixture(scope="module")
def server(dataset, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve")
    with mdkg_server(tmp, "--data", str(dataset), "--workers", "2", "--timeout", "20") as (base, _):
        yield base


def status_class(code: int) -> str:
    return f"{code // 100}xx"


def check_response(r: httpx.Response, expect: dict, test: str) -> None:
    assert status_class(r.status_code) in expect["statuses"], (test, r.status_code, r.text[:500])
    media = r.headers.get("content-type", "").split(";")[0].strip()
    if expect["format"] == "boolean":
        assert media in BOOLEAN_TYPES, (test, media)
        if media.endswith("json"):
            value = r.json()["boolean"]
        else:
            value = "<boolean>true</boolean>" in r.text
        if expect["boolean"] is not None:
            assert value is expect["boolean"], (test, r.text)
    elif expect["format"] == "tabular":
        assert media in RESULT_TYPES, (test, media)
        if media.endswith("json"):
            assert r.json()["results"]["bindings"] == [
                {
                    "value": {
                        "type": "literal",
                        "value": "1",
                        "datatype": "http://www.w3.org/2001/XMLSchema#integer",
                    }
                }
            ]
    elif expect["format"] == "RDF":
        assert media in RDF_TYPES, (test, media)
        Graph().parse(data=r.content, format=RDF_TYPES[media])


@pytest.mark.parametrize("test", ENTRIES, ids=name_of)
def test_w3c_protocol_manifest(conformance_server, test):
    name = name_of(test)
    reqs = requests_of(test)
    with httpx.Client(base_url=conformance_server, timeout=30) as client:
        for i, req in enumerate(reqs):
            r = client.request(req["method"], req["path"], headers=req["headers"], content=req["body"])
            if name.startswith("update_") and i == 0:
                # Read-only endpoint: the update is refused cleanly; what follows tests the update's effect.
                assert 400 <= r.status_code < 500, (name, r.status_code, r.text)
                assert "read-only" in r.text
                assert r.headers["content-type"].startswith("text/plain")
                break
            check_response(r, req, name)
            if name.startswith("bad_"):
                assert "Traceback" not in r.text and r.text.strip(), (name, r.text)


def test_manifest_is_complete():
    names = {name_of(t) for t in ENTRIES}
    assert len(names) == 34
    assert sum(n.startswith("query_") for n in names) == 13
    assert sum(n.startswith("bad_") for n in names) == 14


# ---------------------------------------------------------------------------------------------- negotiation

SELECT = (
    "SELECT ?s ?label WHERE { ?s a <https://w3id.org/mdkg/ontology#State> ; "
    "<http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?s LIMIT 5"
)
CONSTRUCT = "CONSTRUCT WHERE { ?s a <https://w3id.org/mdkg/ontology#State> } LIMIT 5"


@pytest.mark.parametrize(
    "accept,expected",
    [
        (None, "application/sparql-results+json"),
        ("*/*", "application/sparql-results+json"),
        ("application/json", "application/sparql-results+json"),
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
        ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
        ("text/*;q=0.9, application/sparql-results+json;q=0.1", "text/csv"),
        ("image/png, */*;q=0.1", "application/sparql-results+json"),
    ],
)
def test_select_negotiation(server, accept, expected):
    headers = {"Accept": accept} if accept else {}
    r = httpx.get(f"{server}/sparql", params={"query": SELECT}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == expected
    assert "Accept" in r.headers["vary"]
    if expected.endswith("json"):
        assert len(r.json()["results"]["bindings"]) == 5
    if expected == "text/csv":
        assert r.text.splitlines()[0] == "s,label"
    if expected == "text/tab-separated-values":
        assert r.text.splitlines()[0] == "?s\t?label"


@pytest.mark.parametrize(
    "accept,fmt",
    [
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
        ("application/trig", "trig"),
        ("application/n-quads", "nquads"),
    ],
)
def test_construct_formats(server, accept, fmt):
    r = httpx.post(
        f"{server}/sparql",
        content=CONSTRUCT.encode(),
        headers={"Content-Type": "application/sparql-query", "Accept": accept},
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == accept
    g = Graph()
    g.parse(data=r.content, format=fmt)
    assert len(g) == 5


def test_describe(server):
    r = httpx.get(
        f"{server}/sparql",
        params={"query": "DESCRIBE <https://w3id.org/mdkg/id/state/MEX>"},
        headers={"Accept": "text/turtle"},
    )
    assert r.status_code == 200
    assert len(Graph().parse(data=r.text, format="turtle")) > 0


def test_not_acceptable(server):
    r = httpx.get(f"{server}/sparql", params={"query": SELECT}, headers={"Accept": "image/png"})
    assert r.status_code == 406
    assert "application/sparql-results+json" in r.text
    # an ASK cannot be Turtle
    r = httpx.get(f"{server}/sparql", params={"query": "ASK {}"}, headers={"Accept": "text/turtle"})
    assert r.status_code == 406
    r = httpx.get(f"{server}/sparql", params={"query": CONSTRUCT}, headers={"Accept": "text/csv"})
    assert r.status_code == 406


def test_format_override(server):
    r = httpx.get(
        f"{server}/sparql",
        params={"query": SELECT, "format": "csv"},
        headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
    )
    assert r.headers["content-type"].startswith("text/csv")
    r = httpx.get(f"{server}/sparql", params={"query": CONSTRUCT, "format": "text/turtle"})
    assert r.headers["content-type"].startswith("text/turtle")
    r = httpx.get(f"{server}/sparql", params={"query": CONSTRUCT, "format": "csv"})
    assert r.status_code == 406
    # values that name no format are ignored (clients send several, for several servers): Accept decides
    r = httpx.get(
        f"{server}/sparql", params={"query": SELECT, "format": "nonsense"}, headers={"Accept": "text/csv"}
    )
    assert r.headers["content-type"].startswith("text/csv")


def test_dataset_parameters_on_build(server):
    registry = "https://w3id.org/mdkg/graph/registry"
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    total = int(
        httpx.get(f"{server}/sparql", params={"query": count}).json()["results"]["bindings"][0]["n"]["value"]
    )
    only = int(
        httpx.get(f"{server}/sparql", params={"query": count, "default-graph-uri": registry}).json()[
            "results"
        ]["bindings"][0]["n"]["value"]
    )
    assert 0 < only < total
    r = httpx.get(
        f"{server}/sparql",
        params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", "named-graph-uri": registry},
    )
    assert [b["g"]["value"] for b in r.json()["results"]["bindings"]] == [registry]


def test_gap_queries_run(server):
    for path in sorted((Path(__file__).resolve().parents[1] / "queries").glob("gaps*.rq")):
        r = httpx.post(f"{server}/sparql", data={"query": path.read_text()}, timeout=30)
        assert r.status_code == 200, (path.name, r.text)
        assert "results" in r.json()


# ---------------------------------------------------------------------------------------- self-description


def test_service_description(server, dataset):
    r = httpx.get(f"{server}/sparql", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    assert "Accept" in r.headers["vary"]
    g = Graph().parse(data=r.text, format="turtle")
    sd = Namespace("http://www.w3.org/ns/sparql-service-description#")
    void = Namespace("http://rdfs.org/ns/void#")
    service = URIRef(f"{server}/sparql")
    assert (service, RDF.type, sd.Service) in g
    assert (service, sd.endpoint, service) in g
    assert (service, sd.supportedLanguage, sd.SPARQL11Query) in g
    assert (service, sd.feature, sd.UnionDefaultGraph) in g
    assert URIRef(f"{server}/.well-known/void") in set(g.objects(service, None))
    dumps = set(g.objects(None, void.dataDump))
    assert URIRef(f"{server}/dumps/{dataset.name.split('.')[0]}.nq") in dumps
    names = {str(n) for n in g.objects(None, sd.name)}
    assert "https://w3id.org/mdkg/graph/registry" in names
    # negotiated: JSON-LD too, and */* gives Turtle
    assert (
        httpx.get(f"{server}/sparql", headers={"Accept": "application/ld+json"})
        .headers["content-type"]
        .startswith("application/ld+json")
    )
    assert (
        httpx.get(f"{server}/sparql", headers={"Accept": "*/*"})
        .headers["content-type"]
        .startswith("text/turtle")
    )


def test_void(server):
    r = httpx.get(f"{server}/.well-known/void", headers={"Accept": "application/n-triples"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/n-triples")
    g = Graph().parse(data=r.text, format="nt")
    void = Namespace("http://rdfs.org/ns/void#")
    ds = URIRef(f"{server}/.well-known/void#dataset")
    assert (ds, RDF.type, void.Dataset) in g
    assert int(g.value(ds, void.triples)) > 10_000
    classes = {g.value(p, void["class"]) for p in g.objects(ds, void.classPartition)}
    assert URIRef("https://w3id.org/mdkg/ontology#State") in classes


def test_dumps(server, dataset):
    stem = dataset.name.split(".")[0]
    r = httpx.get(f"{server}/dumps/{stem}.nq")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/n-quads")
    assert "attachment" in r.headers["content-disposition"]
    quads = {line for line in dataset.read_text(encoding="utf-8").splitlines() if line.strip()}
    assert len([line for line in r.text.splitlines() if line.strip()]) == len(quads)
    r = httpx.get(f"{server}/dumps/{stem}.trig")
    assert r.status_code == 200
    assert httpx.get(f"{server}/dumps/other.nq").status_code == 404


def page_examples(html: str) -> list[dict]:
    """The example queries of the query page: a JSON data block (the page's CSP allows no inline script)."""
    return json.loads(html.split('<script type="application/json" id="mdkg-examples">', 1)[1].split("</script>", 1)[0])


def test_query_page(server):
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    for r in (httpx.get(f"{server}/sparql", headers=browser), httpx.get(f"{server}/query")):
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert "/static/yasgui.min.js" in r.text
        examples = page_examples(r.text)
        names = {e["name"] for e in examples}
        assert {"Gaps", "Partnerships", "Centrality"} <= names
        assert any("mdkg:partnerOf" in e["query"] for e in examples)
    js = httpx.get(f"{server}/static/yasgui.min.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    assert httpx.get(f"{server}/static/yasgui.min.css").status_code == 200


def test_example_queries_run(server):
    page = httpx.get(f"{server}/query").text
    examples = page_examples(page)
    for e in examples:
        r = httpx.post(f"{server}/sparql", data={"query": e["query"]}, timeout=30)
        assert r.status_code == 200, (e["name"], r.text)


def test_get_with_percent_encoded_query(server):
    r = httpx.get(f"{server}/sparql?query={quote('ASK { ?s ?p ?o }')}")
    assert r.json() == {"head": {}, "boolean": True}


def test_serves_any_rdf_dataset_file(tmp_path):
    path = tmp_path / "people.ttl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("@prefix ex: <http://example.org/> .\nex:a ex:knows ex:b , <c> .\n")
    with mdkg_server(tmp_path, "--data", str(path), "--workers", "1") as (base, _):
        r = httpx.get(f"{base}/sparql", params={"query": "SELECT ?o WHERE { ?s ?p ?o }"})
        objects = {b["o"]["value"] for b in r.json()["results"]["bindings"]}
        assert objects == {"http://example.org/b", path.resolve().with_name("c").as_uri()}
        r = httpx.get(f"{base}/dumps/people.nq")
        assert r.status_code == 200 and len(r.text.splitlines()) == 2
