"""The REST API (JSON) under /api: stakeholders, entities with neighbours, instrument status, ratification gaps,
the partnership network and its exports, evidence passages, health. Typed pydantic answers; the OpenAPI schema
FastAPI generates is served at /api/openapi.json and rendered at /api/docs. Errors are problem+json
(api.problems): unknown ids 404, bad parameters 422 naming the field, a store that does not answer in time 503.

All data comes from SPARQL run through the endpoint's worker pool (api.linkeddata.PoolStore): graph.entities
for look-ups, graph.gaps for treaty status, graph.network / graph.measures for the network."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import enum
import io
import math
import tempfile
import warnings
from pathlib import Path
from typing import Annotated, Literal

import networkx as nx
from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from api import linkeddata as LD
from api.current import settings
from api.figures import router as figures_router
from api.problems import MEDIA_TYPE as PROBLEM_TYPE
from api.problems import PROBLEM_RESPONSES, ProblemRoute, problem
from api.workers import Call
from graph import entities as E
from graph import gaps as G
from graph import measures as M
from graph import network as N
from graph import network_export as X

router = APIRouter(prefix="/api", route_class=ProblemRoute, tags=["mdkg"], responses=PROBLEM_RESPONSES)

StakeholderKind = enum.Enum("StakeholderKind", {k: k for k in E.STAKEHOLDER_KINDS}, type=str)
RelationKind = enum.Enum("RelationKind", {k: k for k in N.RELATION_KINDS}, type=str)
SLUG = r"^[a-z0-9][a-z0-9\-]{0,80}$"
ISO3 = r"^[A-Za-z]{3}$"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._~\-/]{0,300}$"

LAYERS = Literal["relations", "interlocks", "comentions", "relations+comentions"]
MEASURE_NAMES = Literal["degree", "betweenness", "closeness", "eigenvector", "pagerank"]


# ------------------------------------------------------------------------------------------- models
class Link(BaseModel):
    iri: str
    label: str
    id: str | None = Field(None, description="the part of the IRI after {base}id/, for /api/entities/{id}")
    href: str | None = Field(None, description="the page of this server for it")


class Stakeholder(BaseModel):
    id: str
    iri: str
    label: str
    kind: str | None
    kinds: list[str]
    acronym: str | None = None
    based_in: str | None = None
    matched_alias: str | None = None
    href: str


class StakeholderPage(BaseModel):
    total: int
    page: int
    per_page: int
    items: list[Stakeholder]


class ValueOut(BaseModel):
    value: str
    is_iri: bool
    label: str | None = None
    datatype: str | None = None
    language: str | None = None
    href: str | None = None


class PropertyValues(BaseModel):
    property: str
    label: str
    values: list[ValueOut]


class Neighbour(BaseModel):
    direction: Literal["out", "in"]
    property: str
    property_label: str
    iri: str
    label: str
    id: str | None = None


class InverseCount(BaseModel):
    property: str
    label: str
    count: int


class Participant(BaseModel):
    role: str
    iri: str
    label: str


class RelationshipOut(BaseModel):
    iri: str
    type: str
    label: str | None
    role: str
    quote: str | None
    passage: str | None
    passage_label: str | None
    passage_api: str | None = None
    start: str | None
    end: str | None
    participants: list[Participant]


class ExternalIdOut(BaseModel):
    scheme: str  # Wikidata, ISO 3166-1 alpha-3, ...
    id: str
    url: str  # the page that resolves it ("" if none)


class EntityOut(BaseModel):
    id: str
    iri: str
    label: str
    kind: str | None
    types: list[Link]
    properties: list[PropertyValues]
    inverse: list[InverseCount]
    neighbours: list[Neighbour]
    neighbours_truncated: bool
    relationships: list[RelationshipOut]
    external_ids: list[ExternalIdOut] = []


REGION_HELP = "only the states of one UN M49 region or sub-region: name or code (Asia, 142, South-eastern Asia)"


class InstrumentOut(BaseModel):
    id: str
    iri: str
    title: str | None
    adoption_date: dt.date | None
    entry_into_force: dt.date | None
    coverage: str
    status_date: dt.date | None
    authority: str | None
    actions: int


class StateStatusOut(BaseModel):
    instrument: str
    iso3: str
    numeric: str | None = None
    name: str | None
    status: str
    consent_date: dt.date | None = None
    consent_kind: str | None = None
    signature_date: dt.date | None = None
    denunciation_date: dt.date | None = None
    region: str | None = None
    region_code: str | None = None
    subregion: str | None = None
    subregion_code: str | None = None
    shapes: list[str] = []  # ISO numeric codes of the map shapes that show this state (successors' for a former one)
    point: list[float] | None = None  # [latitude, longitude] of a state too small for the map's shapes


class InstrumentStatus(BaseModel):
    instrument: InstrumentOut
    as_of: dt.date
    complete: bool
    warnings: list[str]
    counts: dict[str, int]
    region: str | None = None
    statehood: str
    states: list[StateStatusOut]


class AreaOut(BaseModel):
    code: str
    name: str
    parent: str | None
    level: str


class YearCountOut(BaseModel):
    year: int
    parties: int
    state_parties: int
    change: int


class Timeline(BaseModel):
    instrument: InstrumentOut
    years: list[YearCountOut]


class RegionGapOut(BaseModel):
    region_code: str | None
    region: str
    states: int
    parties: int
    signatories: int
    no_action: int
    denounced: int
    non_parties: int
    non_party_codes: list[str]
    no_data: int = 0


class GapReportOut(BaseModel):
    instrument: InstrumentOut
    query: str
    scope: str
    as_of: dt.date
    complete: bool
    warnings: list[str]
    parties: int | None
    states: int | None
    no_data: list[str]
    region: str | None
    statehood: str
    gaps: list[StateStatusOut]
    regions: list[RegionGapOut]


class Gaps(BaseModel):
    as_of: dt.date
    reports: list[GapReportOut]


class NetworkNode(BaseModel):
    id: str
    label: str
    short: str | None = None  # acronym, for labels in the picture
    kind: str
    iri: str
    x: float
    y: float
    score: float
    degree: int
    community: int


class NetworkEdge(BaseModel):
    source: str
    target: str
    weight: float
    kinds: list[str]
    direct_weight: float = 0.0  # from direct relationships (1 each)
    shared_weight: float = 0.0  # from shared groups (1/(n-1) each, Newman 2001)


class Network(BaseModel):
    layer: str
    measure: str
    note: str
    weighting: str  # how a tie's weight is made (graph.network.WEIGHTING)
    relations: list[str]  # the relation kinds in the network (survey responses only when asked for)
    communities: int
    nodes: list[NetworkNode]
    edges: list[NetworkEdge]


class PassageOut(BaseModel):
    document: str
    document_iri: str
    document_title: str | None
    n: int
    iri: str
    label: str | None
    text: str
    start_line: int | None
    end_line: int | None
    evidence_for: list[Link]
    href: str


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    workers: int
    idle: int


# ------------------------------------------------------------------------------------------- helpers
def href(iri: str) -> str | None:
    return LD.local_path(iri)


async def run(request: Request, fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return await LD.in_thread(request, fn, *args, **kwargs)


def unavailable(e: LD.StoreUnavailable) -> JSONResponse:
    # 502: the remote store cannot be reached (remote mode) — a gateway problem, not an error of this server
    return problem(e.status if e.status in (502, 503, 504) else 500 if e.status >= 500 else 503, str(e))


def instrument_out(i: G.InstrumentInfo) -> InstrumentOut:
    return InstrumentOut(
        id=i.id,
        iri=i.iri,
        title=i.title,
        adoption_date=i.adoption_date,
        entry_into_force=i.entry_into_force,
        coverage=i.coverage,
        status_date=i.status_date,
        authority=i.authority,
        actions=i.actions,
    )


def status_out(s: G.StateStatus, codes: dict, places: dict | None = None) -> StateStatusOut:
    place = (places or {}).get(s.iso3)
    return StateStatusOut(
        shapes=list(place.shapes) if place else [],
        point=list(place.point) if place and place.point else None,
        instrument=s.instrument,
        iso3=s.iso3,
        numeric=(codes.get(s.iso3) or {}).get("numeric"),
        name=s.name,
        status=s.status,
        consent_date=s.consent_date,
        consent_kind=s.consent_kind,
        signature_date=s.signature_date,
        denunciation_date=s.denunciation_date,
        region=s.region,
        region_code=s.region_code,
        subregion=s.subregion,
        subregion_code=s.subregion_code,
    )


async def instruments(request: Request) -> dict[str, G.InstrumentInfo]:
    return await LD.cached(request, "instruments", G.instruments)


async def resolve(request: Request, ref: str) -> G.InstrumentInfo | None:
    known = await instruments(request)
    return known.get(ref.strip().lower().removeprefix(str(settings().ns.ID)))


def unknown_instrument(ref: str, known: dict) -> JSONResponse:
    return problem(404, f"unknown instrument {ref!r}; the treaty record has: {', '.join(sorted(known))}")


def entity_out(e: E.Entity, neighbour_limit: int, incoming: list[tuple[str, str, str]]) -> EntityOut:
    neighbours, truncated = [], False
    for p, values in e.properties.items():
        for v in values:
            if v.is_iri:
                neighbours.append(
                    Neighbour(
                        direction="out",
                        property=p,
                        property_label=e.predicate_labels[p],
                        iri=v.value,
                        label=v.label or E.local_name(v.value),
                        id=LD.entity_id(v.value),
                    )
                )
    for p, x, label in incoming:
        neighbours.append(
            Neighbour(
                direction="in",
                property=p,
                property_label=e.predicate_labels.get(p) or E.name_of(p),
                iri=x,
                label=label,
                id=LD.entity_id(x),
            )
        )
    if len(neighbours) > neighbour_limit:
        neighbours, truncated = neighbours[:neighbour_limit], True
    return EntityOut(
        external_ids=[ExternalIdOut(scheme=x.scheme, id=x.id, url=x.url) for x in e.external_ids],
        id=LD.entity_id(e.iri) or e.iri,
        iri=e.iri,
        label=e.label,
        kind=e.kind,
        types=[Link(iri=t.value, label=t.label or E.local_name(t.value), href=href(t.value)) for t in e.types],
        properties=[
            PropertyValues(
                property=p,
                label=e.predicate_labels[p],
                values=[
                    ValueOut(
                        value=v.value,
                        is_iri=v.is_iri,
                        label=v.label,
                        datatype=v.datatype,
                        language=v.language,
                        href=href(v.value) if v.is_iri else None,
                    )
                    for v in values
                ],
            )
            for p, values in e.properties.items()
        ],
        inverse=[InverseCount(property=p, label=e.predicate_labels[p], count=n) for p, n in e.inverse_counts.items()],
        neighbours=neighbours,
        neighbours_truncated=truncated,
        relationships=[
            RelationshipOut(
                iri=r.iri,
                type=r.cls,
                label=r.label,
                role=r.role,
                quote=r.quote,
                passage=r.passage,
                passage_label=r.passage_label,
                passage_api=passage_api(r.passage),
                start=r.start,
                end=r.end,
                participants=[Participant(role=a, iri=b, label=c) for a, b, c in r.others],
            )
            for r in e.relationships
        ],
    )


def passage_api(passage_iri: str | None) -> str | None:
    """/api/documents/{doc}/passages/{n} for a passage IRI."""
    pid = LD.entity_id(passage_iri or "")
    if not pid or not pid.startswith("doc/") or "/p" not in pid:
        return None
    doc, _, n = pid[4:].rpartition("/p")
    return f"/api/documents/{doc}/passages/{n}" if n.isdigit() else None


# ------------------------------------------------------------------------------------------- routes
@router.get("/stakeholders", response_model=StakeholderPage, summary="Search stakeholders")
async def stakeholders(
    request: Request,
    q: Annotated[str | None, Query(max_length=200, description="text in a name, alias or acronym")] = None,
    kind: Annotated[list[StakeholderKind] | None, Query(description="stakeholder class (repeatable)")] = None,
    state: Annotated[str | None, Query(pattern=ISO3, description="ISO 3166 alpha-3: based in / agency of it")] = None,
    theme: Annotated[str | None, Query(pattern=SLUG, description="theme slug, e.g. diaspora-engagement")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
):
    try:
        hits = await run(request, E.search, q, [k.value for k in kind] if kind else None, state, theme, True)
    except LD.StoreUnavailable as e:
        return unavailable(e)
    start = (page - 1) * per_page
    return StakeholderPage(
        total=len(hits),
        page=page,
        per_page=per_page,
        items=[
            Stakeholder(
                id=h.id,
                iri=h.iri,
                label=h.label,
                kind=h.kind,
                kinds=h.kinds,
                acronym=h.acronym,
                based_in=h.based_in,
                matched_alias=h.matched,
                href=href(h.iri) or h.iri,
            )
            for h in hits[start : start + per_page]
        ],
    )


@router.get("/entities/{id:path}", response_model=EntityOut, summary="An entity with its neighbours")
async def entity(
    request: Request,
    id: Annotated[str, PathParam(pattern=ID_PATTERN, description="IRI after {base}id/, e.g. iom or state/MEX")],
    neighbours: Annotated[int, Query(ge=0, le=5000, description="most neighbours listed")] = 500,
):
    try:
        e = await run(request, E.describe, LD.entity_iri(id))
    except LD.StoreUnavailable as ex:
        return unavailable(ex)
    if e is None:
        return problem(404, f"no entity with id {id!r} ({LD.entity_iri(id)})", instance=request.url.path)
    try:
        inbound = await run(request, E.incoming, LD.entity_iri(id), neighbours + 1)
    except LD.StoreUnavailable as ex:
        return unavailable(ex)
    return entity_out(e, neighbours, inbound)


@router.get("/instruments", response_model=list[InstrumentOut], summary="Instruments with a treaty record")
async def instrument_list(request: Request):
    try:
        known = await instruments(request)
    except LD.StoreUnavailable as e:
        return unavailable(e)
    return [instrument_out(i) for i in sorted(known.values(), key=lambda i: i.id)]


@router.get("/instruments/{id}/status", response_model=InstrumentStatus, summary="Every state's status")
async def instrument_status(
    request: Request,
    id: Annotated[str, PathParam(max_length=100, description="instrument id, e.g. icrmw")],
    as_of: Annotated[dt.date | None, Query(description="ISO date; default today")] = None,
    region: Annotated[str | None, Query(max_length=60, description=REGION_HELP)] = None,
):
    try:
        info = await resolve(request, id)
        if info is None:
            return unknown_instrument(id, await instruments(request))
        as_of = as_of or dt.date.today()
        rows = await run(request, G.status, info.id, as_of)
        codes = await LD.cached(request, "state-codes", E.state_codes)
        places = await LD.cached(request, "map-places", G.map_places)
        area = await resolve_area(request, region) if region else None
    except LD.StoreUnavailable as e:
        return unavailable(e)
    except G.UnknownArea as e:
        return problem(422, str(e))
    if area:
        rows = [r for r in rows if area.code in (r.region_code, r.subregion_code)]
    counts = {s: 0 for s in G.STATUSES}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    warn = G.record_warnings(info, as_of)
    return InstrumentStatus(
        instrument=instrument_out(info),
        as_of=as_of,
        complete=not warn,
        warnings=warn,
        counts=counts,
        region=area.name if area else None,
        statehood=G.STATEHOOD,
        states=[status_out(r, codes, places) for r in rows],
    )


async def resolve_area(request: Request, ref: str) -> G.AreaInfo:
    """G.UnknownArea (listing the known areas) if `ref` names no region or sub-region."""
    return G.find_area(await LD.cached(request, "areas", G.areas), ref)


@router.get("/regions", response_model=list[AreaOut], summary="UN M49 regions and sub-regions of the states")
async def regions_route(request: Request):
    try:
        known = await LD.cached(request, "areas", G.areas)
    except LD.StoreUnavailable as e:
        return unavailable(e)
    return [AreaOut(**dataclasses.asdict(a)) for a in known]


@router.get("/instruments/{id}/timeline", response_model=Timeline, summary="Parties at the end of each year")
async def instrument_timeline(request: Request, id: Annotated[str, PathParam(max_length=100)]):
    try:
        info = await resolve(request, id)
        if info is None:
            return unknown_instrument(id, await instruments(request))
        years = await run(request, G.timeline, info.id)
    except LD.StoreUnavailable as e:
        return unavailable(e)
    return Timeline(
        instrument=instrument_out(info),
        years=[
            YearCountOut(year=y.year, parties=y.parties, state_parties=y.state_parties, change=y.change) for y in years
        ],
    )


@router.get(
    "/gaps",
    response_model=Gaps,
    summary="Ratification gaps: states not party on a date",
    responses={200: {"content": {"text/csv": {}}}},
)
async def gaps_route(
    request: Request,
    instrument: Annotated[list[str], Query(min_length=1, max_length=20, description="instrument id (repeatable)")],
    as_of: Annotated[dt.date | None, Query(description="ISO date; default today")] = None,
    scope: Annotated[Literal[tuple(G.SCOPES)], Query()] = "all",
    by: Annotated[Literal["region", "subregion"] | None, Query(description="group by UN M49 region")] = None,
    region: Annotated[str | None, Query(max_length=60, description=REGION_HELP)] = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
):
    as_of = as_of or dt.date.today()
    try:
        area = await resolve_area(request, region) if region else None
        reports = []
        for ref in instrument:
            info = await resolve(request, ref)
            if info is None:
                return unknown_instrument(ref, await instruments(request))
            reports.append((info, await run(request, G.gaps, info.id, as_of, by, scope,
                                            area.code if area else None)))
        codes = await LD.cached(request, "state-codes", E.state_codes)
    except LD.StoreUnavailable as e:
        return unavailable(e)
    except G.UnknownArea as e:
        return problem(422, str(e))
    out = Gaps(
        as_of=as_of,
        reports=[
            GapReportOut(
                instrument=instrument_out(info),
                query=r.query,
                scope=scope,
                as_of=as_of,
                complete=r.complete,
                warnings=r.warnings,
                parties=r.parties,
                states=r.states,
                no_data=r.no_data,
                region=r.region,
                statehood=r.statehood or G.STATEHOOD,
                gaps=[status_out(s, codes) for s in r.rows],
                regions=[RegionGapOut(**dataclasses.asdict(g)) for g in r.regions],
            )
            for info, r in reports
        ],
    )
    if format == "csv":
        return csv_response(gaps_csv(out), f"gaps-{as_of}.csv")
    return out


def gaps_csv(out: Gaps) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(
        [
            "instrument",
            "as_of",
            "iso3",
            "state",
            "status",
            "signature_date",
            "consent_date",
            "denunciation_date",
            "region",
            "record_complete",
        ]
    )
    for r in out.reports:
        for s in r.gaps:
            w.writerow(
                [
                    r.instrument.id,
                    out.as_of,
                    s.iso3,
                    s.name or "",
                    s.status,
                    s.signature_date or "",
                    s.consent_date or "",
                    s.denunciation_date or "",
                    s.region or "",
                    r.complete,
                ]
            )
    return buf.getvalue()


def csv_response(text: str, filename: str) -> Response:
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/documents/{id}/passages/{n}", response_model=PassageOut, summary="The text of a passage")
async def passage_route(
    request: Request,
    id: Annotated[str, PathParam(pattern=SLUG, description="document id")],
    n: Annotated[int, PathParam(ge=1, le=1_000_000, description="1-based passage number")],
):
    try:
        p = await run(request, E.passage, id, n)
    except LD.StoreUnavailable as e:
        return unavailable(e)
    if p is None:
        return problem(404, f"document {id!r} has no passage {n}", instance=request.url.path)
    return PassageOut(
        document=p.document,
        document_iri=p.document_iri,
        document_title=p.document_title,
        n=p.n,
        iri=p.iri,
        label=p.label,
        text=p.text,
        start_line=p.start_line,
        end_line=p.end_line,
        evidence_for=[Link(iri=i, label=lab, href=href(i)) for i, lab, _ in p.evidence_for],
        href=href(p.iri) or p.iri,
    )


# ------------------------------------------------------------------------------------------- network
async def network_data(request: Request) -> N.NetworkData:
    return await LD.cached(request, "network-data", N.load_network_data)


def compute_network(data: N.NetworkData, layer: str, kinds, relations, measure: str) -> tuple[nx.Graph, dict]:
    filters = N.Filters.make(kinds=kinds, relations=relations)
    graph = N.build_layer(data, layer, filters)
    if graph.number_of_nodes() == 0:
        return graph, {"measure": M.Measure(measure, {}), "community": {}, "pos": {}, "note": "empty network"}
    m = M.compute(graph, [measure])[measure]
    comm = M.communities(graph)
    pos = layout(graph)
    return graph, {
        "measure": m,
        "community": comm.membership(),
        "pos": pos,
        "note": f"{m.note}; {comm.note}, {len(comm.communities)} communities",
    }


def layout(graph: nx.Graph) -> dict:
    """ForceAtlas2 per connected component (hub-dissuading, so the cliques a shared forum makes open up), the
    largest component in the middle, the others on a ring around it."""
    comps = sorted(nx.connected_components(graph), key=lambda c: (-len(c), sorted(map(str, c))))
    pos: dict = {}
    for i, comp in enumerate(comps):
        sub = graph.subgraph(comp)
        n = len(comp)
        if n > 2:
            raw = nx.forceatlas2_layout(sub, max_iter=300, seed=7, scaling_ratio=4.0, distributed_action=True)
        else:
            raw = {node: (float(k), 0.0) for k, node in enumerate(sorted(comp, key=str))}
        xs = [p[0] for p in raw.values()]
        ys = [p[1] for p in raw.values()]
        cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
        span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
        if i == 0:
            centre, scale = (0.0, 0.0), 2.0 / span
        else:
            angle = 2 * math.pi * (i - 1) / max(1, len(comps) - 1)
            centre, scale = (1.35 * math.cos(angle), 1.35 * math.sin(angle)), (0.08 + 0.05 * math.sqrt(n)) / span
        for node, (x, y) in raw.items():
            pos[node] = (centre[0] + scale * (x - cx), centre[1] + scale * (y - cy))
    return pos


# Computed when the server starts, with a generous deadline: the explorer's first view and every entity page's ego
# network need it, and on a busy machine it may take longer than a query's deadline.
WARM_VIEWS = (("relations", None, None, "degree"),)
WARM_DEADLINE = 120.0


async def warm_up(app) -> None:
    request = Request({"type": "http", "app": app, "method": "GET", "path": "/", "headers": [], "query_string": b""})
    for view in WARM_VIEWS:
        await network_view(request, *view, deadline=WARM_DEADLINE)


async def network_view(request: Request, layer: str, kinds, relations, measure: str, deadline: float | None = None):
    data = await network_data(request)
    key = f"net:{layer}:{sorted(kinds or [])}:{sorted(relations or [])}:{measure}"
    cache = request.app.state.cache.setdefault("ui:network-views", {})
    if key not in cache:
        if len(cache) > 32:
            cache.clear()
        # in a query worker, under the query deadline, never in this process (issue 11)
        call = Call("api.rest:compute_network", (data, layer, kinds, relations, measure))
        client = request.client.host if request.client else None  # one client's views take turns
        deadline = deadline or request.app.state.config.deadline
        outcome = await request.app.state.pool.run(call, deadline, internal=True, client=client)
        if outcome.status != 200:
            raise LD.StoreUnavailable(outcome.status, outcome.body.decode("utf-8", "replace").strip())
        cache[key] = outcome.value
    return cache[key]


def _finite(v) -> float:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return 0.0
    return v if math.isfinite(v) else 0.0


@router.get("/network", response_model=Network, summary="The stakeholder network with layout and scores")
async def network(
    request: Request,
    layer: Annotated[LAYERS, Query(description="which ties: relations (direct + shared hubs), ...")] = "relations",
    kind: Annotated[list[StakeholderKind] | None, Query(description="keep stakeholders of these kinds")] = None,
    relation: Annotated[
        list[RelationKind] | None,
        Query(description="keep ties of these kinds (default: all but survey: answering a survey is not a tie)"),
    ] = None,
    measure: Annotated[MEASURE_NAMES, Query(description="centrality that sizes the nodes")] = "degree",
):
    try:
        graph, info = await network_view(
            request,
            layer,
            [k.value for k in kind or []] or None,
            [r.value for r in relation or []] or None,
            measure,
        )
    except LD.StoreUnavailable as e:
        return unavailable(e)
    m, comm, pos = info["measure"], info["community"], info["pos"]
    nodes = [
        NetworkNode(
            id=str(n),
            label=str(d.get("label", n)),
            short=d.get("short"),
            kind=str(d.get("kind", "")),
            iri=str(d.get("iri", LD.entity_iri(str(n)))),
            x=_finite(pos[n][0]),
            y=_finite(pos[n][1]),
            score=_finite(m.values.get(n)),
            degree=graph.degree(n),
            community=comm.get(n, -1),
        )
        for n, d in graph.nodes(data=True)
    ]
    edges = [
        NetworkEdge(
            source=str(a),
            target=str(b),
            weight=_finite(d.get("weight", 1)),
            kinds=list(d.get("kinds", [])),
            direct_weight=_finite(d.get("direct_weight", 0)),
            shared_weight=_finite(d.get("shared_weight", 0)),
        )
        for a, b, d in graph.edges(data=True)
    ]
    return Network(
        layer=layer,
        measure=measure,
        note=info["note"],
        weighting=str(graph.graph.get("weighting", "")),
        relations=sorted(N.DEFAULT_RELATIONS) if not relation else sorted(r.value for r in relation),
        communities=len(set(comm.values())),
        nodes=nodes,
        edges=edges,
    )


EXPORT_TYPES = {
    "graphml": "application/graphml+xml",
    "gexf": "application/gexf+xml",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}


@router.get(
    "/network/export",
    summary="Download the network (GraphML, GEXF, CSV or node-link JSON)",
    response_class=Response,
    responses={200: {"content": {t.split(";")[0]: {} for t in EXPORT_TYPES.values()}}},
)
async def network_export(
    request: Request,
    format: Annotated[Literal["graphml", "gexf", "csv", "json"], Query()] = "graphml",
    layer: Annotated[LAYERS, Query()] = "relations",
    kind: Annotated[list[StakeholderKind] | None, Query()] = None,
    relation: Annotated[list[RelationKind] | None, Query()] = None,
    measure: Annotated[MEASURE_NAMES, Query()] = "degree",
    table: Annotated[Literal["nodes", "edges"], Query(description="which table, for format=csv")] = "edges",
):
    try:
        graph, info = await network_view(
            request,
            layer,
            [k.value for k in kind or []] or None,
            [r.value for r in relation or []] or None,
            measure,
        )
    except LD.StoreUnavailable as e:
        return unavailable(e)
    annotated = X.annotate(
        graph.copy(),
        {
            measure: info["measure"],
            "community": M.Measure("community", {n: float(c) for n, c in info["community"].items()}),
        },
    )
    with tempfile.TemporaryDirectory(prefix="mdkg-export-") as tmp:
        folder = Path(tmp)
        if format == "graphml":
            path = X.write_graphml(annotated, folder / "network.graphml")
        elif format == "gexf":
            path = X.write_gexf(annotated, folder / "network.gexf")
        elif format == "json":
            path = X.write_json(annotated, folder / "network.json", {"layer": layer, "measure": measure})
        else:
            nodes, edges = X.write_csv(annotated, folder)
            path = nodes if table == "nodes" else edges
        body = path.read_bytes()
    name = f"mdkg-{layer.replace('+', '-')}-network" + (f"-{table}" if format == "csv" else "")
    ext = "graphml" if format == "graphml" else format
    return Response(
        body,
        media_type=EXPORT_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}.{ext}"'},
    )


# ------------------------------------------------------------------------------------------- health, schema
@router.get("/health", response_model=Health, summary="Is the server able to answer queries")
async def health(request: Request):
    from api.service import remote_problem  # remote mode: is the remote server answering?

    status = request.app.state.pool.status()
    ok = status["workers"] and not await remote_problem(request.app.state.config)
    return Health(status="ok" if ok else "degraded", workers=status["workers"], idle=status["idle"])


def openapi_schema(app) -> dict:
    cache = app.state.cache
    if "ui:openapi" not in cache:
        cache["ui:openapi"] = build_openapi()
    return cache["ui:openapi"]


def build_openapi() -> dict:
    """The OpenAPI schema of the REST routes (FastAPI's generator), problem details under their media type."""
    schema = get_openapi(
        title="mdkg REST API",
        version="0.1.0",
        routes=[r for r in [*router.routes, *figures_router.routes] if getattr(r, "include_in_schema", False)],
        description="JSON access to the migration-and-development knowledge graph. Errors are "
        "application/problem+json (RFC 9457). Every IRI of the graph also dereferences at /id/... (HTML, "
        "Turtle, JSON-LD, N-Triples, RDF/XML); arbitrary queries go to the SPARQL endpoint at /sparql.",
    )
    for ops in schema["paths"].values():
        for op in ops.values():
            for status, response in op.get("responses", {}).items():
                content = response.get("content", {})
                if status[0] in "45" and "application/json" in content:
                    content[PROBLEM_TYPE] = content.pop("application/json")
    return schema


@router.get("/openapi.json", include_in_schema=False)
async def openapi(request: Request):
    return JSONResponse(openapi_schema(request.app))


@router.get("/docs", include_in_schema=False)
async def docs(request: Request):
    from api import pages

    return pages.render(request, "apidocs.html", {"schema": openapi_schema(request.app)}, title="REST API")


__all__ = ["router", "HTMLResponse"]
