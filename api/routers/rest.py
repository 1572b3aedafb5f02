"""The REST API (JSON) under /api: stakeholders, entities with neighbours, instrument status, ratification gaps,
the partnership network and its exports, evidence passages. Routes answer the dataclasses of graph/ as they are
(FastAPI writes them and their OpenAPI schema); only the entity view and the passage, which shape a graph
answer for this API, have models of their own. The OpenAPI schema is served at /api/openapi.json
(api.openapi). Errors are problem+json (api.errors): unknown ids 404, bad parameters 422 naming the field, a
store that does not answer in time 503.

Every answer is one trip to a query worker (api.store.call) running a function of graph/."""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as PathParam
from pydantic import BaseModel

from api import store as S
from api.paths import Paths
from api.problems import PROBLEM_RESPONSES, ProblemRoute, problem
from api.state import state_of
from graph import entities as E
from graph import entity_page as EP
from graph import gap_answers as GA
from graph import gaps as G
from graph import measures as M
from graph import network as N
from graph import network_export as X
from graph import network_views as NV

router = APIRouter(prefix="/api", route_class=ProblemRoute, tags=["mdkg"], responses=PROBLEM_RESPONSES)

StakeholderKind = enum.Enum("StakeholderKind", {k: k for k in E.STAKEHOLDER_KINDS}, type=str)
RelationKind = enum.Enum("RelationKind", {k: k for k in N.RELATION_KINDS}, type=str)
SLUG = r"^[a-z0-9][a-z0-9\-]{0,80}$"
ISO3 = r"^[A-Za-z]{3}$"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._~\-/]{0,300}$"
REGION_HELP = "only the states of one UN M49 region or sub-region: name or code (Asia, 142, South-eastern Asia)"

LAYERS = Literal["relations", "interlocks", "comentions", "relations+comentions"]
MEASURE_NAMES = Literal["degree", "betweenness", "closeness", "eigenvector", "pagerank"]


# ------------------------------------------------------------------------------------------- models
class StakeholderPage(BaseModel):
    total: int
    page: int
    per_page: int
    items: list[E.Hit]


@dataclass(frozen=True)
class Link:
    iri: str
    label: str
    id: str | None = None  # the part of the IRI after {base}id/, for /api/entities/{id}
    href: str | None = None  # the page of this server for it


@dataclass
class LinkedValue(E.Value):
    href: str | None = None  # the page of this server for an IRI of ours


class PropertyValues(BaseModel):
    property: str
    label: str
    values: list[LinkedValue]


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
    external_ids: list[E.ExternalId] = []


@dataclass
class PassageOut(E.Passage):
    """A passage as the REST API gives it: what it is evidence for as links, and its page."""

    evidence_for: list[Link]
    href: str = ""


# ------------------------------------------------------------------------------------------- helpers
def entity_out(e: E.Entity, neighbour_limit: int, incoming: list[tuple[str, str, str]], paths: Paths) -> EntityOut:
    """The REST view of an entity: its values with links, its neighbours both ways, its relationships."""
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
                        id=paths.entity_id(v.value),
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
                id=paths.entity_id(x),
            )
        )
    if len(neighbours) > neighbour_limit:
        neighbours, truncated = neighbours[:neighbour_limit], True
    return EntityOut(
        external_ids=e.external_ids,
        id=paths.entity_id(e.iri) or e.iri,
        iri=e.iri,
        label=e.label,
        kind=e.kind,
        types=[
            Link(iri=t.value, label=t.label or E.local_name(t.value), href=paths.local_path(t.value)) for t in e.types
        ],
        properties=[
            PropertyValues(
                property=p,
                label=e.predicate_labels[p],
                values=[LinkedValue(**asdict(v), href=paths.local_path(v.value) if v.is_iri else None) for v in values],
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
                passage_api=paths.passage_api(r.passage),
                start=r.start,
                end=r.end,
                participants=[Participant(role=a, iri=b, label=c) for a, b, c in r.others],
            )
            for r in e.relationships
        ],
    )


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
    hits = await S.call(request, E.search, q, [k.value for k in kind] if kind else None, state, theme, True)
    start = (page - 1) * per_page
    return StakeholderPage(total=len(hits), page=page, per_page=per_page, items=hits[start : start + per_page])


@router.get("/entities/{id:path}", response_model=EntityOut, summary="An entity with its neighbours")
async def entity(
    request: Request,
    id: Annotated[str, PathParam(pattern=ID_PATTERN, description="IRI after {base}id/, e.g. iom or state/MEX")],
    neighbours: Annotated[int, Query(ge=0, le=5000, description="most neighbours listed")] = 500,
):
    state = state_of(request)
    iri = state.paths.entity_iri(id)
    page = await S.call(request, EP.described, iri, neighbours + 1)
    if page is None:
        return problem(404, f"no entity with id {id!r} ({iri})", instance=request.url.path)
    return entity_out(page.entity, neighbours, page.incoming, state.paths)


@router.get("/instruments", response_model=list[G.InstrumentInfo], summary="Instruments with a treaty record")
async def instrument_list(request: Request):
    return sorted((await S.cached(request, G.instruments)).values(), key=lambda i: i.id)


@router.get("/instruments/{id}/status", response_model=GA.InstrumentStatus, summary="Every state's status")
async def instrument_status(
    request: Request,
    id: Annotated[str, PathParam(max_length=100, description="instrument id, e.g. icrmw")],
    as_of: Annotated[dt.date | None, Query(description="ISO date; default today")] = None,
    region: Annotated[str | None, Query(max_length=60, description=REGION_HELP)] = None,
):
    return await S.call(request, GA.instrument_status, id, as_of or dt.date.today(), region)


@router.get("/regions", response_model=list[G.AreaInfo], summary="UN M49 regions and sub-regions of the states")
async def regions_route(request: Request):
    return await S.cached(request, G.areas)


@router.get("/instruments/{id}/timeline", response_model=GA.Timeline, summary="Parties at the end of each year")
async def instrument_timeline(request: Request, id: Annotated[str, PathParam(max_length=100)]):
    return await S.call(request, GA.timeline, id)


@router.get(
    "/gaps",
    response_model=GA.Gaps,
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
    out = await S.call(request, GA.gaps, instrument, as_of, by, scope, region)
    if format == "csv":
        return csv_response(gaps_csv(out), f"gaps-{as_of}.csv")
    return out


def gaps_csv(out: GA.Gaps) -> str:
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
    p = await S.call(request, E.passage, id, n)
    if p is None:
        return problem(404, f"document {id!r} has no passage {n}", instance=request.url.path)
    paths = state_of(request).paths
    evidence = [Link(iri=i, label=lab, href=paths.local_path(i)) for i, lab, _ in p.evidence_for]
    return PassageOut(**{**asdict(p), "evidence_for": evidence}, href=paths.href(p.iri))


# ------------------------------------------------------------------------------------------- network
@router.get("/network", response_model=NV.Network, summary="The stakeholder network with layout and scores")
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
    relations = [r.value for r in relation or []]
    view = await S.network_view(request, layer, [k.value for k in kind or []], relations, measure)
    return NV.network(view, layer, measure, relations, str(state_of(request).settings.ns.ID))


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
    view = await S.network_view(
        request, layer, [k.value for k in kind or []], [r.value for r in relation or []], measure
    )
    annotated = X.annotate(
        view.graph.copy(),
        {measure: view.measure, "community": M.Measure("community", {n: float(c) for n, c in view.community.items()})},
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
