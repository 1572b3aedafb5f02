"""What the endpoint says about itself: the SPARQL Service Description (GET /sparql without a query), the VoID
description of the dataset (served by api.routers.service), the query page, and whether a remote store answers.
Used by the protocol router (api.sparql) and the service router alike.
Statistics come from SPARQL queries run through the worker pool, once, then cached."""

from __future__ import annotations

import asyncio
import json
from html import escape
from pathlib import Path

import httpx
import pyoxigraph as ox
from fastapi import Request, Response
from fastapi.responses import HTMLResponse

from api import formats as F
from api.errors import plain
from api.render import STATIC
from api.security import QUERY_PAGE_POLICY
from api.state import AppState, state_of
from api.workers import HARD_MAX_TIMEOUT, Job
from graph.store import REMOTE_ACCEPT

SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
# VoID partitions: the statistics' key (its first letter names the blank nodes), the link from the dataset, what
# the partition is of, what its number counts
PARTITIONS = (("classes", "classPartition", "class", "entities"), ("properties", "propertyPartition", "property",
                                                                    "triples"))
DCT = "http://purl.org/dc/terms/"
XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")

STATS_QUERIES = {
    "graphs": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g",
    "triples": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "classes": "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c ORDER BY DESC(?n) LIMIT 500",
    "properties": "SELECT ?c (COUNT(*) AS ?n) WHERE { ?s ?c ?o } GROUP BY ?c ORDER BY DESC(?n) LIMIT 500",
}


def about_query(state: AppState) -> str:
    """The build's own description of the dataset (seeds/links/dataset.yaml): licence, terms, linksets."""
    ds = f"<{state.settings.ns.ID['dataset']}>"
    return (
        f"SELECT ?s ?p ?o WHERE {{ {{ {ds} ?p ?o BIND({ds} AS ?s) }} UNION {{ {ds} <{VOID}subset> ?s . ?s ?p ?o }} }}"
    )


def _term(b: dict):
    if b["type"] == "uri":
        return ox.NamedNode(b["value"])
    if b["type"] == "bnode":
        return ox.BlankNode(b["value"])
    if "xml:lang" in b:
        return ox.Literal(b["value"], language=b["xml:lang"])
    return ox.Literal(b["value"], datatype=ox.NamedNode(b["datatype"]) if "datatype" in b else None)


def _n(name: str, ns: str = SD) -> ox.NamedNode:
    return ox.NamedNode(ns + name)


def _int(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=XSD_INTEGER)


def root_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def dump_name(request: Request) -> str:
    data = state_of(request).config.data
    return Path(data).name.split(".", 1)[0] if data else "dataset"


def dump_links(request: Request) -> list[tuple[F.Format, str]]:
    if state_of(request).config.remote:
        return []
    root, name = root_url(request), dump_name(request)
    return [(f, f"{root}/dumps/{name}.{f.extension}") for f in F.DUMP_FORMATS]


STATS_WAIT = 10.0  # seconds a description request waits for the statistics before answering without them


async def statistics(request: Request) -> dict:
    """Triples per graph, in the union, per class and per property, computed once in the background (on a
    large store this takes a while); {} while they are not known yet."""
    cache = state_of(request).cache
    if "stats" in cache:
        return cache["stats"]
    task = cache.get("stats-task")
    if task is None:
        task = cache["stats-task"] = asyncio.create_task(_compute_statistics(state_of(request)))
    try:
        return await asyncio.wait_for(asyncio.shield(task), STATS_WAIT)
    except TimeoutError:
        return {}


async def _compute_statistics(state: AppState) -> dict:
    stats: dict = {}
    outcome = await state.pool.run(Job(about_query(state), max_rows=10_000), HARD_MAX_TIMEOUT, internal=True)
    if outcome.status == 200:
        rows = json.loads(outcome.body)["results"]["bindings"]
        stats["about"] = [(_term(r["s"]), _term(r["p"]), _term(r["o"])) for r in rows if {"s", "p", "o"} <= set(r)]
    for key, query in STATS_QUERIES.items():
        outcome = await state.pool.run(Job(query, max_rows=10_000), HARD_MAX_TIMEOUT, internal=True)
        if outcome.status != 200:
            break  # cached as far as it got: no retry storm on a store too large to count
        bindings = json.loads(outcome.body)["results"]["bindings"]
        if key == "triples":
            stats[key] = int(bindings[0]["n"]["value"]) if bindings else 0
        else:
            var = "g" if key == "graphs" else "c"
            stats[key] = [(b[var]["value"], int(b["n"]["value"])) for b in bindings if var in b]
    state.cache["stats"] = stats
    return stats


def dataset_description(request: Request, stats: dict, partitions: bool) -> list[ox.Triple]:
    state = state_of(request)
    settings = state.settings
    root = root_url(request)
    ds = ox.NamedNode(f"{root}/.well-known/void#dataset")
    endpoint = ox.NamedNode(f"{root}/sparql")
    t = [
        ox.Triple(ds, RDF_TYPE, _n("Dataset")),
        ox.Triple(ds, RDF_TYPE, _n("Dataset", VOID)),
        ox.Triple(ds, _n("title", DCT), ox.Literal(state.config.title)),
        ox.Triple(ds, _n("sparqlEndpoint", VOID), endpoint),
        ox.Triple(ds, _n("uriSpace", VOID), ox.Literal(settings.base)),
        ox.Triple(ds, _n("vocabulary", VOID), ox.NamedNode(settings.ns.MDKG)),
    ]
    for _fmt, url in dump_links(request):
        t.append(ox.Triple(ds, _n("dataDump", VOID), ox.NamedNode(url)))
    ours = ox.NamedNode(settings.ns.ID["dataset"])
    if stats.get("about"):  # licence, terms of the sources and linksets, as the build states them
        t.append(ox.Triple(ds, ox.NamedNode("http://www.w3.org/2002/07/owl#sameAs"), ours))
    for s, p, o in stats.get("about", []):
        if p.value in (RDF_TYPE.value, _n("uriSpace", VOID).value) and s == ours:
            continue
        t.append(ox.Triple(ds if s == ours else s, p, ds if o == ours else o))
    default = ox.BlankNode("defaultGraph")
    t += [ox.Triple(ds, _n("defaultGraph"), default), ox.Triple(default, RDF_TYPE, _n("Graph"))]
    if "triples" in stats:
        t += [
            ox.Triple(ds, _n("triples", VOID), _int(stats["triples"])),
            ox.Triple(default, _n("triples", VOID), _int(stats["triples"])),
        ]
    for i, (graph, n) in enumerate(stats.get("graphs", [])):
        named, g = ox.BlankNode(f"ng{i}"), ox.BlankNode(f"g{i}")
        t += [
            ox.Triple(ds, _n("namedGraph"), named),
            ox.Triple(named, RDF_TYPE, _n("NamedGraph")),
            ox.Triple(named, _n("name"), ox.NamedNode(graph)),
            ox.Triple(named, _n("graph"), g),
            ox.Triple(g, RDF_TYPE, _n("Graph")),
            ox.Triple(g, _n("triples", VOID), _int(n)),
        ]
    if partitions:
        for key, *_ in PARTITIONS:
            t.append(ox.Triple(ds, _n(key, VOID), _int(len(stats.get(key, [])))))
        for key, link, kind, measure in PARTITIONS:
            for i, (item, n) in enumerate(stats.get(key, [])):
                p = ox.BlankNode(f"{key[0]}{i}")
                t += [
                    ox.Triple(ds, _n(link, VOID), p),
                    ox.Triple(p, _n(kind, VOID), ox.NamedNode(item)),
                    ox.Triple(p, _n(measure, VOID), _int(n)),
                ]
    return t


def service_triples(request: Request, stats: dict) -> list[ox.Triple]:
    root = root_url(request)
    config = state_of(request).config
    svc = ox.NamedNode(f"{root}/sparql")
    t = [
        ox.Triple(svc, RDF_TYPE, _n("Service")),
        ox.Triple(svc, _n("endpoint"), svc),
        ox.Triple(svc, _n("supportedLanguage"), _n("SPARQL11Query")),
        ox.Triple(svc, _n("feature"), _n("UnionDefaultGraph")),
        ox.Triple(svc, _n("defaultEntailmentRegime"), ox.NamedNode("http://www.w3.org/ns/entailment/Simple")),
        ox.Triple(svc, _n("defaultDataset"), ox.NamedNode(f"{root}/.well-known/void#dataset")),
        ox.Triple(svc, _n("title", DCT), ox.Literal(config.title)),
        ox.Triple(
            svc,
            ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#seeAlso"),
            ox.NamedNode(f"{root}/.well-known/void"),
        ),
    ]
    if config.service_allowlist:
        t.append(ox.Triple(svc, _n("feature"), _n("BasicFederatedQuery")))
    for fmt in F.candidates([F.RESULTS, F.GRAPH]):
        iri = (fmt.results or fmt.rdf).iri if (fmt.results or fmt.rdf) else None
        if iri:
            t.append(ox.Triple(svc, _n("resultFormat"), ox.NamedNode(iri)))
    return t + dataset_description(request, stats, partitions=False)


def rdf_response(triples: list[ox.Triple], fmt: F.Format) -> Response:
    triples = sorted(triples, key=lambda t: (isinstance(t.subject, ox.BlankNode), str(t.subject)))  # stable
    return Response(F.write_triples(triples, fmt), media_type=fmt.content_type, headers={"Vary": "Accept"})


async def describe_service(request: Request, accept: str | None, overrides: list[str]) -> Response:
    fmt = F.negotiate(accept, [F.GRAPH, F.PAGE], overrides)
    if fmt is None:
        return plain(406, f"the service description is available as {F.acceptable_list([F.GRAPH, F.PAGE])}")
    if fmt.key == "html":
        return query_page(request)
    return rdf_response(service_triples(request, await statistics(request)), fmt)


async def remote_problem(config) -> str | None:
    """In remote mode, why the remote server cannot answer (None: it answers). Asked directly, not through a
    query worker, so that a busy pool does not make the check wait."""
    if not config.remote:
        return None
    try:
        async with httpx.AsyncClient(timeout=3, headers=dict(config.remote_headers)) as client:
            r = await client.post(config.remote, data={"query": "ASK {}"}, headers={"Accept": REMOTE_ACCEPT})
    except httpx.HTTPError as e:
        return f"the remote SPARQL server cannot be reached: {type(e).__name__}"
    if r.status_code >= 400:
        return f"the remote SPARQL server answered {r.status_code} to ASK {{}}"
    return None


# ---------------------------------------------------------------------------------------------- query page


def examples(state: AppState) -> list[dict]:
    """Example queries of the page: gaps, partnerships, centrality, and the repository's gap queries."""
    out = []
    bundled = STATIC / "examples"
    for name, title, description in (
        ("gaps", "Gaps", "States on a corridor or in a partnership that are not party to the ICRMW"),
        ("partnerships", "Partnerships", "Curated partnerships with their partners"),
        ("centrality", "Centrality", "Stakeholders by degree in the partnership network (mdkg:partnerOf)"),
    ):
        out.append(
            {
                "name": title,
                "description": description,
                "query": (bundled / f"{name}.rq").read_text(encoding="utf-8"),
            }
        )
    for name in ("gaps-in-scope", "gaps-by-region"):
        path = state.settings.queries_dir / f"{name}.rq"
        if path.is_file():
            out.append({"name": name, "description": f"queries/{name}.rq", "query": path.read_text(encoding="utf-8")})
    return out


def query_page(request: Request) -> Response:
    state = state_of(request)
    cache = state.cache
    if "examples" not in cache:
        cache["examples"] = json.dumps(examples(state)).replace("<", "\\u003c")  # inert in a <script> data block
    root = str(request.scope.get("root_path", "")).rstrip("/")
    dumps = " ".join(f'<a href="{url}">{fmt.label} dump</a>' for fmt, url in dump_links(request))
    html = (STATIC / "query.html").read_text(encoding="utf-8")
    for key, value in (
        ("__TITLE__", escape(state.config.title)),
        ("__STATIC__", f"{root}/static"),
        ("__ENDPOINT__", f"{root}/sparql"),
        ("__ROOT__", root),
        ("__DUMPS__", dumps),
        ("__EXAMPLES__", cache["examples"]),
    ):
        html = html.replace(key, value)
    return HTMLResponse(html, headers={"Vary": "Accept", "Content-Security-Policy": QUERY_PAGE_POLICY})
