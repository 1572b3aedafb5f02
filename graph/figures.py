"""Figures as data: the Data Cube observations of the seed documents' quantitative statements
(ontology/figures.ttl), as plain dataclasses. Each function runs exactly one SPARQL file of queries/
(figures.rq, figures-compare.rq, figures-record-check.rq, figures-indicators.rq) with graph/gaps.py's parameter
binding, so the REST API, the command line and any SPARQL client get the same answers by construction."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Annotated

from pydantic import PlainSerializer
from rdflib import URIRef

from graph.gaps import select
from mdkg.iris import entity_key
from mdkg.settings import Settings

ISO3 = re.compile(r"^[A-Z]{3}$")
AREA_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,120}$")
UNBOUNDED = Decimal("1e29")  # the queries' "no top" (1.0e30) and above
# exact in Python; a JSON number in the REST API's answers (which serve these dataclasses as they are)
Number = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


@dataclass(frozen=True)
class Figure:
    """One observation: what, where, when, how much, and who says so."""

    iri: str
    indicator: str  # slug
    indicator_label: str
    area: str  # ISO3, registry id or area slug
    area_iri: str
    area_label: str
    period: str  # as curated: 2005, 2005-10-01, 1995/2000, 2006/..
    period_start: dt.date
    period_end: dt.date | None
    breakdown: str
    value: Number
    upper: Number | None  # top of a range; value is its bottom
    unit: str  # slug
    unit_label: str
    qualifiers: tuple[str, ...]
    quotes: tuple[str, ...]
    passage: str  # IRI
    document: str  # document id
    document_title: str
    document_date: str | None
    note: str | None

    def as_dict(self) -> dict:
        d = asdict(self)
        for key in ("value", "upper"):
            d[key] = _number(d[key])
        for key in ("period_start", "period_end"):
            d[key] = d[key].isoformat() if d[key] else None
        d["qualifiers"], d["quotes"] = list(self.qualifiers), list(self.quotes)
        return d


@dataclass(frozen=True)
class FigureList:
    count: int
    figures: list[Figure]


@dataclass(frozen=True)
class Comparison:
    """Two passages' figures for the same indicator, area, breakdown and unit, for overlapping periods."""

    indicator: str
    area: str
    breakdown: str
    unit: str
    a: str  # observation IRIs
    b: str
    period_a: str
    period_b: str
    value_a: Number
    value_b: Number
    range_a: tuple[Number, Number | None]  # what the qualifiers allow; None: no top
    range_b: tuple[Number, Number | None]
    document_a: str
    document_b: str
    verdict: str  # same | consistent | disagrees

    def as_dict(self) -> dict:
        d = asdict(self)
        for key in ("value_a", "value_b"):
            d[key] = _number(d[key])
        d["range_a"] = [_number(x) for x in self.range_a]
        d["range_b"] = [_number(x) for x in self.range_b]
        return d


@dataclass(frozen=True)
class RecordCheck:
    """A document's count of states parties against the treaty record over the figure's period."""

    figure: str  # observation IRI
    instrument: str  # registry id
    period: str
    value: Number
    recorded_at_start: int
    recorded_at_end: int
    agrees: bool
    coverage: str | None
    document: str
    verdict: str = field(default="")

    def as_dict(self) -> dict:
        d = asdict(self)
        d["value"] = _number(self.value)
        return d


@dataclass(frozen=True)
class Indicator:
    slug: str
    iri: str
    label: str
    definition: str
    unit: str
    figures: int


def _number(v: Decimal | None) -> int | float | None:
    if v is None:
        return None
    return int(v) if v == v.to_integral_value() else float(v)


def _dec(v: object) -> Decimal | None:
    return None if v is None else Decimal(str(v))


def _slug(iri: str, kind: str, settings: Settings) -> str:
    return iri.removeprefix(str(settings.ns.ID[f"{kind}/"]))


def area_ref(iri: str, settings: Settings) -> str:
    """The short reference of an area IRI: ISO3, registry id or area slug."""
    ident = entity_key(iri, settings)
    return ident.removeprefix("state/").removeprefix("area/")


def area_iri(store, ref: str, settings: Settings) -> URIRef:
    """The IRI of an area reference: an ISO3 code, an area slug of mdkg:Areas or a registry id (or a full IRI)."""
    if ref.startswith(("http://", "https://")):
        return URIRef(ref)
    if not AREA_REF.match(ref):
        raise ValueError(f"not an area reference: {ref!r} (an ISO3 code, an area slug or a registry id)")
    if ISO3.match(ref):
        return settings.ns.state(ref)
    candidate = settings.ns.ID[f"area/{ref}"]
    if store.query(f"ASK {{ <{candidate}> a <http://www.w3.org/2004/02/skos/core#Concept> }}",
                   use_default_graph_as_union=True):
        return candidate
    return settings.ns.entity(ref)


def indicator_iri(ref: str, settings: Settings) -> URIRef:
    return URIRef(ref) if ref.startswith(("http://", "https://")) else settings.ns.ID[f"indicator/{ref}"]


def figures(store, indicator: str | None = None, area: str | None = None, date_from: dt.date | None = None,
            date_to: dt.date | None = None, *, settings: Settings, document: str | None = None
            ) -> list[Figure]:
    """queries/figures.rq: the figures, optionally of one indicator, area and document, overlapping
    date_from..date_to."""
    params: dict[str, object] = {}
    if document:
        params["document"] = URIRef(document) if document.startswith(("http://", "https://")) \
            else settings.ns.doc(document)
    if indicator:
        params["indicator"] = indicator_iri(indicator, settings)
    if area:
        params["area"] = area_iri(store, area, settings)
    if date_from:
        params["from"] = date_from
    if date_to:
        params["to"] = date_to
    out = []
    for r in select(store, "figures", settings, **params):
        out.append(Figure(
            iri=r["obs"], indicator=_slug(r["indicator"], "indicator", settings),
            indicator_label=r["indicatorLabel"] or "", area=area_ref(r["area"], settings), area_iri=r["area"],
            area_label=r["areaLabel"] or area_ref(r["area"], settings), period=r["period"],
            period_start=r["periodStart"], period_end=r["periodEnd"], breakdown=r["breakdown"],
            value=_dec(r["value"]), upper=_dec(r["upper"]), unit=_slug(r["unit"], "unit", settings),
            unit_label=r["unitLabel"] or "", qualifiers=tuple(sorted((r["qualifiers"] or "").split())),
            quotes=tuple(q for q in (r["quotes"] or "").split("\n") if q), passage=r["passage"],
            document=_slug(r["document"], "doc", settings), document_title=r["documentTitle"] or "",
            document_date=r["documentDate"] or None, note=r["note"]))
    return out


REF_AREA = "http://purl.org/linked-data/sdmx/2009/dimension#refArea"
SOURCE = "http://purl.org/dc/terms/source"


def about(store, iri: str, settings: Settings, pointed_by: Collection[str] | None = None) -> list[Figure]:
    """The figures an entity page shows: those about the area `iri`, of the indicator `iri` or stated in the
    document `iri` (one selective run of queries/figures.rq). `pointed_by`, the predicates of the triples pointing
    at `iri` if the caller has them: when no observation can point at it that way, no query is run."""
    ident = entity_key(iri, settings)
    if ident.startswith("indicator/"):
        link, params = str(settings.ns.MDKG) + "indicator", {"indicator": iri}
    elif ident.startswith("doc/") and "/" not in ident.removeprefix("doc/"):
        link, params = SOURCE, {"document": iri}
    else:
        link, params = REF_AREA, {"area": iri}
    if pointed_by is not None and link not in pointed_by:
        return []
    return figures(store, settings=settings, **params)


def _range(low: object, high: object) -> tuple[Decimal, Decimal | None]:
    top = Decimal(str(float(high))) if high is not None else None
    return Decimal(str(low)), None if top is None or top >= UNBOUNDED else Decimal(str(high))


def comparisons(store, indicator: str | None = None, *, settings: Settings) -> list[Comparison]:
    """queries/figures-compare.rq: pairs of figures for the same thing and overlapping periods, with a verdict."""
    params = {"indicator": indicator_iri(indicator, settings)} if indicator else {}
    return [Comparison(
        indicator=_slug(r["indicator"], "indicator", settings), area=area_ref(r["area"], settings),
        breakdown=r["breakdown"], unit=_slug(r["unit"], "unit", settings), a=r["a"], b=r["b"],
        period_a=r["periodA"], period_b=r["periodB"], value_a=_dec(r["valueA"]), value_b=_dec(r["valueB"]),
        range_a=_range(r["lowA"], r["highA"]), range_b=_range(r["lowB"], r["highB"]),
        document_a=_slug(r["docA"], "doc", settings), document_b=_slug(r["docB"], "doc", settings),
        verdict=r["verdict"]) for r in select(store, "figures-compare", settings, **params)]


def record_checks(store, settings: Settings) -> list[RecordCheck]:
    """queries/figures-record-check.rq: counts of states parties against the treaty record, with a verdict in
    words: a count below what the record shows at the start of the period is contradicted by recorded actions;
    one above it on a partial record cannot be confirmed (an action may be missing)."""
    out = []
    for r in select(store, "figures-record-check", settings):
        value, start, end, coverage = _dec(r["value"]), int(r["atStart"]), int(r["atEnd"]), r["coverage"]
        agrees = bool(r["agrees"])
        recorded = f"{start}" if start == end else f"{start} to {end}"
        if agrees:
            verdict = f"agrees: the record shows {recorded} state parties in {r['period']}"
        elif value < start or coverage == "complete":
            verdict = f"disagrees: the record shows {recorded} state parties in {r['period']}, the text {value}"
        else:
            verdict = (f"cannot confirm: the record ({coverage}) shows {recorded} state parties in {r['period']}, "
                       f"the text {value}")
        out.append(RecordCheck(figure=r["obs"], instrument=entity_key(r["instrument"], settings),
                               period=r["period"], value=value, recorded_at_start=start, recorded_at_end=end,
                               agrees=agrees, coverage=coverage, document=_slug(r["document"], "doc", settings),
                               verdict=verdict))
    return out


def indicators(store, settings: Settings) -> list[Indicator]:
    """queries/figures-indicators.rq: the indicator scheme with each indicator's number of figures."""
    return [Indicator(slug=_slug(r["indicator"], "indicator", settings), iri=r["indicator"], label=r["label"],
                      definition=r["definition"] or "", unit=_slug(r["unit"], "unit", settings),
                      figures=int(r["figures"])) for r in select(store, "figures-indicators", settings)]
