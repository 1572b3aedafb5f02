"""Dereferenceable IRIs: every `{base}id/...` IRI, the named graphs, the ontology and the shapes answer under
this server's origin (api.paths maps IRIs to paths).

Cool URIs: same-IRI content negotiation (no 303). `GET /id/X` answers HTML to browsers (the entity page) and
Turtle, JSON-LD, N-Triples or RDF/XML to clients that ask for them (the Accept header, or `?format=`, through
api.formats, the server's one negotiation table), with `Vary: Accept`, a `Content-Location` naming the explicit
form (`/id/X.ttl`, `.jsonld`, `.nt`, `.rdf`, `.html`) and `Link: rel="alternate"` headers for the others. The
explicit forms always answer their own format. The RDF description of an entity is its outgoing triples, the
labels of what they point at, and up to 1000 incoming triples with the labels of their subjects.

The entity page's data comes in one trip to a query worker (graph.entity_page), its ego network from the
network view computed when the server started."""

from __future__ import annotations

import csv
import json
import re
from urllib.parse import urlencode

import pyoxigraph as ox
from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, RedirectResponse

from api import formats as F
from api import store as S
from api.errors import html_errors
from api.paths import CONTEXT_PATH
from api.problems import problem
from api.render import RDF_KEYS, STATIC, error_page, rdf_forms, render
from api.state import state_of
from graph import entities as E
from graph import entity_page as EP
from graph import network_views as NV
from graph.shape_docs import shape_docs

router = APIRouter()

EXTENSIONS = {F.BY_KEY[k].extension: F.BY_KEY[k] for k in RDF_KEYS} | {"html": F.BY_KEY["html"]}
INCOMING_CAP = 1000  # incoming triples in an RDF description
INVERSE_PREVIEW = 10  # subjects shown per inverse relation on the entity page
INVERSE_PAGE = 50  # per page when one inverse relation is paged through
PAGE_INCOMING_CAP = 3000  # incoming links read for the previews (relations past it: counts and links only)


# ------------------------------------------------------------------------------------------- negotiation
def choose(request: Request, extension: str | None) -> F.Format | None:
    if extension:
        return EXTENSIONS[extension]
    fmt = F.negotiate(request.headers.get("accept"), [F.GRAPH, F.PAGE], request.query_params.getlist("format"))
    if fmt is not None and fmt.key not in (*RDF_KEYS, "html"):
        # TriG / N-Quads name a dataset: an entity's description is triples; answer Turtle's cousin N-Triples
        fmt = F.BY_KEY["ntriples"] if fmt.key == "nquads" else F.BY_KEY["turtle"]
    if fmt is not None and fmt.key == "html":
        html_errors(request)
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
    kinds = ", ".join(F.BY_KEY[k].media_type for k in (*RDF_KEYS, "html"))
    return problem(406, f"{what} is available as {kinds} (or add ?format= / an extension such as .ttl)")


async def construct(request: Request, query: str, fmt: F.Format, main: str | None = None) -> Response:
    """The triples of a CONSTRUCT in `fmt`; Turtle grouped by subject and JSON-LD compacted (api.formats), with
    `main` (the described thing) first."""
    shaped = fmt.key in ("turtle", "jsonld")
    body = await S.construct(request, query, "ntriples" if shaped else fmt.key)
    if not shaped:
        return Response(body, media_type=fmt.content_type)
    triples = list(ox.parse(body, format=ox.RdfFormat.N_TRIPLES))
    base = state_of(request).settings.ns.base
    write = F.write_grouped_turtle if fmt.key == "turtle" else F.write_compact_jsonld
    return Response(write(triples, base, main), media_type=fmt.content_type)


def description_query(subject: str) -> str:
    s = E.iri(subject)
    return f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
CONSTRUCT {{ {s} ?p ?o . ?o rdfs:label ?ol . ?x ?q {s} . ?x rdfs:label ?xl }} WHERE {{
  {{ {s} ?p ?o OPTIONAL {{ ?o rdfs:label ?ol }} }}
  UNION {{ {{ SELECT ?x ?q WHERE {{ ?x ?q {s} }} LIMIT {INCOMING_CAP} }} OPTIONAL {{ ?x rdfs:label ?xl }} }}
}}"""


async def rdf_or_page(request: Request, path: str, subject: str, ext: str | None) -> Response:
    fmt = choose(request, ext)
    if fmt is None:
        return not_acceptable(path)
    if fmt.key == "html":
        response = await entity_page(request, subject)
    elif not await S.call(request, E.exists, subject):
        return problem(404, f"nothing is known about {subject}", instance=path)
    else:
        response = await construct(request, description_query(subject), fmt, subject)
    if response.status_code == 200:
        response.headers.update(link_headers(path, fmt, ext is not None))
    return response


@router.api_route(CONTEXT_PATH, methods=["GET", "HEAD"], include_in_schema=False)
async def jsonld_context(request: Request) -> Response:
    """The @context of every JSON-LD answer (which carries it inline); its IRI is `{base}context.jsonld`."""
    body = json.dumps(F.jsonld_context(state_of(request).settings.ns.base), indent=1).encode("utf-8")
    return Response(
        body,
        media_type="application/ld+json",
        headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=3600"},
    )


@router.api_route("/id/{rest:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def dereference(request: Request, rest: str) -> Response:
    paths = state_of(request).paths
    try:
        E.iri(paths.entity_iri(rest))  # before any query: a path that is no IRI (<, ", spaces...) is a 404, not a 500
    except E.BadIri:
        return error_page(request, 404, f"not an IRI of this graph: /id/{rest}")
    stem, ext = split_extension(rest)
    for candidate, form in ((stem, ext), (rest, None)) if ext else ((rest, None),):
        moved = await moved_to(request, candidate)
        if moved is not None:
            query = f"?{request.url.query}" if request.url.query else ""
            return RedirectResponse(f"/id/{moved}{'.' + form if form else ''}{query}", status_code=301)
    if ext and not await S.call(request, E.exists, paths.entity_iri(stem)):
        stem, ext = rest, None  # an id that happens to end like an extension
    return await rdf_or_page(request, f"/id/{stem}", paths.entity_iri(stem), ext)


@router.api_route("/graph/{rest:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def named_graph(request: Request, rest: str) -> Response:
    """A named graph's IRI (`{base}graph/registry`...) answers what the dataset says about the graph (its
    provenance), negotiated like an entity; the graph's content is in the dumps and the SPARQL endpoint."""
    stem, ext = split_extension(rest)
    subject = state_of(request).paths.iri_of(f"/graph/{stem}")
    try:
        E.iri(subject)
    except E.BadIri:
        return error_page(request, 404, f"not an IRI of this graph: /graph/{rest}")
    return await rdf_or_page(request, f"/graph/{stem}", subject, ext)


# ------------------------------------------------------------------------------------------- entity pages
async def entity_page(request: Request, subject: str) -> Response:
    inverse_param = request.query_params.get("inverse")
    if inverse_param:
        return await inverse_listing(request, subject, inverse_param)
    state = state_of(request)
    data = await S.call(request, EP.entity_page, subject, PAGE_INCOMING_CAP)
    if data is None:
        return error_page(request, 404, f"Nothing is known about {subject}.")
    entity = data.entity
    mdkg = str(state.settings.ns.MDKG)
    last = (mdkg + "mentionOf", mdkg + "mentions")  # automatic mentions: weaker, many; after the curated links
    previews: dict[str, list] = {}
    for pred, x, label in data.incoming:  # the first subjects of each inverse relation
        items = previews.setdefault(pred, [])
        if len(items) < INVERSE_PREVIEW:
            items.append((x, label))
    groups = []
    for pred, count in sorted(entity.inverse_counts.items(), key=lambda kv: (kv[0] in last, -kv[1])):
        items = previews.get(pred, [])
        groups.append(
            {
                "predicate": pred,
                "label": entity.predicate_labels.get(pred, E.local_name(pred)),
                "count": count,
                "items": items,
                "more": f"?{urlencode({'inverse': pred, 'page': 1})}" if count > len(items) else None,
            }
        )
    rel_groups: dict[str, list] = {}
    for r in entity.relationships:
        rel_groups.setdefault(r.cls, []).append(r)
    key = state.paths.entity_id(subject)
    ego = None
    if key is not None:
        ego = NV.ego((await S.network_view(request, "relations", None, None, "degree")).graph, key)
    path = state.paths.local_path(subject) or subject
    return render(
        request,
        "entity.html",
        {
            "e": entity,
            "groups": groups,
            "rel_groups": rel_groups,
            "passage": data.passage,
            "ego": ego,
            "figures": [f.as_dict() for f in data.figures or []],
            "formats": rdf_forms(path),
            "path": path,
            "entity_id": key,
            "literal_props": literal_props(entity),
            "link_props": {p: v for p, v in entity.properties.items() if any(x.is_iri for x in v)},
            "treaties": data.treaties,
        },
        title=entity.label,
    )


NAME_PROPS = (E.RDFS + "label", E.SKOS + "prefLabel", E.SKOS + "altLabel", E.DCT + "title")


def literal_props(entity: E.Entity) -> dict:
    """The literal-valued properties, without the names that only repeat the page title."""
    out = {}
    for p, values in entity.properties.items():
        if any(v.is_iri for v in values):
            continue
        if p in NAME_PROPS:
            values = [v for v in values if v.value != entity.label]
        if values:
            out[p] = values
    return out


async def inverse_listing(request: Request, subject: str, predicate: str) -> Response:
    try:
        page = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        page = 1
    try:
        E.iri(predicate)
    except E.BadIri:
        return error_page(request, 404, f"not a property: {predicate}")
    names, count, items = await S.call(request, EP.inverse_listing, subject, predicate, page, INVERSE_PAGE)
    subject_label = names.get(subject) or E.local_name(subject)
    predicate_label = names.get(predicate) or E.local_name(predicate)
    return render(
        request,
        "inverse.html",
        {
            "subject": subject,
            "subject_label": subject_label,
            "predicate": predicate,
            "predicate_label": predicate_label,
            "items": items,
            "page": page,
            "pages": max(1, -(-count // INVERSE_PAGE)),
            "count": count,
            "path": state_of(request).paths.href(subject),
            "link": lambda p: "?" + urlencode({"inverse": predicate, "page": p}),
        },
        title=f"{subject_label}: {predicate_label}",
    )


# ------------------------------------------------------------------------------------------- redirects
STATE_CODE = re.compile(r"^state/([A-Za-z]{3})$")


def redirects(request: Request) -> dict[str, str]:
    """Old id -> new id of renamed things (seeds/ids/redirects.csv), read once."""
    state = state_of(request)
    if "redirects" not in state.cache:
        path = state.settings.redirects_file
        table: dict[str, str] = {}
        if path.is_file():
            with path.open(encoding="utf-8", newline="") as f:
                table = {r["old"]: r["new"] for r in csv.DictReader(f) if r.get("old") and r.get("new")}
        state.cache["redirects"] = table
    return state.cache["redirects"]


async def moved_to(request: Request, stem: str) -> str | None:
    """Where an id that names nothing now lives: a state code in the wrong case (`state/phl` -> `state/PHL`), or a
    renamed thing. None if `stem` names something (or nothing is known)."""
    paths = state_of(request).paths
    m = STATE_CODE.match(stem)
    if m and m.group(1) != m.group(1).upper():
        upper = f"state/{m.group(1).upper()}"
        if await S.call(request, E.exists, paths.entity_iri(upper)):
            return upper
    new = redirects(request).get(stem)
    if new and not await S.call(request, E.exists, paths.entity_iri(stem)):
        return new
    return None


# ------------------------------------------------------------------------------------------- ontology, shapes
def ontology_query(request: Request) -> str:
    g = E.iri(str(state_of(request).settings.ns.graph("ontology")))
    return f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {g} {{ ?s ?p ?o }} }}"


@router.api_route("/ontology", methods=["GET", "HEAD"], include_in_schema=False)
@router.api_route("/ontology.{ext}", methods=["GET", "HEAD"], include_in_schema=False)
async def ontology(request: Request, ext: str | None = None) -> Response:
    if ext is not None and ext not in EXTENSIONS:
        return problem(
            404, f"no such form of the ontology: .{ext}; use one of " + ", ".join("." + e for e in EXTENSIONS)
        )
    fmt = choose(request, ext)
    if fmt is None:
        return not_acceptable("the ontology")
    response = await (ontology_page(request) if fmt.key == "html" else construct(request, ontology_query(request), fmt))
    response.headers.update(link_headers("/ontology", fmt, ext is not None))
    return response


async def ontology_page(request: Request) -> Response:
    terms = await S.cached(request, E.ontology_terms)
    header = await S.cached(request, E.ontology_header)
    groups: dict[str, list] = {}
    for t in terms:
        groups.setdefault(t.kind, []).append(t)
    return render(
        request,
        "ontology.html",
        {
            "groups": groups,
            "header": header,
            "formats": rdf_forms("/ontology"),
            "plural": PLURALS,
            "searchable": E.SEARCHABLE_KINDS,
        },
        title="Ontology",
    )


PLURALS = {
    "Class": "Classes",
    "ObjectProperty": "Object properties",
    "DatatypeProperty": "Datatype properties",
    "AnnotationProperty": "Annotation properties",
    "ConceptScheme": "Concept schemes",
}


@router.api_route("/ontology/{version}", methods=["GET", "HEAD"], include_in_schema=False)
async def ontology_version(request: Request, version: str) -> Response:
    """The ontology's owl:versionIRI resolves: the current version redirects to /ontology (an extension kept)."""
    state = state_of(request)
    stem, ext = split_extension(version)
    current = await S.cached(request, E.ontology_versions)
    if state.paths.iri_of(f"/ontology/{stem}") not in current:
        known = ", ".join(state.paths.href(v) for v in current) or "none"
        return problem(404, f"no such version of the ontology: {stem}; this server has {known}")
    return RedirectResponse("/ontology" + (f".{ext}" if ext else ""), status_code=302)


SHAPES_FILE = "mdkg-shapes.ttl"


def shapes(request: Request) -> ox.Store:
    """The SHACL shapes (not part of the dataset: the build validates against them), parsed once."""
    state = state_of(request)
    if "shapes" not in state.cache:
        base = state.settings.ns.base
        store = ox.Store()
        path = state.settings.served_shapes_dir / SHAPES_FILE
        text = state.settings.ns.moved(path.read_text(encoding="utf-8"))
        store.load(text.encode("utf-8"), format=ox.RdfFormat.TURTLE, base_iri=base + "shapes")
        state.cache["shapes"] = store
    return state.cache["shapes"]


@router.api_route("/shapes", methods=["GET", "HEAD"], include_in_schema=False)
@router.api_route("/shapes.{ext}", methods=["GET", "HEAD"], include_in_schema=False)
async def shapes_doc(request: Request, ext: str | None = None) -> Response:
    if ext is not None and ext not in EXTENSIONS:
        return problem(404, f"no such form of the shapes: .{ext}")
    fmt = choose(request, ext)
    if fmt is None:
        return not_acceptable("the shapes")
    if fmt.key == "html":
        docs = shape_docs(shapes(request), str(state_of(request).settings.ns.MDKG))
        response = render(request, "shapes.html", {"shapes": docs, "formats": rdf_forms("/shapes")}, title="Shapes")
    else:
        body = F.write_triples([q.triple for q in shapes(request)], fmt)
        response = Response(body, media_type=fmt.content_type)
    response.headers.update(link_headers("/shapes", fmt, ext is not None))
    return response


# ------------------------------------------------------------------------------------------- small redirects
@router.api_route("/api", methods=["GET", "HEAD"], include_in_schema=False)
@router.api_route("/api/", methods=["GET", "HEAD"], include_in_schema=False)
async def api_root() -> Response:
    return RedirectResponse("/api/docs", status_code=302)


@router.api_route("/favicon.ico", methods=["GET", "HEAD"], include_in_schema=False)
async def favicon() -> Response:
    return FileResponse(
        STATIC / "favicon.svg", media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"}
    )


@router.get("/id", include_in_schema=False)
async def id_root() -> Response:
    return RedirectResponse("/search", status_code=302)
