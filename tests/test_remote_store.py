"""Remote mode: `mdkg load --to URL` pushes the build into a real `oxigraph serve` (PyPI `oxigraph`) over
the Graph Store Protocol, and `mdkg serve --remote URL` puts the same facade, with the same safety, in front
of it."""

from __future__ import annotations

import time
from collections import Counter

import httpx
import pytest
from rdflib import Graph
from sparql_server import ROOT, dataset_for_tests, free_port, mdkg, mdkg_server, oxigraph_server

COUNT_GRAPHS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def graph_sizes(nquads_text: str) -> Counter:
    """Distinct triples per named graph of an N-Quads file."""
    g_of = Counter()
    for line in set(nquads_text.splitlines()):
        line = line.strip()
        if line:
            g_of[line.rsplit(" ", 2)[-2].strip("<>")] += 1
    return g_of


@pytest.fixture(scope="module")
def remote(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("remote")
    data = dataset_for_tests(request)
    with oxigraph_server(tmp / "oxigraph", "--union-default-graph", "--timeout-s", "20") as (oxi, _):
        loaded = mdkg("load", "--to", f"{oxi}/store", "--data", str(data))
        assert loaded.returncode == 0, loaded.stderr
        with mdkg_server(
            tmp, "--remote", f"{oxi}/query", "--timeout", "2", "--max-rows", "500", "--workers", "2"
        ) as (facade, _):
            yield {"oxigraph": oxi, "facade": facade, "data": data, "load_output": loaded.stdout}


def test_load_pushes_every_graph(remote):
    expected = graph_sizes(remote["data"].read_text(encoding="utf-8"))
    r = httpx.post(
        f"{remote['oxigraph']}/query",
        data={"query": COUNT_GRAPHS},
        headers={"Accept": "application/sparql-results+json"},
    )
    got = {b["g"]["value"]: int(b["n"]["value"]) for b in r.json()["results"]["bindings"]}
    assert got == dict(expected)
    assert f"in {len(expected)} graph(s)" in remote["load_output"]


def test_facade_answers_like_the_remote(remote):
    facade = f"{remote['facade']}/sparql"
    r = httpx.get(facade, params={"query": COUNT_GRAPHS})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/sparql-results+json")
    got = {b["g"]["value"]: int(b["n"]["value"]) for b in r.json()["results"]["bindings"]}
    assert got == dict(graph_sizes(remote["data"].read_text(encoding="utf-8")))
    # union default graph, negotiation, CSV, ASK, CONSTRUCT in Turtle
    states = "SELECT ?s WHERE { ?s a <https://w3id.org/mdkg/ontology#State> } ORDER BY ?s LIMIT 3"
    r = httpx.get(facade, params={"query": states}, headers={"Accept": "text/csv"})
    assert r.headers["content-type"].startswith("text/csv") and len(r.text.splitlines()) == 4
    r = httpx.get(facade, params={"query": "ASK { ?s a <https://w3id.org/mdkg/ontology#State> }"})
    assert r.json()["boolean"] is True
    r = httpx.get(
        facade,
        params={"query": "CONSTRUCT WHERE { ?s a <https://w3id.org/mdkg/ontology#State> } LIMIT 4"},
        headers={"Accept": "text/turtle"},
    )
    assert len(Graph().parse(data=r.text, format="turtle")) == 4
    r = httpx.get(
        facade,
        params={
            "query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
            "default-graph-uri": "https://w3id.org/mdkg/graph/registry",
        },
    )
    registry = graph_sizes(remote["data"].read_text(encoding="utf-8"))["https://w3id.org/mdkg/graph/registry"]
    assert int(r.json()["results"]["bindings"][0]["n"]["value"]) == registry


def test_remote_safety(remote):
    facade = f"{remote['facade']}/sparql"
    r = httpx.get(facade, params={"query": "SELECT * WHERE { ?s ?p }"})
    assert r.status_code == 400 and "Traceback" not in r.text
    r = httpx.get(facade, params={"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"})
    assert r.status_code == 403
    r = httpx.post(facade, content="DROP ALL", headers={"Content-Type": "application/sparql-update"})
    assert r.status_code == 403
    r = httpx.get(facade, params={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert len(r.json()["results"]["bindings"]) == 500 and "mdkg-result-truncated" in r.headers
    r = httpx.get(facade, params={"query": "ASK { ?s ?p ?o }"})
    assert r.json()["boolean"] is True  # nothing was dropped


def test_remote_deadline(remote):
    facade = remote["facade"]
    r = httpx.post(f"{facade}/sparql", data={"query": ENDLESS}, timeout=60)
    assert r.status_code == 503 and "deadline" in r.text
    end = time.monotonic() + 60
    while time.monotonic() < end and httpx.get(f"{facade}/health").json()["idle"] < 3:
        time.sleep(0.2)
    assert httpx.get(f"{facade}/sparql", params={"query": "ASK {}"}).json()["boolean"] is True


def test_service_description_in_remote_mode(remote):
    r = httpx.get(f"{remote['facade']}/sparql", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    g = Graph().parse(data=r.text, format="turtle")
    assert len(g) > 10
    assert httpx.get(f"{remote['facade']}/dumps/dataset.nq").status_code == 404


def test_unreachable_remote(tmp_path):
    with mdkg_server(tmp_path, "--remote", f"http://127.0.0.1:{free_port()}/query") as (facade, _):
        r = httpx.get(f"{facade}/sparql", params={"query": "ASK {}"})
        assert r.status_code == 502 and "cannot be reached" in r.text


def test_load_reports_errors(tmp_path):
    r = mdkg(
        "load",
        "--to",
        f"http://127.0.0.1:{free_port()}/store",
        "--data",
        str(ROOT / "tests" / "conformance" / "sparql11-protocol" / "data1.nt"),
    )
    assert r.returncode == 1 and "cannot be reached" in r.stderr
    r = mdkg("load", "--to", "http://127.0.0.1:9/store", "--data", str(tmp_path / "missing.nq"))
    assert r.returncode == 1 and "no such dataset file" in r.stderr


def test_allowlisted_service_endpoint(remote, tmp_path):
    """An embedded server may call the SERVICE endpoints it allowlists, and only those."""
    oxi = f"{remote['oxigraph']}/query"
    data = tmp_path / "small.ttl"
    data.write_text("<http://example.org/a> <http://example.org/p> 1 .\n")
    with mdkg_server(tmp_path, "--data", str(data), "--workers", "1", "--allow-service", oxi) as (base, _):
        query = (
            f"SELECT ?s WHERE {{ SERVICE <{oxi}> {{ ?s a <https://w3id.org/mdkg/ontology#State> }} }} "
            "ORDER BY ?s LIMIT 3"
        )
        r = httpx.post(f"{base}/sparql", data={"query": query})
        assert r.status_code == 200, r.text
        assert len(r.json()["results"]["bindings"]) == 3
        r = httpx.post(f"{base}/sparql", data={"query": query.replace(oxi, oxi + "?other")})
        assert r.status_code == 403
