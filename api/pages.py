"""The analyst's web interface: server-rendered Jinja2 pages (api/templates) with a little vendored JavaScript
(api/ui, served at /ui). Home, search, entity pages (through api.linkeddata's negotiation), the ratification
gap view, the network explorer, the ontology and shapes documentation. The SPARQL page (/sparql) is linked
from every page."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import warnings
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from api import linkeddata as LD
from api.current import settings
from api.problems import ProblemRoute
from graph import entities as E
from graph import figures as FG
from graph import gaps as G
from graph import measures as M
from graph import network as N
from graph.schema import schema
from mdkg.settings import Settings

router = APIRouter(route_class=ProblemRoute)  # a bad parameter: 422 problem+json naming it

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
UI = HERE / "ui"

INVERSE_PREVIEW = 10  # subjects shown per inverse relation on the entity page
INVERSE_PAGE = 50  # per page when one inverse relation is paged through
INCOMING_CAP = 3000  # incoming links read for the previews (relations past it: counts and links only)
EGO_MAX = 16


def _href(value: str) -> str:
    return LD.local_path(value) or value


def _short(value: str) -> str:
    for prefix, ns in (
        ("mdkg", str(settings().ns.MDKG)),
        ("rdfs", E.RDFS),
        ("skos", E.SKOS),
        ("dcterms", E.DCT),
        ("prov", E.PROV),
        ("owl", E.OWL),
        ("rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"),
        ("xsd", "http://www.w3.org/2001/XMLSchema#"),
        ("sh", "http://www.w3.org/ns/shacl#"),
    ):
        if value.startswith(ns):
            return f"{prefix}:{value[len(ns) :]}"
    return value


def _humanise(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append(" ")
        out.append(ch.lower() if i else ch)
    return "".join(out)


env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))
env.filters["href"] = _href
env.filters["short"] = _short
env.filters["humanise"] = _humanise
env.filters["local"] = E.local_name
env.filters["name"] = E.name_of
env.globals["json_script"] = LD.json_script


def render(request: Request, template: str, context: dict, title: str, status: int = 200) -> HTMLResponse:
    root = str(request.scope.get("root_path", "")).rstrip("/")
    html = env.get_template(template).render(request=request, title=title, root=root, base=LD.base(), **context)
    return HTMLResponse(html, status_code=status)


def highlight(text: str, quotes) -> Markup:
    """The passage text (escaped) with every quote taken from it marked."""
    spans = []
    for q in {q for q in quotes if q}:
        start = text.find(q)
        while start >= 0:
            spans.append((start, start + len(q)))
            start = text.find(q, start + 1)
    merged: list[list[int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    out, pos = [], 0
    for a, b in merged:
        out += [escape(text[pos:a]), Markup("<mark>"), escape(text[a:b]), Markup("</mark>")]
        pos = b
    out.append(escape(text[pos:]))
    return Markup("").join(out)


env.filters["highlight"] = highlight


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    titles = {404: "Not found", 503: "Busy", 500: "Error"}
    return render(
        request,
        "error.html",
        {"status": status, "message": message},
        title=titles.get(status, "Error"),
        status=status,
    )


async def _safe(request: Request, coro):
    try:
        return await coro, None
    except LD.StoreUnavailable as e:
        return None, error_page(request, e.status if e.status >= 500 else 503, str(e))


# ------------------------------------------------------------------------------------------- home, search
@router.get("/", include_in_schema=False)
async def home(request: Request):
    stats, err = await _safe(request, LD.cached(request, "stats", E.stats))
    if err:
        return err
    groups = schema().groups()
    counts = {name: (label, n) for name, label, n in stats.classes}
    grouped = {g: [(k, *counts[k]) for k in kinds if k in counts] for g, kinds in groups.items()}
    return render(
        request,
        "home.html",
        {"stats": stats, "grouped": grouped, "kinds": E.SEARCHABLE_KINDS},
        title="mdkg — migration and development knowledge graph",
    )


@router.get("/search", include_in_schema=False)
async def search(
    request: Request,
    q: str = Query("", max_length=200),
    kind: str = Query("", max_length=60),
    page: int = Query(1, ge=1, le=10_000),
):
    kinds = [kind] if kind in E.SEARCHABLE_KINDS else None
    hits = []
    if q.strip() or kinds:
        hits, err = await _safe(request, LD.in_thread(request, E.search, q.strip() or None, kinds))
        if err:
            return err
    per = 50
    pages = max(1, math.ceil(len(hits) / per))
    shown = hits[(page - 1) * per : page * per]

    def link(p: int) -> str:
        return "/search?" + urlencode({"q": q, "kind": kind, "page": p})

    return render(
        request,
        "search.html",
        {
            "q": q,
            "kind": kind,
            "hits": shown,
            "total": len(hits),
            "page": page,
            "pages": pages,
            "link": link,
            "kinds": E.SEARCHABLE_KINDS,
        },
        title=f"Search: {q}" if q else "Search",
    )


# ------------------------------------------------------------------------------------------- entity pages
async def entity_page(request: Request, subject: str) -> HTMLResponse:
    inverse_param = request.query_params.get("inverse")
    if inverse_param:
        return await inverse_listing(request, subject, inverse_param)
    entity = await LD.in_thread(request, E.describe, subject)
    if entity is None:
        return error_page(request, 404, f"Nothing is known about {subject}.")
    groups = []
    mdkg = str(settings().ns.MDKG)
    last = (mdkg + "mentionOf", mdkg + "mentions")  # automatic mentions: weaker, many; after the curated links
    inverse = sorted(entity.inverse_counts.items(), key=lambda kv: (kv[0] in last, -kv[1]))
    previews: dict[str, list] = {}
    if inverse:  # one query for every preview: the first subjects of each inverse relation
        for pred, x, label in await LD.in_thread(request, E.incoming, subject, INCOMING_CAP):
            items = previews.setdefault(pred, [])
            if len(items) < INVERSE_PREVIEW:
                items.append((x, label))
    for pred, count in inverse:
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
    passage = None
    if entity.kind == "Passage":
        pid = LD.entity_id(subject) or ""
        doc, _, n = pid.removeprefix("doc/").rpartition("/p")
        if n.isdigit():
            passage = await LD.in_thread(request, E.passage, doc, int(n))
    ego = await ego_network(request, subject)
    try:  # the figures are an extra: a busy store leaves the section out rather than fail the page
        figures = [f.as_dict() for f in await LD.in_thread(request, FG.about, subject)]
    except LD.StoreUnavailable:
        figures = []
    treaties = None
    if entity.kind == "State" and (LD.entity_id(subject) or "").startswith("state/"):
        from api.rest import instruments as known_instruments  # as gaps_page does

        treaties = await LD.in_thread(request, G.state_treaties, LD.entity_id(subject).removeprefix("state/"),
                                      None, await known_instruments(request))
    path = LD.local_path(subject) or subject
    formats = [(f.label, f"{path}.{f.extension}") for f in (LD.F.BY_KEY[k] for k in LD.RDF_KEYS)]
    return render(
        request,
        "entity.html",
        {
            "e": entity,
            "groups": groups,
            "rel_groups": rel_groups,
            "passage": passage,
            "ego": ego,
            "figures": figures,
            "formats": formats,
            "path": path,
            "entity_id": LD.entity_id(subject),
            "literal_props": literal_props(entity),
            "link_props": {p: v for p, v in entity.properties.items() if any(x.is_iri for x in v)},
            "treaties": treaties,
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


async def inverse_listing(request: Request, subject: str, predicate: str) -> HTMLResponse:
    try:
        page = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        page = 1
    try:
        E.iri(predicate)
    except E.BadIri:
        return error_page(request, 404, f"not a property: {predicate}")
    names = await LD.in_thread(request, E.labels, [subject, predicate])
    counts = await LD.in_thread(request, _inverse_count, subject, predicate)
    items = await LD.in_thread(request, E.inverse_page, subject, predicate, page, INVERSE_PAGE)
    pages = max(1, math.ceil(counts / INVERSE_PAGE))
    return render(
        request,
        "inverse.html",
        {
            "subject": subject,
            "subject_label": names.get(subject) or E.local_name(subject),
            "predicate": predicate,
            "predicate_label": names.get(predicate) or E.local_name(predicate),
            "items": items,
            "page": page,
            "pages": pages,
            "count": counts,
            "path": LD.local_path(subject) or subject,
            "link": lambda p: "?" + urlencode({"inverse": predicate, "page": p}),
        },
        title=f"{names.get(subject) or E.local_name(subject)}: {names.get(predicate) or E.local_name(predicate)}",
    )


def _inverse_count(store, subject: str, predicate: str, settings: Settings) -> int:
    q = (
        f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ ?x {E.iri(predicate)} {E.iri(subject)} "
        "FILTER NOT EXISTS { ?x a mdkg:Relationship } }"
    )
    return E._int(E._rows(store, q, settings)[0]["n"])


def _ego_text(label: str, short: str | None, width: int = 22) -> str:
    """What an ego-network node is labelled with: the name, or its acronym when the name is too long."""
    if len(label) <= width:
        return label
    return short or label[: width - 1] + "…"


async def ego_network(request: Request, subject: str) -> dict | None:
    """A small ego network (stakeholder network, radius 1) laid out on a circle, for an SVG."""
    key = LD.entity_id(subject)
    if key is None:
        return None
    from api.rest import network_view

    graph, _ = await network_view(request, "relations", None, None, "degree")
    if key not in graph:
        return None
    neighbours = sorted(graph[key], key=lambda n: (-graph[key][n].get("weight", 1), str(n)))
    total = len(neighbours)
    neighbours = neighbours[:EGO_MAX]
    if not neighbours:
        return None
    nodes = {key: {"x": 0.0, "y": 0.0, "lx": 0.0, "ly": 0.19, "anchor": "middle"}}
    # Neighbours in two columns either side of the centre, strongest first, each label outward from its node,
    # so that labels never collide (rows 2.2 / 8 apart; the font is 0.1 high).
    sides = (neighbours[0::2], neighbours[1::2])
    for side, column in zip((1, -1), sides, strict=True):
        for i, n in enumerate(column):
            y = -1.1 + 2.2 * (i + 0.5) / max(len(column), 1)
            x = side * (0.62 + 0.38 * math.sqrt(max(0.0, 1 - (y / 1.2) ** 2)))
            anchor = "start" if side > 0 else "end"
            nodes[n] = {"x": x, "y": y, "lx": x + side * 0.08, "ly": y + 0.035, "anchor": anchor}
    out_nodes = []
    for n, pos in nodes.items():
        d = graph.nodes[n]
        out_nodes.append(
            {
                "id": n,
                "label": d.get("label", n),
                "text": _ego_text(d.get("label", n), d.get("short")),
                "kind": d.get("kind", ""),
                "x": pos["x"],
                "y": pos["y"],
                "lx": pos["lx"],
                "ly": pos["ly"],
                "anchor": pos["anchor"],
                "href": "/id/" + n,
                "centre": n == key,
            }
        )
    edges = [
        {"a": nodes[a], "b": nodes[b], "w": d.get("weight", 1), "centre": key in (a, b)}
        for a, b, d in graph.subgraph(nodes).edges(data=True)
    ]
    return {"nodes": out_nodes, "edges": edges, "total": total, "shown": len(neighbours)}


# ------------------------------------------------------------------------------------------- ontology, shapes
async def ontology_page(request: Request) -> HTMLResponse:
    terms = await LD.cached(request, "ontology-terms", E.ontology_terms)
    header = await LD.cached(request, "ontology-header", E.ontology_header)
    groups: dict[str, list] = {}
    for t in terms:
        groups.setdefault(t.kind, []).append(t)
    return render(
        request,
        "ontology.html",
        {
            "groups": groups,
            "header": header,
            "formats": _formats("/ontology"),
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


def _formats(path: str) -> list[tuple[str, str]]:
    return [(f.label, f"{path}.{f.extension}") for f in (LD.F.BY_KEY[k] for k in LD.RDF_KEYS)]


SH = "http://www.w3.org/ns/shacl#"


def shape_docs(store) -> list[dict]:
    rows = store.query(f"""PREFIX sh: <{SH}> PREFIX rdfs: <{E.RDFS}>
        SELECT ?s ?kind ?target ?path ?message ?label ?severity WHERE {{
          {{ ?s a sh:NodeShape BIND("node" AS ?kind) }} UNION {{ ?s a sh:PropertyShape BIND("property" AS ?kind) }}
          FILTER(isIRI(?s))
          OPTIONAL {{ ?s sh:targetClass ?target }} OPTIONAL {{ ?s sh:path ?path }}
          OPTIONAL {{ ?s sh:message ?message }} OPTIONAL {{ ?s rdfs:label ?label }}
          OPTIONAL {{ ?s sh:severity ?severity }} }} ORDER BY ?s""")
    out: dict[str, dict] = {}
    for r in rows:
        s = r["s"].value
        d = out.setdefault(
            s,
            {
                "iri": s,
                "name": E.local_name(s),
                "kind": r["kind"].value,
                "targets": set(),
                "path": None,
                "message": None,
                "label": None,
                "severity": None,
            },
        )
        if r["target"] is not None:
            d["targets"].add(r["target"].value)
        for k in ("path", "message", "label", "severity"):
            if r[k] is not None and isinstance(r[k].value, str) and not d[k]:
                d[k] = r[k].value
    for d in out.values():
        d["targets"] = sorted(d["targets"])
        d["requires"] = []
    props = store.query(f"""PREFIX sh: <{SH}>
        SELECT ?s ?ps ?path ?min ?max ?cls ?dt ?nk ?msg ?sparql WHERE {{ ?s a sh:NodeShape .
          {{ ?s sh:property ?ps OPTIONAL {{ ?ps sh:path ?path }} OPTIONAL {{ ?ps sh:minCount ?min }}
            OPTIONAL {{ ?ps sh:maxCount ?max }} OPTIONAL {{ ?ps sh:class ?cls }} OPTIONAL {{ ?ps sh:datatype ?dt }}
            OPTIONAL {{ ?ps sh:nodeKind ?nk }} OPTIONAL {{ ?ps sh:message ?msg }} }}
          UNION {{ ?s sh:sparql ?ps OPTIONAL {{ ?ps sh:message ?sparql }} }} }}""")
    for r in props:
        d = out.get(r["s"].value)
        if d is None:
            continue
        if r["sparql"] is not None:
            d["requires"].append(f"SPARQL constraint: {r['sparql'].value}")
            continue
        path = r["path"]
        if isinstance(path, ox.NamedNode):
            # sh:property may point at a named property shape listed below; its path says what it checks
            text = _short(path.value)
        elif isinstance(r["ps"], ox.NamedNode):
            text = f"{E.local_name(r['ps'].value)} (see below)"
        else:
            text = "(a path expression)"
        parts = [text]
        lo, hi = r["min"], r["max"]
        if lo is not None or hi is not None:
            parts.append(f"{lo.value if lo is not None else 0}..{hi.value if hi is not None else '*'}")
        for key in ("cls", "dt", "nk"):
            if r[key] is not None:
                parts.append(_short(r[key].value).replace("sh:", ""))
        if r["msg"] is not None:
            parts.append(f"— {r['msg'].value}")
        d["requires"].append(" ".join(parts))
    for d in out.values():
        d["requires"] = sorted(set(d["requires"]))
    return sorted(out.values(), key=lambda d: (d["kind"] != "node", d["name"].lower()))


async def shapes_page(request: Request) -> HTMLResponse:
    store = LD.shapes(request)
    shapes = shape_docs(store)
    return render(request, "shapes.html", {"shapes": shapes, "formats": _formats("/shapes")}, title="Shapes")


# ------------------------------------------------------------------------------------------- gaps, network
GAP_SORTS = {
    "name": lambda r: ((r.name or r.iso3).lower(),),
    "status": lambda r: (r.status, (r.name or r.iso3).lower()),
    "region": lambda r: (r.region or "~", r.subregion or "~", (r.name or r.iso3).lower()),
    "signed": lambda r: (r.signature_date is None, r.signature_date or dt.date.min, (r.name or r.iso3).lower()),
}


@router.get("/gaps", include_in_schema=False)
async def gaps_page(
    request: Request,
    instrument: Annotated[list[str] | None, Query(max_length=20)] = None,
    as_of: Annotated[str, Query(max_length=20)] = "",
    scope: Annotated[str, Query(max_length=20)] = "all",
    region: Annotated[str, Query(max_length=60)] = "",
    by: Annotated[str, Query(max_length=20)] = "",
    sort: Annotated[str, Query(max_length=20)] = "name",
):
    """The gap question as an analyst asks it: instruments, a date, optionally one region or sub-region,
    grouped and sorted; the same graph.gaps.gaps answer as `mdkg gaps` and /api/gaps."""
    instrument = instrument or []
    from api.rest import instruments as known_instruments

    known, err = await _safe(request, known_instruments(request))
    if err:
        return err
    areas, err = await _safe(request, LD.cached(request, "areas", G.areas))
    if err:
        return err
    chosen = [i for i in instrument if i in known] or (["icrmw"] if "icrmw" in known else sorted(known)[:1])
    try:
        date = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    except ValueError:
        return error_page(request, 422, f"as_of: not an ISO date (YYYY-MM-DD): {as_of!r}")
    scope = scope if scope in G.SCOPES else "all"
    by = by if by in ("region", "subregion") else ""
    sort = sort if sort in GAP_SORTS else "name"
    try:
        area = G.find_area(areas, region) if region else None
    except G.UnknownArea as e:
        return error_page(request, 422, str(e))
    reports = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i in chosen:
                reports.append(await LD.in_thread(request, G.gaps, i, date, by or None, scope,
                                                  area.code if area else None))
    except LD.StoreUnavailable as e:
        return error_page(request, 503, str(e))
    views = []
    for r in reports:
        rows = sorted(r.rows, key=GAP_SORTS[sort])
        groups = []
        if by:
            for g in r.regions:
                members = [x for x in rows if (x.region if by == "region" else x.subregion) == g.region
                           or (g.region == "(no region)" and not (x.region if by == "region" else x.subregion))]
                groups.append((g, members))
        views.append({"report": r, "rows": rows, "groups": groups})
    params = [("instrument", i) for i in chosen] + [("as_of", date.isoformat()), ("scope", scope)]
    params += [("region", area.code)] if area else []
    params += [("by", by)] if by else []
    query = urlencode(params)
    return render(
        request,
        "gaps.html",
        {
            "known": sorted(known.values(), key=lambda i: (i.title or i.id).lower()),
            "labels": {i.id: i.title or i.id for i in known.values()},
            "chosen": chosen,
            "as_of": date.isoformat(),
            "scope": scope,
            "areas": areas,
            "area": area,
            "by": by,
            "sort": sort,
            "sorts": {"name": "state", "status": "status", "region": "region", "signed": "date signed"},
            "views": views,
            "statehood": G.STATEHOOD,
            "csv": f"/api/gaps?{query}&format=csv",
            "query": query,
            "sort_link": lambda key: "/gaps?" + urlencode([*params, ("sort", key)]),
        },
        title="Ratification gaps",
    )


@router.get("/network", include_in_schema=False)
async def network_page(request: Request):
    return render(
        request,
        "network.html",
        {
            "kinds": E.STAKEHOLDER_KINDS,
            "relations": N.RELATION_KINDS,
            "default_relations": N.DEFAULT_RELATIONS,
            "measures": ("degree", "betweenness", "pagerank", "eigenvector", "closeness"),
            "measure_names": M.MEASURES,
        },
        title="Network explorer",
    )


__all__ = ["router", "asyncio"]
