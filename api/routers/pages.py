"""The analyst's web interface: server-rendered Jinja2 pages (api/templates, through api.render) with a little
vendored JavaScript (api/ui, served at /ui): home, search, the ratification gap view, the network explorer.
Entity pages, the ontology and the shapes are answered by api.routers.linkeddata (same IRI, negotiated). The
SPARQL page (/sparql) is linked from every page."""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request

from api import store as S
from api.errors import html_errors
from api.problems import ProblemRoute
from api.render import error_page, render
from graph import entities as E
from graph import gaps as G
from graph import measures as M
from graph import network as N
from graph.schema import schema

# a bad parameter: 422 problem+json naming it; a store that does not answer: an HTML error page
router = APIRouter(route_class=ProblemRoute, dependencies=[Depends(html_errors)])


# ------------------------------------------------------------------------------------------- home, search
@router.get("/", include_in_schema=False)
async def home(request: Request):
    stats = await S.cached(request, E.stats)
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
        hits = await S.call(request, E.search, q.strip() or None, kinds)
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
    known = await S.cached(request, G.instruments)
    areas = await S.cached(request, G.areas)
    chosen = [i for i in instrument if i in known] or (["icrmw"] if "icrmw" in known else sorted(known)[:1])
    try:
        date = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    except ValueError:
        return error_page(request, 422, f"as_of: not an ISO date (YYYY-MM-DD): {as_of!r}")
    scope = scope if scope in G.SCOPES else "all"
    by = by if by in ("region", "subregion") else ""
    sort = sort if sort in GAP_SORTS else "name"
    area = G.find_area(areas, region) if region else None  # G.UnknownArea: 422 (api.errors)
    reports = [await S.call(request, G.gaps, i, date, by or None, scope, area.code if area else None) for i in chosen]
    views = []
    for r in reports:
        rows = sorted(r.rows, key=GAP_SORTS[sort])
        groups = []
        if by:
            for g in r.regions:
                members = [
                    x
                    for x in rows
                    if (x.region if by == "region" else x.subregion) == g.region
                    or (g.region == "(no region)" and not (x.region if by == "region" else x.subregion))
                ]
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
