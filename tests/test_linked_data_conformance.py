"""Conformance of the published linked data, on the real build and a live server (issue 14):

- SKOS integrity conditions S13 (prefLabel and altLabel disjoint), S14 (one prefLabel per language), S27 (related
  disjoint with broaderTransitive), checked with SPARQL on the built graph;
- no local paths and no store internals in the data;
- links out: owl:sameAs to Wikidata for at least 190 states, every one as the source table (seeds/links) says;
- JSON-LD: every entity answers compact JSON-LD with the published @context (inline), and pyld's expansion of it
  (compact -> expand -> RDF) is the same graph as the N-Triples answer (round trip);
- every IRI in the data that claims to be ours dereferences (200 or a redirect);
- the redirects the issue lists, and a dataset licence and linksets in VoID."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from pyld import jsonld
from rdflib import Graph
from rdflib.compare import isomorphic
from test_pages import live_server

from mdkg.settings import Settings

SETTINGS = Settings()  # plain defaults: this checkout's seeds and queries, the default base IRI

BASE = SETTINGS.ns.base
ROOT = Path(__file__).resolve().parents[1]
PREFIXES = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX mdkg: <https://w3id.org/mdkg/ontology#>
"""
REDIRECT = {301, 302, 303, 307, 308}


@pytest.fixture(scope="module")
def store(built_dataset) -> ox.Store:
    s = ox.Store()
    s.bulk_load(path=str(built_dataset), format=ox.RdfFormat.N_QUADS)
    return s


def count(store: ox.Store, where: str) -> int:
    rows = list(store.query(PREFIXES + f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}", use_default_graph_as_union=True))
    return int(rows[0]["n"].value)


@pytest.fixture(scope="module")
def base(request) -> str:
    return live_server(request)


# ------------------------------------------------------------------------------------------- the data itself
def test_skos_s13_no_label_is_both_preferred_and_alternative(store):
    assert count(store, "SELECT DISTINCT ?s WHERE { ?s skos:prefLabel ?l ; skos:altLabel ?l }") == 0
    assert count(store, "SELECT DISTINCT ?s WHERE { ?s skos:prefLabel|skos:altLabel ?l ; skos:hiddenLabel ?l }") == 0
    # the IOM example of the issue: the acronym-only note no longer leaves its name as an alternative label
    iom = f"<{BASE}id/iom>"
    assert count(store, f"{iom} skos:altLabel ?l") < count(store, f"{iom} skos:prefLabel|skos:altLabel ?l")


def test_skos_s14_one_preferred_label_per_language(store):
    assert (
        count(store, "SELECT DISTINCT ?s WHERE { ?s skos:prefLabel ?a, ?b FILTER(?a != ?b && LANG(?a) = LANG(?b)) }")
        == 0
    )


def test_skos_s27_related_is_disjoint_with_broader_transitive(store):
    assert count(store, "?a skos:related ?b . ?a skos:broader+ ?b") == 0


def test_curator_notes_are_editorial_notes_not_descriptions(store):
    iom = f"<{BASE}id/iom>"
    assert count(store, f"{iom} <http://www.w3.org/2000/01/rdf-schema#comment> ?c") == 0
    assert count(store, f"{iom} skos:editorialNote ?c FILTER(CONTAINS(?c, 'Only the acronym is written'))") == 1
    assert count(store, "?r a mdkg:Relationship ; <http://www.w3.org/2000/01/rdf-schema#comment> ?c") == 0
    assert count(store, "?r a mdkg:Relationship ; skos:editorialNote ?c") > 50


def test_no_local_paths_and_no_store_internals(store):
    local = r"(^|[ (])(raw/|/work/|/home/|/tmp/|[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+\\.(csv|html|yaml|txt))"
    assert count(store, f"?s ?p ?o FILTER(ISLITERAL(?o) && REGEX(STR(?o), '{local}'))") == 0
    assert (
        count(
            store,
            "GRAPH ?g { ?s ?p ?o } FILTER(STRSTARTS(STR(?s), 'urn:x-rdflib') "
            "|| STRSTARTS(STR(?o), 'urn:x-rdflib') || STRSTARTS(STR(?g), 'urn:x-rdflib'))",
        )
        == 0
    )
    # every quoted treaty fact cites a public address (a working copy: its repository at the commit)
    quoted = "?f a <http://www.w3.org/1999/02/22-rdf-syntax-ns#Statement> ; mdkg:quote ?q "
    assert count(store, quoted) > 20
    assert (
        count(
            store,
            quoted + "FILTER NOT EXISTS { ?f <http://www.w3.org/ns/prov#wasDerivedFrom> ?src "
            "FILTER(STRSTARTS(STR(?src), 'http')) }",
        )
        == 0
    )


def test_states_link_to_wikidata_as_the_source_table_says(store):
    with (ROOT / "seeds" / "links" / "wikidata-states.csv").open(encoding="utf-8", newline="") as f:
        table = {r["iso3"]: r["wikidata"] for r in csv.DictReader(f)}
    rows = store.query(
        PREFIXES + "SELECT ?s ?o WHERE { ?s a mdkg:State ; owl:sameAs ?o }", use_default_graph_as_union=True
    )
    links = {r["s"].value.rsplit("/", 1)[1]: r["o"].value for r in rows}
    assert len(links) >= 190
    assert links["PHL"] == "http://www.wikidata.org/entity/Q928"
    assert all(qid == "http://www.wikidata.org/entity/" + table[iso3] for iso3, qid in links.items())
    # nothing else claims to be a Wikidata item: organisations get one only from a named source
    assert count(store, "?s owl:sameAs ?o FILTER NOT EXISTS { ?s a mdkg:State }") == 0


# ------------------------------------------------------------------------------------------- over HTTP
def no_fetch(url, options=None):
    raise AssertionError(f"a JSON-LD answer must be readable without fetching anything: {url}")


def entity_paths(store) -> list[str]:
    rows = store.query(
        PREFIXES
        + f"""SELECT DISTINCT ?s WHERE {{
        GRAPH ?g {{ ?s a ?c }} FILTER(?g IN (<{BASE}graph/registry>, <{BASE}graph/reference>))
        FILTER(STRSTARTS(STR(?s), "{BASE}id/")) }}""",
        use_default_graph_as_union=False,
    )
    return sorted("/" + r["s"].value[len(BASE) :] for r in rows)


def test_every_entity_answers_compact_json_ld_with_the_published_context(base, store):
    paths = entity_paths(store)
    assert len(paths) > 400  # registry entities and the reference states
    with httpx.Client(base_url=base, timeout=60) as client:
        context = published = client.get("/context.jsonld").json()["@context"]

        def full(compact_iri: str) -> str:
            prefix, _, rest = compact_iri.partition(":")
            return context[prefix] + rest if prefix in context else compact_iri

        for path in paths:
            r = client.get(path, headers={"Accept": "application/ld+json"})
            assert r.status_code == 200, path
            doc = r.json()
            assert doc["@context"] == published, path
            ids = [full(node["@id"]) for node in doc["@graph"]]
            assert len(ids) == len(set(ids)), f"{path}: a subject spread over several node objects"
            assert ids[0] == BASE + path.lstrip("/"), f"{path}: the described thing comes first"
    # plain application/json gets the same document
    r = httpx.get(base + "/id/iom", headers={"Accept": "application/json"}, timeout=60)
    assert r.json()["@context"] == published


@pytest.mark.parametrize(
    "path",
    [
        "/id/iom",
        "/id/state/PHL",
        "/id/doc/iom-idm-2005",
        "/id/doc/iom-idm-2005/p287",
        "/id/icrmw",
        "/id/region/142",
        "/ontology",
    ],
)
def test_json_ld_round_trip_with_pyld_gives_the_same_graph(base, path):
    compact = httpx.get(base + path, headers={"Accept": "application/ld+json"}, timeout=60).json()
    assert "@context" in compact and "@graph" in compact
    expanded = jsonld.expand(compact, {"documentLoader": no_fetch})
    assert expanded and all(not k.startswith("mdkg:") for node in expanded for k in node)  # keys are full IRIs
    nquads = jsonld.to_rdf(expanded, {"format": "application/n-quads"})
    from_jsonld = Graph().parse(data=nquads, format="nt")
    nt = httpx.get(base + path, headers={"Accept": "application/n-triples"}, timeout=60).text
    from_nt = Graph().parse(data=nt, format="nt")
    assert len(from_nt) > 0
    assert isomorphic(from_jsonld, from_nt), path


def test_turtle_is_grouped_one_block_per_subject(base):
    text = httpx.get(base + "/id/iom", headers={"Accept": "text/turtle"}, timeout=60).text
    assert text.count("\nid:iom ") == 1  # every triple of IOM in one block
    assert "@prefix id: <" + BASE + "id/>" in text
    assert "\nid:iom a " in text  # the described thing first, its types first


def test_the_context_is_published(base):
    r = httpx.get(base + "/context.jsonld", timeout=60)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/ld+json")
    context = r.json()["@context"]
    assert context["id"] == BASE + "id/" and context["mdkg"] == BASE + "ontology#"


def our_iris(path: Path) -> set[str]:
    found: set[str] = set()
    pattern = re.compile(r"<(" + re.escape(BASE) + r"[^>]*)>")
    with path.open(encoding="utf-8") as f:
        for line in f:
            found.update(pattern.findall(line))
    return found


def test_every_iri_of_ours_dereferences(base, built_dataset):
    iris = our_iris(built_dataset)
    assert len(iris) > 5000
    failed = []
    with httpx.Client(base_url=base, timeout=60, follow_redirects=False) as client:
        for iri in sorted(iris):
            path = "/" + iri[len(BASE) :].split("#", 1)[0]
            r = client.head(path, headers={"Accept": "text/turtle"})
            if r.status_code != 200 and r.status_code not in REDIRECT:
                failed.append((iri, r.status_code))
    assert failed == []


@pytest.mark.parametrize(
    ("path", "status", "location"),
    [
        ("/id/state/phl", 301, "/id/state/PHL"),
        ("/id/state/Phl.ttl", 301, "/id/state/PHL.ttl"),
        ("/ontology/0.1.0", 302, "/ontology"),
        ("/api", 302, "/api/docs"),
        ("/api/", 302, "/api/docs"),
    ],
)
def test_redirects(base, path, status, location):
    r = httpx.get(base + path, timeout=60, follow_redirects=False)
    assert r.status_code == status, (path, r.status_code, r.text[:200])
    assert r.headers["location"].endswith(location)
    assert httpx.get(base + path, timeout=60, follow_redirects=True).status_code == 200


def test_unknown_versions_and_states_are_still_404(base):
    assert httpx.get(base + "/ontology/9.9.9", timeout=60).status_code == 404
    assert httpx.get(base + "/id/state/xyz", timeout=60, follow_redirects=False).status_code == 404


def test_favicon(base):
    r = httpx.get(base + "/favicon.ico", timeout=60)
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/")


def test_void_states_the_dataset_licence_the_terms_and_the_linksets(base):
    r = httpx.get(base + "/.well-known/void", headers={"Accept": "application/n-triples"}, timeout=60)
    g = Graph().parse(data=r.text, format="nt")
    rows = list(
        g.query("""PREFIX void: <http://rdfs.org/ns/void#> PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?licence (COUNT(DISTINCT ?rights) AS ?terms) WHERE {
          ?ds a void:Dataset ; void:sparqlEndpoint ?e ; dcterms:license ?licence ; dcterms:rights ?rights }
        GROUP BY ?licence""")
    )
    assert [(str(lic), int(n)) for lic, n in rows] == [("https://opensource.org/licenses/MIT", 4)]
    linksets = {
        str(p): int(n)
        for p, n in g.query("""PREFIX void: <http://rdfs.org/ns/void#>
        SELECT ?p ?n WHERE { ?ds void:sparqlEndpoint ?e ; void:subset ?l . ?l a void:Linkset ;
        void:linkPredicate ?p ; void:triples ?n ; void:subjectsTarget ?ds }""")
    }
    assert linksets["http://www.w3.org/2002/07/owl#sameAs"] >= 190
    assert linksets["http://www.w3.org/2000/01/rdf-schema#seeAlso"] >= 190


def test_entity_page_and_rest_api_show_external_identifiers(base):
    body = httpx.get(base + "/api/entities/state/PHL", timeout=60).json()
    ids = {(x["scheme"], x["id"], x["url"]) for x in body["external_ids"]}
    assert ("Wikidata", "Q928", "https://www.wikidata.org/wiki/Q928") in ids
    assert ("ISO 3166-1 alpha-3", "PHL", "https://www.iso.org/obp/ui/#iso:code:3166:PH") in ids
    html = httpx.get(base + "/id/state/PHL", headers={"Accept": "text/html"}, timeout=60).text
    section = html.split('id="external-ids"', 1)[1].split("</section>", 1)[0]
    assert 'href="https://www.wikidata.org/wiki/Q928">Q928</a>' in section
    assert httpx.get(base + "/api/entities/iom", timeout=60).json()["external_ids"] == []


def test_json_ld_keys_are_compact(base):
    doc = httpx.get(base + "/id/state/PHL.jsonld", timeout=60).json()
    node = doc["@graph"][0]
    assert node["@id"] == "state:PHL"
    assert node["owl:sameAs"] == {"@id": "wd:Q928"}
    assert [n["@id"] for n in doc["@graph"]].count("state:PHL") == 1


def test_the_old_iri_of_a_renamed_thing_redirects(tmp_path, built_dataset):
    """seeds/ids/redirects.csv (the build's copy) maps an old id to the new one: the old IRI answers 301 to the new,
    any form."""
    from sparql_server import mdkg_server

    build = tmp_path / "build"
    shutil.copytree(built_dataset.parent, build)
    (build / "seeds" / "ids" / "redirects.csv").write_text("old,new\nint-org-for-migration,iom\n", encoding="utf-8")
    with mdkg_server(tmp_path, "--data", str(build / "mdkg.nq"), "--workers", "1") as (url, _proc):
        r = httpx.get(url + "/id/int-org-for-migration.ttl", timeout=60, follow_redirects=False)
        assert r.status_code == 301 and r.headers["location"].endswith("/id/iom.ttl")
        assert httpx.get(url + "/id/iom", timeout=60, follow_redirects=False).status_code == 200
        assert httpx.get(url + "/id/no-such-thing", timeout=60, follow_redirects=False).status_code == 404
