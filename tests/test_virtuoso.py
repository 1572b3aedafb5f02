"""The facade is engine-neutral: the built graph pushed into Virtuoso Open Source (`mdkg load --to ... --user`)
and served with `mdkg serve --remote` answers the gap, network, figures and entity queries as the embedded Oxigraph
store behind `mdkg serve --data` does. Runs whenever Debian's virtuoso-opensource-7-bin is installed (.ci/run
installs it); the engine differences found, and how the queries were made neutral: bench/engines/README.md."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import Counter
from pathlib import Path

import httpx
import pytest
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from sparql_server import ROOT, dataset_for_tests, mdkg_server
from sparql_server import mdkg as run_mdkg
from virtuoso_server import INSTALL_HINT, virtuoso_binaries, virtuoso_server

from graph.gaps import bind

pytestmark = pytest.mark.skipif(virtuoso_binaries() is None, reason=f"Virtuoso is not installed: {INSTALL_HINT}")

XSD = "http://www.w3.org/2001/XMLSchema#"
MDKG = "https://w3id.org/mdkg/ontology#"
mdkg = functools.partial(run_mdkg, timeout=600)  # loads into Virtuoso take longer
QUERIES = [p.name for p in sorted((ROOT / "queries").glob("*.rq"))]


@pytest.fixture(scope="module")
def engines(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("virtuoso")
    data = dataset_for_tests(request)
    with virtuoso_server(tmp / "db") as v:
        loaded = mdkg("load", "--to", v.gsp, "--user", "dba:dba", "--data", str(data), "--batch", "20000")
        assert loaded.returncode == 0, loaded.stderr
        common = ("--timeout", "60", "--workers", "2")
        with mdkg_server(tmp, "--data", str(data), *common) as (embedded, _):
            with mdkg_server(tmp, "--remote", v.sparql, *common) as (remote, _):
                yield {"virtuoso": v, "embedded": embedded, "remote": remote, "data": data, "load": loaded.stdout}


def graph_sizes(nquads: Path) -> Counter:
    sizes = Counter()
    for line in set(nquads.read_text(encoding="utf-8").splitlines()):
        if line.strip():
            sizes[line.rsplit(" ", 2)[-2].strip("<>")] += 1
    return sizes


def test_load_pushes_every_graph_into_virtuoso(engines):
    expected = graph_sizes(engines["data"])
    r = httpx.post(
        engines["virtuoso"].sparql,
        data={"query": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"},
        headers={"Accept": "application/sparql-results+json"},
    )
    got = {b["g"]["value"]: int(b["n"]["value"]) for b in r.json()["results"]["bindings"]}
    assert {g: got.get(g) for g in expected} == dict(expected)
    assert f"in {len(expected)} graph(s)" in engines["load"]


def test_load_without_credentials_is_refused_clearly(engines, tmp_path):
    small = tmp_path / "one.nt"
    small.write_text('<https://example.org/a> <https://example.org/p> "x" .\n', encoding="utf-8")
    r = mdkg("load", "--to", engines["virtuoso"].gsp, "--data", str(small))
    assert r.returncode == 1 and "refused with 401" in r.stderr
    r = mdkg("load", "--to", engines["virtuoso"].gsp, "--data", str(small), "--user", "dba:wrong")
    assert r.returncode == 1 and "401" in r.stderr


def test_ask_is_a_boolean_through_the_remote_facade(engines):
    """Virtuoso answers ASK as a one-row SELECT of ?__ASK_RETVAL; the facade answers a SPARQL boolean."""
    for query, truth in (
        ("ASK { ?s a <https://w3id.org/mdkg/ontology#State> }", True),
        ("ASK { ?s a <https://w3id.org/mdkg/ontology#NoSuchClass> }", False),
    ):
        r = httpx.get(
            f"{engines['remote']}/sparql",
            params={"query": query},
            headers={"Accept": "application/sparql-results+json"},
        )
        assert r.status_code == 200 and r.json() == {"head": {}, "boolean": truth}


def concatenated(query: str) -> set[str]:
    """The columns made by GROUP_CONCAT: their order is not defined by SPARQL, so they compare as sets."""
    return set(re.findall(r"GROUP_CONCAT[^\n]*?\bAS\s+\?(\w+)", query))


NUMBERS = {XSD + t for t in ("integer", "decimal", "double", "float", "boolean")}


def normal(term: dict | None, concat: bool):
    """A term as both engines' answers are compared: values, not lexical forms, where the engines differ in form
    (bench/engines/README.md): numbers by value ("1e+30" = "1000000000000000000000000000000"), booleans as 1/0
    (Virtuoso has no boolean type: "1"^^xsd:boolean, or an integer for a computed one), GROUP_CONCAT columns as
    sets (their order is not defined; "" = unbound)."""
    if term is None:
        return None
    kind, value = term["type"], term["value"]
    if kind == "bnode":
        return ("bnode",)
    if kind == "uri":
        return ("uri", value)
    datatype = term.get("datatype")
    if concat:
        return ("concat", frozenset(re.split(r"[,\s]+", value.strip(", ")))) if value else None
    if datatype in NUMBERS:
        return ("number", float(value in ("true", "1")) if datatype == XSD + "boolean" else float(value))
    return ("literal", value, datatype, term.get("xml:lang"))


def answers(base: str, query: str):
    r = httpx.post(
        f"{base}/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"}, timeout=120
    )
    if r.status_code != 200:
        return r.status_code, r.text
    body = r.json()
    if "boolean" in body:
        return body["boolean"]
    names, concat = body["head"]["vars"], concatenated(query)
    return names, Counter(tuple(normal(b.get(n), n in concat) for n in names) for b in body["results"]["bindings"])


@pytest.mark.parametrize("name", QUERIES)
def test_query_files_answer_alike(engines, name):
    query = (ROOT / "queries" / name).read_text(encoding="utf-8")
    embedded, remote = answers(engines["embedded"], query), answers(engines["remote"], query)
    assert not (isinstance(embedded, tuple) and isinstance(embedded[0], int)), embedded
    assert remote == embedded


def bound(name: str, **params) -> str:
    return bind((ROOT / "queries" / f"{name}.rq").read_text(encoding="utf-8"), **params)


ID = "https://w3id.org/mdkg/id/"
DATES = (dt.date(1960, 6, 30), dt.date(1985, 6, 1), dt.date(2005, 10, 1), dt.date(2024, 1, 1))
# Complete, partial and empty records; dates before and after the former states' ends (USSR, SCG, ...).
GAP_QUERIES = [
    *(
        (name, {"instrument": URIRef(ID + i), "asOf": d, **extra})
        for i in ("icrmw", "ilo-c97", "ilo-c143", "refugee-convention-1951")
        for d in DATES
        for name, extra in (
            ("status-as-of", {}),
            ("gaps-by-region", {"regionProperty": URIRef(MDKG + "subregion")}),
            ("gaps-in-scope", {"onlyGaps": False}),
            ("gaps-in-scope", {}),
            ("not-party", {}),
        )
    ),
    *(
        ("party-x-not-y", {"x": URIRef(ID + x), "y": URIRef(ID + y), "asOf": d})
        for x, y in (("ilo-c97", "icrmw"), ("icrmw", "ilo-c143"), ("cat", "refugee-convention-1951"))
        for d in DATES[1:]
    ),
]


def case_id(name: str, params: dict) -> str:
    return "-".join([name, *(str(v).rsplit("/")[-1] for v in params.values())])


@pytest.mark.parametrize("name,params", GAP_QUERIES, ids=[case_id(n, p) for n, p in GAP_QUERIES])
def test_gap_queries_answer_alike_on_other_dates_and_records(engines, name, params):
    query = bound(name, **params)
    embedded, remote = answers(engines["embedded"], query), answers(engines["remote"], query)
    assert not (isinstance(embedded, tuple) and isinstance(embedded[0], int)), embedded
    assert remote == embedded


REST = [
    "/api/instruments",
    "/api/instruments/icrmw/status?as_of=2005-10-01",
    "/api/instruments/ilo-c97/status?as_of=1990-01-01",
    "/api/instruments/icrmw/status?as_of=1985-06-01&region=Europe",
    "/api/instruments/icrmw/timeline",
    "/api/regions",
    "/api/gaps?instrument=icrmw&as_of=2005-10-01",
    "/api/gaps?instrument=icrmw&as_of=2005-10-01&by=region",
    "/api/gaps?instrument=ilo-c143&as_of=2010-01-01&by=subregion",
    "/api/gaps?instrument=icrmw&instrument=cat&as_of=1985-06-01&region=Europe",
    "/api/gaps?instrument=icrmw&as_of=2005-10-01&scope=corridors",
    "/api/gaps?instrument=icrmw&as_of=2005-10-01&scope=partners",
    "/api/gaps?instrument=ilo-c97&as_of=2010-01-01&scope=related",
    "/api/figures",
    "/api/figures?indicator=migrant-stock&area=world",
    "/api/figures/comparisons",
    "/api/figures/record-checks",
    "/api/figures/indicators",
    "/api/stakeholders?q=diaspora&per_page=200",
    "/api/stakeholders?kind=InternationalOrganisation&per_page=200",
    "/api/entities/iom",
    "/api/entities/state/MEX",
    "/api/entities/state/PHL",
    "/api/entities/state/SCG",
    "/api/documents/iom-idm-2005/passages/3",
]


def unordered(value):
    """Lists compared as multisets (an engine may return rows in another order where no ORDER BY says)."""
    if isinstance(value, dict):
        return {k: unordered(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((unordered(v) for v in value), key=repr)
    return value


@pytest.mark.parametrize("path", REST)
def test_rest_answers_alike(engines, path):
    a = httpx.get(engines["embedded"] + path, timeout=120)
    b = httpx.get(engines["remote"] + path, timeout=120)
    assert a.status_code == 200, a.text
    assert b.status_code == 200, b.text
    assert unordered(b.json()) == unordered(a.json())


@pytest.mark.parametrize("layer", ["relations", "interlocks", "comentions"])
def test_network_answers_alike(engines, layer):
    """Same nodes, kinds, degrees, centralities and edges (the layout is drawn from them, in row order)."""
    got = []
    for base in (engines["embedded"], engines["remote"]):
        r = httpx.get(f"{base}/api/network", params={"layer": layer, "measure": "degree"}, timeout=300)
        assert r.status_code == 200, r.text
        net = r.json()
        nodes = {n["id"]: (n["label"], n["kind"], n["degree"], round(n["score"], 9)) for n in net["nodes"]}
        edges = {
            (tuple(sorted((e["source"], e["target"]))), e["weight"], tuple(sorted(e["kinds"]))) for e in net["edges"]
        }
        got.append((nodes, edges))
    assert got[0][0] and got[1] == got[0]


@pytest.mark.parametrize("entity", ["iom", "state/MEX", "state/SCG", "state/SUN", "icrmw", "ilo-c97"])
def test_entity_pages_answer_alike(engines, entity):
    graphs = []
    for base in (engines["embedded"], engines["remote"]):
        r = httpx.get(f"{base}/id/{entity}", headers={"Accept": "application/n-triples"}, timeout=120)
        assert r.status_code == 200, r.text
        graphs.append(Graph().parse(data=r.text, format="nt"))
    assert len(graphs[0]) > 5 and isomorphic(graphs[0], graphs[1])
    pages = [
        httpx.get(f"{base}/id/{entity}", headers={"Accept": "text/html"}, timeout=120)
        for base in (engines["embedded"], engines["remote"])
    ]
    assert [p.status_code for p in pages] == [200, 200]
    text = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r'nonce="[^"]*"', "", p.text))) for p in pages]
    assert sorted(text[1].split()) == sorted(text[0].split())
