"""Dereferenceable IRIs: every `{base}id/...` IRI, the ontology and the shapes answer under this server's origin.

IRI <-> path (the one place that maps them): `{base}id/X` <-> `/id/X`, `{base}ontology` (and its terms
`{base}ontology#T`) <-> `/ontology`, `{base}shapes` (`{base}shapes#S`) <-> `/shapes`. `local_path()` and
`iri_of()` are used by every page and API answer that links an IRI.

Cool URIs: same-IRI content negotiation (no 303). `GET /id/X` answers HTML to browsers and Turtle, JSON-LD,
N-Triples or RDF/XML to clients that ask for them (the Accept header, or `?format=`, through api.formats, the
server's one negotiation table), with `Vary: Accept`, a `Content-Location` naming the explicit form
(`/id/X.ttl`, `.jsonld`, `.nt`, `.rdf`, `.html`) and `Link: rel="alternate"` headers for the others. The
explicit forms always answer their own format. The RDF description of an entity is its outgoing triples, the
labels of what they point at, and up to 1000 incoming triples with the labels of their subjects.

Data access: all SPARQL goes through the endpoint's worker pool (`app.state.pool`), so its deadlines apply;
`PoolStore` gives the pool the `store.query()` face graph.entities, graph.gaps and graph.network expect, for
code run in a thread (`in_thread`). Nothing here loads the dataset a second time."""

from __future__ import annotations

import asyncio
import csv
import json
import re
from collections import OrderedDict
from pathlib import Path

import pyoxigraph as ox
from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from api import formats as F
from api.current import settings
from api.workers import Job
from graph import entities as E
from mdkg import iris

router = APIRouter()

RDF_KEYS = ("turtle", "jsonld", "ntriples", "rdfxml")
EXTENSIONS = {F.BY_KEY[k].extension: F.BY_KEY[k] for k in RDF_KEYS} | {"html": F.BY_KEY["html"]}
INCOMING_CAP = 1000
STATIC_DIR = Path(__file__).resolve().parent / "static"


# ------------------------------------------------------------------------------------------- IRI <-> path
def base() -> str:
    return settings().ns.base


def local_path(value: str) -> str | None:
    """The path under which this server answers for `value`, or None if it is not one of ours."""
    b = base()
    if not value.startswith(b):
        return None
    rest = value[len(b) :]
    for root in ("id/", "graph/", "ontology", "shapes", CONTEXT_PATH.lstrip("/")):
        if rest.startswith(root):
            return "/" + rest
    return None


def iri_of(path: str) -> str:
    """The IRI a local path (`/id/...`, `/ontology`, `/shapes`) stands for."""
    return base() + path.lstrip("/")


def entity_iri(entity_id: str) -> str:
    return str(settings().ns.ID) + entity_id


def entity_id(value: str) -> str | None:
    return iris.entity_id(value, settings())


# ------------------------------------------------------------------------------------------- store access
class StoreUnavailable(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class PoolStore:
    """`query()` over the worker pool, for synchronous code running in a thread (see `in_thread`)."""

    def __init__(self, app, loop: asyncio.AbstractEventLoop, client: str | None = None):
        self.app, self.loop, self.client = app, loop, client  # client: whose request this is (per-client limits)

    def query(self, query: str, use_default_graph_as_union: bool = True, **_):
        config = self.app.state.config
        job = Job(
            query,
            results_format="json",
            boolean_format="json",
            graph_format="ntriples",
            max_rows=config.max_rows,
        )
        run = self.app.state.pool.run(job, config.deadline, internal=True, client=self.client)
        fut = asyncio.run_coroutine_threadsafe(run, self.loop)
        outcome = fut.result()
        if outcome.status != 200:
            raise StoreUnavailable(outcome.status, outcome.body.decode("utf-8", "replace").strip())
        return ox.parse_query_results(outcome.body, format=ox.QueryResultsFormat.JSON)


MEMO_SIZE = 2048  # answers remembered per server: the dataset does not change while it runs


async def in_thread(request: Request, fn, *args, **kwargs):
    """`fn(store, *args, **kwargs)` in a thread, with a PoolStore as `store`; answers are remembered (LRU), so a
    popular page costs the query workers nothing the second time."""
    memo = request.app.state.cache.setdefault("ui:memo", OrderedDict())
    key = (
        getattr(fn, "__module__", ""),
        getattr(fn, "__qualname__", repr(fn)),
        repr(args),
        repr(sorted(kwargs.items())),
    )
    if key in memo:
        memo.move_to_end(key)
        return memo[key]
    store = PoolStore(request.app, asyncio.get_running_loop(), request.client.host if request.client else None)
    # every function run for a request gets the server's settings (base IRI, where its queries are)
    value = await asyncio.to_thread(fn, store, *args, settings=request.app.state.settings, **kwargs)
    memo[key] = value
    while len(memo) > MEMO_SIZE:
        memo.popitem(last=False)
    return value


async def cached(request: Request, key: str, fn, *args):
    """`fn(store, *args)` once per server (for what does not change while it runs: the dataset is fixed)."""
    cache = request.app.state.cache
    full = f"ui:{key}"
    if full not in cache:
        lock = cache.setdefault(f"{full}:lock", asyncio.Lock())
        async with lock:
            if full not in cache:
                cache[full] = await in_thread(request, fn, *args)
    return cache[full]


CONTEXT_PATH = "/context.jsonld"


async def construct(request: Request, query: str, fmt: F.Format, main: str | None = None) -> Response:
    """The triples of a CONSTRUCT in `fmt`; Turtle grouped by subject and JSON-LD compacted (api.formats), with
    `main` (the described thing) first."""
    config = request.app.state.config
    shaped = fmt.key in ("turtle", "jsonld")
    job = Job(query, graph_format="ntriples" if shaped else fmt.key, max_rows=config.max_rows)
    client = request.client.host if request.client else None
    outcome = await request.app.state.pool.run(job, config.deadline, internal=True, client=client)
    if outcome.status != 200:
        raise StoreUnavailable(outcome.status, outcome.body.decode("utf-8", "replace").strip())
    if not shaped:
        return Response(outcome.body, media_type=fmt.content_type)
    triples = list(ox.parse(outcome.body, format=ox.RdfFormat.N_TRIPLES))
    if fmt.key == "turtle":
        body = F.write_grouped_turtle(triples, base(), main)
        return Response(body, media_type=fmt.content_type)
    body = F.write_compact_jsonld(triples, base(), main)
    return Response(body, media_type=fmt.content_type)


@router.api_route(CONTEXT_PATH, methods=["GET", "HEAD"], include_in_schema=False)
async def jsonld_context() -> Response:
    """The @context of every JSON-LD answer (which carries it inline); its IRI is `{base}context.jsonld`."""
    body = json.dumps(F.jsonld_context(base()), indent=1).encode("utf-8")
    return Response(body, media_type="application/ld+json",
                    headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=3600"})


def description_query(subject: str) -> str:
    s = E.iri(subject)
    return f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
CONSTRUCT {{ {s} ?p ?o . ?o rdfs:label ?ol . ?x ?q {s} . ?x rdfs:label ?xl }} WHERE {{
  {{ {s} ?p ?o OPTIONAL {{ ?o rdfs:label ?ol }} }}
  UNION {{ {{ SELECT ?x ?q WHERE {{ ?x ?q {s} }} LIMIT {INCOMING_CAP} }} OPTIONAL {{ ?x rdfs:label ?xl }} }}
}}"""


# ------------------------------------------------------------------------------------------- negotiation
def choose(request: Request, extension: str | None) -> F.Format | None:
    if extension:
        return EXTENSIONS[extension]
    fmt = F.negotiate(request.headers.get("accept"), [F.GRAPH, F.PAGE], request.query_params.getlist("format"))
    if fmt is not None and fmt.key not in (*RDF_KEYS, "html"):
        # TriG / N-Quads name a dataset: an entity's description is triples; answer Turtle's cousin N-Triples
        fmt = F.BY_KEY["ntriples"] if fmt.key == "nquads" else F.BY_KEY["turtle"]
    return fmt


def split_extension(path: str) -> tuple[str, str | None]:
    stem, dot, ext = path.rpartition(".")
    if dot and ext in EXTENSIONS and stem:
        return stem, ext
    return path, None


def link_headers(path: str, fmt: F.Format, explicit: bool) -> dict[str, str]:
    links = [
        f'<{path}.{f.extension}>; rel="alternate"; type="{f.media_type}"'
        for f in (F.BY_KEY[k] for k in (*RDF_KEYS, "html"))
        if f is not fmt
    ]
    headers = {"Link": ", ".join(links)}
    if not explicit:
        headers["Vary"] = "Accept"
        headers["Content-Location"] = f"{path}.{fmt.extension}"
    return headers


def not_acceptable(what: str) -> Response:
    from api.problems import problem

    kinds = ", ".join(F.BY_KEY[k].media_type for k in (*RDF_KEYS, "html"))
    return problem(406, f"{what} is available as {kinds} (or add ?format= / an extension such as .ttl)")


async def _rdf_or_page(request: Request, path: str, subject: str, ext: str | None, page) -> Response:
    from api import pages
    from api.problems import problem

    fmt = choose(request, ext)
    if fmt is None:
        return not_acceptable(path)
    try:
        if fmt.key == "html":
            response = await page()
        elif not await in_thread(request, E.exists, subject):
            return problem(404, f"nothing is known about {subject}", instance=path)
        else:
            response = await construct(request, description_query(subject), fmt, subject)
    except StoreUnavailable as e:
        if fmt.key == "html":
            return pages.error_page(request, e.status, str(e))
        return problem(e.status if e.status >= 500 else 503, str(e))
    if response.status_code == 200:
        response.headers.update(link_headers(path, fmt, ext is not None))
    return response


@router.api_route("/id/{rest:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def dereference(request: Request, rest: str) -> Response:
    from api import pages

    try:
        E.iri(entity_iri(rest))  # before any query: a path that is no IRI (<, ", spaces...) is a 404, not a 500
    except E.BadIri:
        return pages.error_page(request, 404, f"not an IRI of this graph: /id/{rest}")
    stem, ext = split_extension(rest)
    for candidate, form in ((stem, ext), (rest, None)) if ext else ((rest, None),):
        moved = await moved_to(request, candidate)
        if moved is not None:
            query = f"?{request.url.query}" if request.url.query else ""
            return RedirectResponse(f"/id/{moved}{'.' + form if form else ''}{query}", status_code=301)
    if ext and not await in_thread(request, E.exists, entity_iri(stem)):
        stem, ext = rest, None  # an id that happens to end like an extension
    subject = entity_iri(stem)
    return await _rdf_or_page(request, f"/id/{stem}", subject, ext, lambda: pages.entity_page(request, subject))


@router.api_route("/graph/{rest:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def named_graph(request: Request, rest: str) -> Response:
    """A named graph's IRI (`{base}graph/registry`...) answers what the dataset says about the graph (its
    provenance), negotiated like an entity; the graph's content is in the dumps and the SPARQL endpoint."""
    from api import pages

    stem, ext = split_extension(rest)
    subject = base() + f"graph/{stem}"
    try:
        E.iri(subject)
    except E.BadIri:
        return pages.error_page(request, 404, f"not an IRI of this graph: /graph/{rest}")
    return await _rdf_or_page(request, f"/graph/{stem}", subject, ext, lambda: pages.entity_page(request, subject))


# ------------------------------------------------------------------------------------------- redirects
STATE_CODE = re.compile(r"^state/([A-Za-z]{3})$")


def redirects() -> dict[str, str]:
    """Old id -> new id of renamed things (seeds/ids/redirects.csv), read once."""
    if not hasattr(redirects, "table"):
        path = settings().redirects_file
        table: dict[str, str] = {}
        if path.is_file():
            with path.open(encoding="utf-8", newline="") as f:
                table = {r["old"]: r["new"] for r in csv.DictReader(f) if r.get("old") and r.get("new")}
        redirects.table = table
    return redirects.table


async def moved_to(request: Request, stem: str) -> str | None:
    """Where an id that names nothing now lives: a state code in the wrong case (`state/phl` -> `state/PHL`), or a
    renamed thing. None if `stem` names something (or nothing is known)."""
    m = STATE_CODE.match(stem)
    if m and m.group(1) != m.group(1).upper():
        upper = f"state/{m.group(1).upper()}"
        if await in_thread(request, E.exists, entity_iri(upper)):
            return upper
    new = redirects().get(stem)
    if new and not await in_thread(request, E.exists, entity_iri(stem)):
        return new
    return None


# ------------------------------------------------------------------------------------------- ontology, shapes
def ontology_query() -> str:
    g = E.iri(str(settings().ns.graph("ontology")))
    return f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {g} {{ ?s ?p ?o }} }}"


@router.api_route("/ontology", methods=["GET", "HEAD"], include_in_schema=False)
@router.api_route("/ontology.{ext}", methods=["GET", "HEAD"], include_in_schema=False)
async def ontology(request: Request, ext: str | None = None) -> Response:
    from api import pages
    from api.problems import problem

    if ext is not None and ext not in EXTENSIONS:
        return problem(
            404, f"no such form of the ontology: .{ext}; use one of " + ", ".join("." + e for e in EXTENSIONS)
        )
    fmt = choose(request, ext)
    if fmt is None:
        return not_acceptable("the ontology")
    try:
        response = await (
            pages.ontology_page(request) if fmt.key == "html" else construct(request, ontology_query(), fmt)
        )
    except StoreUnavailable as e:
        return problem(503, str(e))
    response.headers.update(link_headers("/ontology", fmt, ext is not None))
    return response


def version_iri_query() -> str:
    g = E.iri(str(settings().ns.graph("ontology")))
    o = E.iri(base() + "ontology")
    return f"SELECT ?v WHERE {{ GRAPH {g} {{ {o} <http://www.w3.org/2002/07/owl#versionIRI> ?v }} }}"


def _version_iris(store, settings) -> list[str]:
    return [r["v"].value for r in store.query(version_iri_query())]


@router.api_route("/ontology/{version}", methods=["GET", "HEAD"], include_in_schema=False)
async def ontology_version(request: Request, version: str) -> Response:
    """The ontology's owl:versionIRI resolves: the current version redirects to /ontology (an extension kept)."""
    from api.problems import problem

    stem, ext = split_extension(version)
    try:
        current = await cached(request, "ontology-versions", _version_iris)
    except StoreUnavailable as e:
        return problem(503, str(e))
    if iri_of(f"/ontology/{stem}") not in current:
        known = ", ".join(local_path(v) or v for v in current) or "none"
        return problem(404, f"no such version of the ontology: {stem}; this server has {known}")
    return RedirectResponse("/ontology" + (f".{ext}" if ext else ""), status_code=302)


@router.api_route("/api", methods=["GET", "HEAD"], include_in_schema=False)
@router.api_route("/api/", methods=["GET", "HEAD"], include_in_schema=False)
async def api_root() -> Response:
    return RedirectResponse("/api/docs", status_code=302)


@router.api_route("/favicon.ico", methods=["GET", "HEAD"], include_in_schema=False)
async def favicon() -> Response:
    return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml",
                        headers={"Cache-Control": "public, max-age=86400"})


SHAPES_FILE = "mdkg-shapes.ttl"


def shapes_store() -> ox.Store:
    """The SHACL shapes (not part of the dataset: the build validates against them), parsed once."""
    store = ox.Store()
    path = settings().served_shapes_dir / SHAPES_FILE
    text = settings().ns.moved(path.read_text(encoding="utf-8"))
    store.load(text.encode("utf-8"), format=ox.RdfFormat.TURTLE, base_iri=base() + "shapes")
    return store


def shapes(request: Request) -> ox.Store:
    cache = request.app.state.cache
    if "ui:shapes" not in cache:
        cache["ui:shapes"] = shapes_store()
    return cache["ui:shapes"]


@router.api_route("/shapes", methods=["GET", "HEAD"], include_in_schema=False)
@router.api_route("/shapes.{ext}", methods=["GET", "HEAD"], include_in_schema=False)
async def shapes_doc(request: Request, ext: str | None = None) -> Response:
    from api import pages
    from api.problems import problem

    if ext is not None and ext not in EXTENSIONS:
        return problem(404, f"no such form of the shapes: .{ext}")
    fmt = choose(request, ext)
    if fmt is None:
        return not_acceptable("the shapes")
    if fmt.key == "html":
        response = await pages.shapes_page(request)
    else:
        body = F.write_triples([q.triple for q in shapes(request)], fmt)
        response = Response(body, media_type=fmt.content_type)
    response.headers.update(link_headers("/shapes", fmt, ext is not None))
    return response


@router.get("/id", include_in_schema=False)
async def id_root() -> Response:
    return RedirectResponse("/search", status_code=302)


def json_script(value) -> str:
    """JSON safe to put inside a <script> element."""
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")


__all__ = ["HTMLResponse", "iri_of", "local_path", "router"]
