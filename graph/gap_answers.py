"""The treaty answers of the REST API (/api/instruments/..., /api/gaps) as dataclasses the routes serve as they
are: each gathers what it needs (the instrument, the rows, ISO numeric codes and map places for the map) in one
call that runs inside a query worker (api.store.call). An unknown instrument raises UnknownInstrument, an
unknown region UnknownArea, both listing the known ones."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from graph import entities as E
from graph import gaps as G
from graph.in_worker import once
from mdkg.settings import Settings


@dataclass(frozen=True)
class MappedStatus(G.StateStatus):
    """A state's status with what the world map draws it by."""

    numeric: str | None = None  # ISO 3166 numeric code
    shapes: tuple[str, ...] = ()  # ISO numeric codes of the map shapes that show it (successors' for a former one)
    point: tuple[float, float] | None = None  # [latitude, longitude] of a state too small for the map's shapes


@dataclass(frozen=True)
class InstrumentStatus:
    instrument: G.InstrumentInfo
    as_of: dt.date
    complete: bool
    warnings: list[str]
    counts: dict[str, int]
    region: str | None
    statehood: str
    states: list[MappedStatus]


@dataclass(frozen=True)
class Timeline:
    instrument: G.InstrumentInfo
    years: list[G.YearCount]


@dataclass(frozen=True)
class GapAnswer:
    instrument: G.InstrumentInfo
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
    gaps: list[MappedStatus]
    regions: list[G.RegionGap]


@dataclass(frozen=True)
class Gaps:
    as_of: dt.date
    reports: list[GapAnswer]


def _mapped(rows: list[G.StateStatus], codes: dict, places: dict | None) -> list[MappedStatus]:
    out = []
    for s in rows:
        place = (places or {}).get(s.iso3)
        out.append(
            MappedStatus(
                **dataclasses.asdict(s),
                numeric=(codes.get(s.iso3) or {}).get("numeric"),
                shapes=place.shapes if place else (),
                point=place.point if place else None,
            )
        )
    return out


def instrument_status(store, ref: str, as_of: dt.date, region: str | None, settings: Settings) -> InstrumentStatus:
    """Every state's status under one instrument on a date, optionally in one region or sub-region."""
    info = G.resolve_instrument(store, ref, settings)
    area = G.resolve_area(store, region, settings) if region else None
    rows = G.status(store, info, as_of, settings)
    if area:
        rows = [r for r in rows if area.code in (r.region_code, r.subregion_code)]
    counts = {s: 0 for s in G.STATUSES}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    warn = G.record_warnings(info, as_of)
    states = _mapped(rows, once(E.state_codes, store, settings), once(G.map_places, store, settings))
    return InstrumentStatus(info, as_of, not warn, warn, counts, area.name if area else None, G.STATEHOOD, states)


def timeline(store, ref: str, settings: Settings) -> Timeline:
    info = G.resolve_instrument(store, ref, settings)
    return Timeline(info, G.timeline(store, info.id, settings=settings))


def gaps(
    store, refs: list[str], as_of: dt.date, by: str | None, scope: str, region: str | None, settings: Settings
) -> Gaps:
    """The gap answer for each instrument (graph.gaps.gaps), with the states' numeric codes."""
    infos = [G.resolve_instrument(store, ref, settings) for ref in refs]
    area = G.resolve_area(store, region, settings) if region else None
    codes = once(E.state_codes, store, settings)
    reports = []
    for info in infos:
        r = G.gaps(store, info, as_of, by, scope, area.code if area else None, settings=settings)
        reports.append(
            GapAnswer(
                instrument=info,
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
                gaps=_mapped(r.rows, codes, None),
                regions=r.regions,
            )
        )
    return Gaps(as_of, reports)
