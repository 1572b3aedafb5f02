"""Ratification-gap queries: the SPARQL files in queries/ run against a pyoxigraph Store whose default graph
is the union of its named graphs (as on the mdkg endpoint). Each function here runs exactly one of those
files, binding its parameters, and returns plain dataclasses; the SPARQL and the Python answers are the same
by construction, and tests/test_gaps.py checks them against the source rows.

Parameter convention of the .rq files: a parameter is a `VALUES ?name { ... }` line ending in `# param`; the
values between the braces are the example. `bind()` replaces them with the given terms, serialised with
escaping (IRIs and language tags are checked; strings become one-line literals with backslash, quote and
control characters escaped). `UNDEF` leaves the variable free.

States: only the states that existed on the date are listed or counted (mdkg:statehood periods from the Correlates
of War State System Membership List v2016 and ISO 3166-3; ingest/statehood.py); `STATEHOOD` says so in every
report. A state the record says nothing about (a partial or empty record, or a former state whose actions the
depositary prints only in footnotes) has status "no-data": counted apart, never as a gap.

Record coverage: every instrument has mdkg:recordCoverage complete (as at a status date) / partial / none.
A gap list for an instrument whose record is not complete, or for a date after the record's status date, is
not a complete gap list: the functions say so in `warnings` (and `complete=False`) and issue a
`RecordIncompleteWarning`."""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pyoxigraph as ox
from rdflib import XSD, Literal, URIRef

from mdkg.iris import entity_key
from mdkg.settings import Settings

STATUSES = ("party", "signatory", "denounced", "no-action", "no-data")
GAP_STATUSES = ("signatory", "denounced", "no-action")  # "no-data" is never a gap: the record does not say
# Which states a gap list covers: all, or those the curated relationships name (the ?scope keywords of
# queries/gaps-in-scope.rq each scope stands for), with how answers describe them.
SCOPES = {
    "all": ([], ""),
    "corridors": (["corridors"], "states on migration corridors"),
    "partners": (["partners"], "partners of migration partnerships"),
    "related": (["corridors", "partners"], "states on corridors or in partnerships"),
}
_PARAM = re.compile(r"^(?P<head>[ \t]*VALUES[ \t]+\?(?P<var>\w+)[ \t]*\{)(?P<body>[^}\n]*)"
                    r"(?P<tail>\}[ \t]*#[ \t]*param\b.*)$", re.MULTILINE)
_IRI_BAD = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_LANG = re.compile(r"^[A-Za-z]+(-[A-Za-z0-9]+)*$")
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
STATEHOOD = ("states that existed on the date: Correlates of War State System Membership List v2016, ISO 3166-3 "
             "for former states (Holy See, State of Palestine, Cook Islands, Niue, which COW does not list: from "
             "their first recorded treaty action)")


class RecordIncompleteWarning(UserWarning):
    """A gap answer computed on a partial or empty treaty record, or past the record's status date."""


class UnknownInstrument(ValueError):
    pass


# -- loading and binding the .rq files -----------------------------------------------------------------
@cache
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def load_query(name: str, settings: Settings) -> str:
    """The text of queries/{name}.rq (of the build answered from: `settings.queries_dir`), moved to the
    configured base IRI if it differs."""
    return settings.ns.moved(_read(settings.queries_dir / (name if name.endswith(".rq") else f"{name}.rq")))


def parameters(query: str) -> list[str]:
    """The parameters a query declares, in order, each once (a parameter may have several `# param` lines)."""
    return list(dict.fromkeys(m.group("var") for m in _PARAM.finditer(query)))


def term(value: object) -> str:
    """SPARQL syntax for one value: IRIs (URIRef / NamedNode), dates, ints, bools, strings, rdflib
    Literals."""
    if value is None:
        return "UNDEF"
    if isinstance(value, ox.NamedNode):
        value = URIRef(value.value)
    if isinstance(value, URIRef):
        if _IRI_BAD.search(str(value)):
            raise ValueError(f"not a valid IRI: {str(value)!r}")
        return f"<{value}>"
    if isinstance(value, Literal):
        if value.language:
            if not _LANG.match(value.language):
                raise ValueError(f"not a valid language tag: {value.language!r}")
            return f"{_string(str(value))}@{value.language}"
        if value.datatype and str(value.datatype) != str(XSD.string):
            return f"{_string(str(value))}^^{term(URIRef(value.datatype))}"
        return _string(str(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        raise TypeError(f"cannot bind a datetime {value!r}; pass a date")
    if isinstance(value, dt.date):
        return f'"{value.isoformat()}"^^<{XSD.date}>'
    if isinstance(value, str):
        return _string(value)
    raise TypeError(f"cannot bind {value!r}")


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def _string(text: str) -> str:
    """A one-line SPARQL string literal (STRING_LITERAL_QUOTE): backslash, quote and line breaks escaped,
    other control characters as \\u escapes. Never a long (triple-quoted) literal."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def bind(query: str, **params: object) -> str:
    """Replace the example values of the `# param` VALUES lines; a list/tuple/set binds several values."""
    declared = set(parameters(query))
    unknown = set(params) - declared
    if unknown:
        raise ValueError(f"unknown parameter(s) {sorted(unknown)}; the query declares {sorted(declared)}")

    def replace(m: re.Match) -> str:
        var = m.group("var")
        if var not in params:
            return m.group(0)
        value = params[var]
        values = list(value) if isinstance(value, list | tuple | set | frozenset) else [value]
        return f"{m.group('head')} {' '.join(term(v) for v in values)} {m.group('tail')}"

    return _PARAM.sub(replace, query)


def _py(t: object) -> object:
    if t is None:
        return None
    if isinstance(t, ox.NamedNode):
        return t.value
    if isinstance(t, ox.Literal):
        dtype = t.datatype.value if t.datatype else None
        if dtype == str(XSD.date):
            try:
                return dt.date.fromisoformat(t.value)
            except ValueError:
                return t.value
        if dtype in (str(XSD.integer), str(XSD.int), str(XSD.long), str(XSD.decimal)) and re.fullmatch(
                r"-?\d+", t.value):
            return int(t.value)
        if dtype == str(XSD.boolean):  # "1"/"0" are boolean's other lexical forms (Virtuoso answers them)
            return t.value in ("true", "1")
        return t.value
    return str(t)


def select(store: ox.Store, name: str, settings: Settings,
           **params: object) -> list[dict[str, object]]:
    """Run queries/{name}.rq with its parameters bound; rows as dicts of Python values (IRIs as str)."""
    query = bind(load_query(name, settings), **params)
    solutions = store.query(query, use_default_graph_as_union=True)
    names = [v.value for v in solutions.variables]
    return [{n: _py(s[n]) for n in names} for s in solutions]


# -- results ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InstrumentInfo:
    iri: str
    id: str
    title: str | None
    adoption_date: dt.date | None
    entry_into_force: dt.date | None
    depositary: str | None
    untc_reference: str | None
    coverage: str  # complete | partial | none
    status_date: dt.date | None  # a complete record is complete as at this date
    snapshot_date: dt.date | None
    authority: str | None
    note: str | None
    actions: int

    @property
    def label(self) -> str:
        return f"{self.id} ({self.title})" if self.title else self.id

    def describe(self) -> str:
        if self.coverage == "complete":
            return f"complete as at {self.status_date} ({self.authority})"
        copy = f", a copy of about {self.snapshot_date}" if self.snapshot_date else ""
        return f"{self.coverage} ({self.authority}{copy}; {self.actions} actions recorded)"


@dataclass(frozen=True)
class StateStatus:
    instrument: str  # instrument id
    iso3: str
    name: str | None
    status: str  # party | signatory | denounced | no-action | no-data
    consent_date: dt.date | None = None
    consent_kind: str | None = None
    signature_date: dt.date | None = None
    denunciation_date: dt.date | None = None
    region: str | None = None
    roles: str | None = None
    region_code: str | None = None
    subregion: str | None = None
    subregion_code: str | None = None


@dataclass(frozen=True)
class RegionGap:
    region_code: str | None
    region: str
    states: int
    parties: int
    signatories: int
    no_action: int
    denounced: int
    non_parties: int
    non_party_codes: tuple[str, ...]
    no_data: int = 0  # states the record says nothing about: not counted in non_parties


@dataclass
class GapReport:
    """A gap answer and what it rests on. `complete` is False whenever a warning applies."""

    query: str
    instruments: list[InstrumentInfo]
    as_of: dt.date
    rows: list[StateStatus] = field(default_factory=list)
    regions: list[RegionGap] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    parties: int | None = None
    states: int | None = None  # states that existed on as_of (in the region, if one is given)
    no_data: list[str] = field(default_factory=list)  # ISO3 of the states the record says nothing about
    region: str | None = None  # the region / sub-region the answer is limited to (its name)
    statehood: str = ""  # the definition of "state on the date" the answer uses

    @property
    def complete(self) -> bool:
        return not self.warnings


@dataclass(frozen=True)
class YearCount:
    year: int
    parties: int  # every participant, as UNTC counts (incl. e.g. the European Union)
    state_parties: int
    change: int  # parties minus the year before


@dataclass(frozen=True)
class ClaimResult:
    """One checked aspect of a ratification claim (queries/claim-check.rq); `verdict` says it in words."""

    claim: str
    instrument: str
    as_of: object  # dt.date, or the text of a partial date ("2005", "2006-09")
    aspect: str  # count | party | non-party
    state: str | None  # ISO3 for party/non-party rows
    claimed: str  # the claimed number of parties, or "party" / "non-party"
    recorded: str  # the number of state parties, or the state's status, at the end of the claim's period
    agrees: bool  # the claimed count / status held on some day of the claim's period
    verdict: str  # "agrees" / "disagrees: recorded 33, claimed 34; ..." / "cannot confirm: ..."
    coverage: str | None
    quote: str | None
    source: str | None
    recorded_at_start: str | None = None  # the same at the start of the period
    recorded_min: int | None = None  # count aspect: the range of the count during the period
    recorded_max: int | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    match_from: dt.date | None = None  # count aspect: first day the record shows exactly the claimed count
    reached_on: dt.date | None = None  # ... at least the claimed count
    exceeded_on: dt.date | None = None  # ... more than the claimed count
    record_complete: bool = True  # the record covers the claim's period (see record_covers)


# -- instruments and warnings ----------------------------------------------------------------------------
def instruments(store: ox.Store, settings: Settings) -> dict[str, InstrumentInfo]:
    out = {}
    for r in select(store, "instruments", settings):
        iid = entity_key(r["instrument"], settings)
        out[iid] = InstrumentInfo(
            iri=r["instrument"], id=iid, title=r["title"], adoption_date=r["adoptionDate"],
            entry_into_force=r["entryIntoForce"],
            depositary=entity_key(r["depositary"], settings) if r["depositary"] else None,
            untc_reference=r["untcReference"], coverage=r["coverage"], status_date=r["statusDate"],
            snapshot_date=r["snapshotDate"], authority=r["authority"], note=r["note"],
            actions=r["actions"] or 0)
    return out


def resolve_instrument(store: ox.Store, ref: str | InstrumentInfo, settings: Settings) -> InstrumentInfo:
    """An instrument by registry id (icrmw, ilo-c97) or IRI; UnknownInstrument lists the known ones. An
    InstrumentInfo (a caller that has looked it up already) is itself."""
    if isinstance(ref, InstrumentInfo):
        return ref
    known = instruments(store, settings)
    key = entity_key(ref.strip(), settings).lower()
    if key in known:
        return known[key]
    raise UnknownInstrument(f"unknown instrument {ref!r}; the treaty record has: {', '.join(sorted(known))}")


def record_warnings(info: InstrumentInfo, as_of: dt.date) -> list[str]:
    """Why an answer about `info` on `as_of` is not complete (empty list: it is)."""
    out = []
    if info.coverage == "none":
        out.append(f"WARNING: the treaty record of {info.id} is EMPTY ({info.authority}): no treaty action "
                   f"is recorded, so every state is 'no data' (not a gap).")
    elif info.coverage == "partial":
        note = f" {info.note}" if info.note else ""
        copy = f", a copy of about {info.snapshot_date}" if info.snapshot_date else ""
        out.append(f"WARNING: the treaty record of {info.id} is PARTIAL ({info.authority}{copy}; "
                   f"{info.actions} actions recorded).{note} States outside the record are 'no data', "
                   f"not gaps: this gap list is NOT complete.")
    if info.adoption_date and as_of < info.adoption_date:
        out.append(f"WARNING: {as_of} is before {info.id} was adopted ({info.adoption_date}): no state could be "
                   f"party to it then.")
    elif info.coverage == "complete" and info.status_date and as_of > info.status_date:
        out.append(f"WARNING: the treaty record of {info.id} is complete only up to {info.status_date} "
                   f"({info.authority}); actions after that date are not recorded, so the answer for "
                   f"{as_of} may be incomplete.")
    return out


def _warn(report: GapReport) -> GapReport:
    for message in report.warnings:
        warnings.warn(message, RecordIncompleteWarning, stacklevel=3)
    return report


def _infos(store: ox.Store, refs: Iterable[str], settings: Settings) -> list[InstrumentInfo]:
    refs = list(refs)
    if len(refs) == 1:
        return [resolve_instrument(store, refs[0], settings)]
    known = instruments(store, settings)  # one query for many refs
    out = []
    for ref in refs:
        key = entity_key(ref.strip(), settings).lower()
        if key not in known:
            raise UnknownInstrument(f"unknown instrument {ref!r}; the treaty record has: {', '.join(sorted(known))}")
        out.append(known[key])
    return out


def _sorted_list(joined: str | None) -> str | None:
    """A GROUP_CONCAT of names in one order whatever the engine (each orders its groups its own way)."""
    return ", ".join(sorted(joined.split(", "))) if joined else joined


def _status_row(r: dict, settings: Settings, instrument: str | None = None) -> StateStatus:
    return StateStatus(
        instrument=instrument or entity_key(str(r.get("instrument")), settings), iso3=r["iso3"], name=r.get("name"),
        status=r["status"], consent_date=r.get("consentDate"),
        consent_kind=(entity_key(r["consentKind"], settings).removeprefix("action-kind/") if r.get("consentKind")
                      else None),
        signature_date=r.get("signatureDate"), denunciation_date=r.get("denunciationDate"),
        region=r.get("regionName"), roles=_sorted_list(r.get("roles")),
        region_code=_area(r.get("region"), settings), subregion=r.get("subregionName"),
        subregion_code=_area(r.get("subregion"), settings))


def _area(iri: object, settings: Settings) -> str | None:
    return entity_key(str(iri), settings).removeprefix("region/") if iri else None


# -- the queries ------------------------------------------------------------------------------------------
def status(store: ox.Store, instrument: str | InstrumentInfo | Sequence[str], as_of: dt.date,
           settings: Settings, iso3: str | None = None) -> list[StateStatus]:
    """queries/status-as-of.rq: the status of every state (or the one `iso3`) for the instrument(s) on
    `as_of`."""
    refs = [instrument] if isinstance(instrument, str | InstrumentInfo) else list(instrument)
    return _status(store, _infos(store, refs, settings), as_of, settings, iso3)


def _status(store: ox.Store, infos: Iterable[InstrumentInfo], as_of: dt.date, settings: Settings,
            iso3: str | None = None, rows_of: Iterable[str] | None = None) -> list[StateStatus]:
    """`rows_of`: the IRIs the `iso3` state's actions may be recorded under (the query's ?row, a speed-up that a
    build made before it lacks: then not bound)."""
    row = {"row": [URIRef(r) for r in sorted(rows_of)]} if rows_of else {}
    if row and "row" not in parameters(load_query("status-as-of", settings)):
        row = {}
    rows = select(store, "status-as-of", settings, instrument=[URIRef(i.iri) for i in infos], asOf=as_of,
                  iso3=iso3, **row)
    return [_status_row(r, settings) for r in rows]


def status_matrix(store: ox.Store, as_of: dt.date, instruments_: Sequence[str] | None = None,
                  *, settings: Settings) -> dict[tuple[str, str], str]:
    """(ISO3, instrument id) -> status for all states x all (or the given) instruments, in one query."""
    refs = list(instruments_) if instruments_ else sorted(instruments(store, settings))
    return {(s.iso3, s.instrument): s.status for s in status(store, refs, as_of, settings)}


def not_party(store: ox.Store, instrument: str | InstrumentInfo, as_of: dt.date, settings: Settings) -> GapReport:
    """The states not party to `instrument` on `as_of`: the rows queries/not-party.rq gives (tests/test_gaps.py
    checks that they agree), read from queries/status-as-of.rq, which also gives the counts, in one query."""
    info = resolve_instrument(store, instrument, settings)
    everyone = _status(store, [info], as_of, settings)  # (status() would look the instrument up again)
    report = GapReport("not-party", [info], as_of, rows=[r for r in everyone if r.status in GAP_STATUSES],
                       warnings=record_warnings(info, as_of), statehood=STATEHOOD)
    _count(report, everyone)
    return _warn(report)


def _count(report: GapReport, everyone: list[StateStatus]) -> None:
    """states / parties / no_data of a report from every state's status on the date."""
    report.states = len(everyone)
    report.parties = sum(s.status == "party" for s in everyone)
    report.no_data = sorted(s.iso3 for s in everyone if s.status == "no-data")


def gaps_by_region(store: ox.Store, instrument: str, as_of: dt.date, level: str = "region",
                   *, settings: Settings) -> GapReport:
    """queries/gaps-by-region.rq: parties and non-parties per UN M49 region (level 'region' or
    'subregion')."""
    if level not in ("region", "subregion"):
        raise ValueError("level: 'region' or 'subregion'")
    info = resolve_instrument(store, instrument, settings)
    rows = select(store, "gaps-by-region", settings, instrument=URIRef(info.iri), asOf=as_of,
                  regionProperty=URIRef(settings.ns.MDKG[level]))
    regions = [RegionGap(
        region_code=entity_key(r["region"], settings).removeprefix("region/") if r["region"] else None,
        region=r["regionName"] or "(no region)", states=r["states"], parties=r["parties"],
        signatories=r["signatories"], no_action=r["noAction"], denounced=r["denounced"],
        non_parties=r["nonParties"], non_party_codes=tuple(sorted((r["nonPartyCodes"] or "").split())),
        no_data=r["noData"] or 0)
        for r in rows]
    report = GapReport("gaps-by-region", [info], as_of, regions=regions,
                       warnings=record_warnings(info, as_of), statehood=STATEHOOD)
    report.states = sum(g.states for g in regions)
    report.parties = sum(g.parties for g in regions)
    return _warn(report)


def gaps_in_scope(store: ox.Store, instrument: str | InstrumentInfo, as_of: dt.date, scope: str = "corridors",
                  only_gaps: bool = True, *, settings: Settings) -> GapReport:
    """queries/gaps-in-scope.rq: non-parties (or, with only_gaps=False, all states with their status) among
    corridor origins/destinations ('corridors'), partners of active partnerships ('partners') or either
    ('related')."""
    scopes = {name: parts for name, (parts, _) in SCOPES.items() if parts}
    if scope not in scopes:
        raise ValueError(f"scope: one of {sorted(scopes)}")
    info = resolve_instrument(store, instrument, settings)
    rows = select(store, "gaps-in-scope", settings, instrument=URIRef(info.iri), asOf=as_of,
                  scope=scopes[scope], onlyGaps=only_gaps)
    statuses = [_status_row(r, settings, info.id) for r in rows]
    report = GapReport(f"gaps-in-scope:{scope}", [info], as_of, rows=statuses,
                       warnings=record_warnings(info, as_of), statehood=STATEHOOD)
    if not only_gaps:
        _count(report, statuses)
    if not _has_scope_data(store, scopes[scope], settings):
        report.warnings.append(f"WARNING: the graph has no {' or '.join(scopes[scope])} data "
                               f"(mdkg:MigrationCorridor / mdkg:Partnership with states): the list is empty "
                               f"for lack of data, not because there is no gap.")
    return _warn(report)


def gaps(store: ox.Store, instrument: str | InstrumentInfo, as_of: dt.date, by: str | None = None, scope: str = "all",
         region: str | None = None, *, settings: Settings) -> GapReport:
    """The gap answer the CLI, the API and the /gaps page give: non-parties to `instrument` on `as_of`
    (rows, every time), all states or a scope, optionally limited to one UN M49 region or sub-region (`region`:
    its M49 code or name, e.g. "142" or "Asia", see `areas()`) and grouped by region ('region' /
    'subregion')."""
    if by not in (None, "region", "subregion"):
        raise ValueError("by: 'region' or 'subregion'")
    if scope == "all" and not by and not region:
        return not_party(store, instrument, as_of, settings)
    if scope == "all":
        info = resolve_instrument(store, instrument, settings)
        everyone = _status(store, [info], as_of, settings)
        report = GapReport("status-as-of", [info], as_of, warnings=record_warnings(info, as_of),
                           statehood=STATEHOOD)
        _warn(report)
    else:
        report = gaps_in_scope(store, instrument, as_of, scope, False, settings=settings)
        everyone = report.rows
    if region:
        area = resolve_area(store, region, settings)
        report.region = area.name
        everyone = [r for r in everyone if area.code in (r.region_code, r.subregion_code)]
    _count(report, everyone)
    if by:
        report.regions = group_by_region(everyone, by)
    report.rows = [r for r in everyone if r.status in GAP_STATUSES]
    return report


@dataclass(frozen=True)
class AreaInfo:
    code: str
    name: str
    parent: str | None  # M49 code of the broader area
    level: str  # region | subregion


class UnknownArea(ValueError):
    pass


def areas(store: ox.Store, settings: Settings) -> list[AreaInfo]:
    """The UN M49 regions and sub-regions the states of the graph are in, regions first."""
    M = settings.ns.MDKG
    q = (f"SELECT DISTINCT ?area ?name ?broader ?p WHERE {{ ?s <{M['region']}>|<{M['subregion']}> ?area ; ?p ?area . "
         f"FILTER (?p IN (<{M['region']}>, <{M['subregion']}>)) ?area <{RDFS_LABEL}> ?name . "
         f"OPTIONAL {{ ?area <http://www.w3.org/2004/02/skos/core#broader> ?broader }} }}")
    out = {}
    for r in store.query(q, use_default_graph_as_union=True):
        code = _area(r["area"].value, settings)
        level = "region" if r["p"].value == str(M["region"]) else "subregion"
        out[code] = AreaInfo(code, r["name"].value, _area(r["broader"].value, settings) if r["broader"] else None,
                             level)
    return sorted(out.values(), key=lambda a: (a.level != "region", a.name))


def resolve_area(store: ox.Store, ref: str, settings: Settings) -> AreaInfo:
    """A region or sub-region by M49 code ("142", "35" / "035") or name ("Asia", "south-eastern asia")."""
    return find_area(areas(store, settings), ref)


def find_area(known: Sequence[AreaInfo], ref: str) -> AreaInfo:
    """The area of `known` that `ref` names (code with or without leading zeros, or name in any case);
    UnknownArea lists them all."""
    key = ref.strip().lower()
    for a in known:
        if key in (a.code, a.code.lstrip("0"), a.name.lower()) or (key.isdigit() and key.zfill(3) == a.code):
            return a
    raise UnknownArea(f"unknown region {ref!r}; one of: " + ", ".join(f"{a.code} {a.name}" for a in known))


def party_to_x_not_y(store: ox.Store, x: str, y: str, as_of: dt.date,
                     settings: Settings) -> GapReport:
    """queries/party-x-not-y.rq: states party to `x` but not to `y` on `as_of` (e.g. ilo-c97 but not
    icrmw)."""
    ix, iy = resolve_instrument(store, x, settings), resolve_instrument(store, y, settings)
    rows = select(store, "party-x-not-y", settings, x=URIRef(ix.iri), y=URIRef(iy.iri), asOf=as_of)
    out = [StateStatus(instrument=iy.id, iso3=r["iso3"], name=r["name"], status=r["yStatus"],
                       consent_date=None, signature_date=r["ySignatureDate"], region=r["regionName"])
           for r in rows]
    warn = [*record_warnings(ix, as_of), *record_warnings(iy, as_of)]
    if ix.coverage != "complete":
        warn.append(f"WARNING: {ix.id}'s record is {ix.coverage}: states party to {ix.id} whose action is "
                    f"not recorded are missing from this list.")
    return _warn(GapReport("party-x-not-y", [ix, iy], as_of, rows=out, warnings=warn))


def timeline(store: ox.Store, instrument: str, until: int | None = None, fill: bool = True,
             *, settings: Settings) -> list[YearCount]:
    """queries/parties-per-year.rq: parties at the end of each year. With `fill`, every year from the first
    action to `until` (default: the last year with an action) is listed, carrying the count forward."""
    info = resolve_instrument(store, instrument, settings)
    rows = select(store, "parties-per-year", settings, instrument=URIRef(info.iri))
    by_year = {int(r["year"]): (r["parties"], r["stateParties"]) for r in rows}
    if not by_year:
        return []
    years = range(min(by_year), max(until or 0, max(by_year)) + 1) if fill else sorted(by_year)
    out, last, prev = [], (0, 0), 0
    for year in years:
        if year in by_year:
            last = by_year[year]
        elif not fill:
            continue
        out.append(YearCount(year, last[0], last[1], last[0] - prev))
        prev = last[0]
    return out


def claim_check(store: ox.Store, claims: Sequence[str] | None = None,
                *, settings: Settings) -> list[ClaimResult]:
    """queries/claim-check.rq: each ratification claim of the seed documents against the record at its date
    (for a partial date, on some day of its month or year); a verdict in words for each checked aspect."""
    params = {"claim": [URIRef(c) for c in claims]} if claims else {}
    infos = instruments(store, settings)
    out = []
    for r in select(store, "claim-check", settings, **params):
        iid = entity_key(r["instrument"], settings)
        info = infos.get(iid)
        out.append(ClaimResult(
            claim=r["claim"], instrument=iid, as_of=r["asOf"], aspect=r["aspect"], state=r["iso3"],
            claimed=r["claimed"], recorded=r["recorded"], agrees=bool(r["agrees"]),
            verdict=_verdict(r, info), coverage=r["coverage"], quote=r["quote"], source=r["source"],
            recorded_at_start=r["recordedAtStart"], recorded_min=r["recordedMin"],
            recorded_max=r["recordedMax"],
            period_start=r["periodStart"], period_end=r["periodEnd"], match_from=r["matchFrom"],
            reached_on=r["reachedOn"], exceeded_on=r["exceededOn"],
            record_complete=record_covers(info, r["periodEnd"])))
    return out


def record_covers(info: InstrumentInfo | None, until: dt.date | None) -> bool:
    """Does the treaty record hold every action of `info` up to `until`? A complete record does up to its
    status date; a partial record that is a copy of the depositary's table (snapshot_date) does up to the
    copy's date, since such a table keeps the dates of every earlier action; other partial records and empty
    ones do not."""
    if info is None or until is None:
        return False
    if info.coverage == "complete":
        return info.status_date is None or until <= info.status_date
    if info.coverage == "partial" and info.snapshot_date:
        return until <= info.snapshot_date
    return False


def _verdict(r: dict, info: InstrumentInfo | None) -> str:
    aspect, claimed, recorded, agrees = r["aspect"], r["claimed"], r["recorded"], bool(r["agrees"])
    start, end = r["periodStart"], r["periodEnd"]
    as_of = r["asOf"]
    when = as_of.isoformat() if isinstance(as_of, dt.date) else str(as_of)
    period = start != end
    precision = {4: "year", 7: "month"}.get(len(when), "day")
    covered = record_covers(info, end)
    basis = ""
    if covered and info is not None and info.coverage == "partial":
        basis = f" (record: {info.authority}, a copy of about {info.snapshot_date}, which covers {when})"
    if aspect == "count":
        lo, hi, first = r["recordedMin"], r["recordedMax"], r["recordedAtStart"]
        during = f"{first} at the start of {when} and {recorded} at its end" if period and lo != hi else ""
        if agrees:
            if not during:
                return "agrees" + basis
            held = _held(claimed, r["matchFrom"], r["exceededOn"])
            return f"agrees at {precision} precision: the record shows {during}; {held}{basis}"
        difference = f"recorded {recorded}, claimed {claimed}"
        if during:
            difference += f" (the record shows {during}, never {claimed} during {when})"
        history = _history(claimed, r)
        if covered:
            return f"disagrees: {difference}; {history}{basis}"
        # On an incomplete record a missing action cannot refute a claim; a recorded one can.
        record = f"record {info.coverage if info else 'missing'}"
        if lo is not None and lo > int(claimed):
            return f"disagrees: {difference} ({record}: at least {lo} during {when})"
        return f"cannot confirm: {difference} ({record})"
    if agrees:
        if period and r["recordedAtStart"] != recorded:
            return (f"agrees at {precision} precision: {r['recordedAtStart']} at the start of {when}, "
                    f"{recorded} at its end{basis}")
        return "agrees" + basis
    difference = f"recorded {recorded}, claimed {claimed}"
    if covered:
        return f"disagrees: {difference}{basis}"
    record = f"record {info.coverage if info else 'missing'}"
    if aspect == "non-party":
        return f"disagrees: {difference} ({record}, but the action is recorded)"
    if recorded == "no-action":  # on an incomplete record: the record does not say
        difference = f"the record has no data, claimed {claimed}"
    return f"cannot confirm: {difference} ({record})"


def _held(claimed: str, since: dt.date | None, exceeded: dt.date | None) -> str:
    if since is None:
        return f"it never shows exactly {claimed}"
    if exceeded is None or exceeded <= since:
        return f"{claimed} from {since}"
    return f"{claimed} from {since} to {exceeded - dt.timedelta(days=1)}"


def _history(claimed: str, r: dict) -> str:
    """When the record showed the claimed count, to explain a difference."""
    if r["matchFrom"] is not None:
        return f"the record shows {_held(claimed, r['matchFrom'], r['exceededOn'])}"
    if r["reachedOn"] is not None:
        return f"the record never shows exactly {claimed}: it passes it on {r['reachedOn']}"
    return f"the record never shows {claimed} state parties"


# -- one state's record (entity pages) -----------------------------------------------------------------------
@dataclass(frozen=True)
class StatePeriod:
    start: dt.date
    end: dt.date | None
    source: str
    actions_under: str | None  # ISO3 of the row the depositary prints the state's actions in
    record_held: bool


@dataclass
class StateTreaties:
    """A state's status for every instrument on one date (today, or the last day it existed), with what the
    record says nothing about named as such."""

    iso3: str
    as_of: dt.date
    periods: list[StatePeriod]
    successors: list[str]
    predecessors: list[str]
    lines: list[tuple[InstrumentInfo, StateStatus | None, str | None]]  # (instrument, status, why "no data")


def state_treaties(store: ox.Store, iso3: str, as_of: dt.date | None = None,
                   infos: dict[str, InstrumentInfo] | None = None,
                   *, settings: Settings) -> StateTreaties | None:
    """Two queries: the state's periods with its successors and predecessors, then its status for every
    instrument (`infos`: the instruments, if the caller has them)."""
    M = settings.ns.MDKG
    node = settings.ns.state(iso3)
    q = (f"SELECT ?start ?end ?u ?under ?held ?source ?succ ?pred WHERE {{ "
         f"{{ <{node}> <{M['statehood']}> ?p . ?p <{M['startDate']}> ?start ; <{M['recordHeld']}> ?held . "
         f"OPTIONAL {{ ?p <{M['endDate']}> ?end }} OPTIONAL {{ ?p <{M['actionsRecordedUnder']}> ?u "
         f"OPTIONAL {{ ?u <{M['iso3166Alpha3']}> ?under }} }} "
         f"{{ SELECT ?p (GROUP_CONCAT(?src; separator=' / ') AS ?source) WHERE {{ <{node}> <{M['statehood']}> ?p . "
         f"OPTIONAL {{ ?p <http://purl.org/dc/terms/source> ?src }} }} GROUP BY ?p }} }} "
         f"UNION {{ <{node}> <{M['successor']}> ?x . ?x <{M['iso3166Alpha3']}> ?succ }} "
         f"UNION {{ ?y <{M['successor']}> <{node}> . ?y <{M['iso3166Alpha3']}> ?pred }} }}")
    periods, successors, predecessors = [], [], []
    rows_of = {str(node)}  # where its actions are recorded: itself, or another participant's row (?u)
    for r in store.query(q, use_default_graph_as_union=True):
        if r["succ"]:
            successors.append(r["succ"].value)
        elif r["pred"]:
            predecessors.append(r["pred"].value)
        else:
            rows_of |= {r["u"].value} if r["u"] else set()
            source = " / ".join(sorted(r["source"].value.split(" / ")))  # GROUP_CONCAT's order is the engine's
            periods.append(StatePeriod(_py(r["start"]), _py(r["end"]) if r["end"] else None, source,
                                       r["under"].value if r["under"] else None, _py(r["held"])))
    if not periods:
        return None
    periods.sort(key=lambda p: p.start)
    successors.sort()
    predecessors.sort()
    if as_of is None:
        last = periods[-1]
        as_of = last.end if last.end and last.end < dt.date.today() else dt.date.today()
    infos = infos or instruments(store, settings)
    by_id = {r.instrument: r for r in _status(store, infos.values(), as_of, settings, iso3, rows_of)}
    current = next((p for p in periods if p.start <= as_of and (p.end is None or as_of <= p.end)), None)
    lines = []
    for iid, info in sorted(infos.items(), key=lambda kv: (kv[1].title or kv[0]).lower()):
        row = by_id.get(iid)
        why = None
        if row is not None and row.status == "no-data":
            if current is not None and not current.record_held:
                why = ("the record holds no action of this former state (UNTC gives them only in footnotes, which "
                       "mdkg does not hold)")
            else:
                why = f"the record of {iid} is {info.coverage} ({info.authority}): this state's action, if any, is " \
                      f"not in it"
        elif row is not None and info.adoption_date and as_of < info.adoption_date:
            why = f"adopted only on {info.adoption_date}"
        elif row is not None and info.status_date and as_of > info.status_date and row.status != "party":
            why = f"the record is complete only up to {info.status_date} ({info.authority})"
        lines.append((info, row, why))
    return StateTreaties(iso3, as_of, periods, successors, predecessors, lines)


# -- the map ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MapPlace:
    """How the world map draws a state: its own ISO numeric shape, or (a former state) the shapes of its
    present-day successors where no state of the date claims them; small states as a point."""

    iso3: str
    shapes: tuple[str, ...]
    point: tuple[float, float] | None  # latitude, longitude


def map_places(store: ox.Store, settings: Settings) -> dict[str, MapPlace]:
    M = settings.ns.MDKG
    q = (f"SELECT ?iso3 ?num ?lat ?lon (GROUP_CONCAT(DISTINCT ?succNum; separator=' ') AS ?succ) WHERE {{ "
         f"?s a <{M['State']}> ; <{M['iso3166Alpha3']}> ?iso3 . "
         f"OPTIONAL {{ ?s <{M['iso3166Numeric']}> ?num }} "
         f"OPTIONAL {{ ?s <https://schema.org/latitude> ?lat ; <https://schema.org/longitude> ?lon }} "
         f"OPTIONAL {{ ?s <{M['successor']}>+ ?succ0 . ?succ0 <{M['iso3166Alpha2']}> ?a2 ; "
         f"<{M['iso3166Numeric']}> ?succNum }} }} GROUP BY ?iso3 ?num ?lat ?lon")
    out = {}
    for r in store.query(q, use_default_graph_as_union=True):
        iso3 = r["iso3"].value
        successors = tuple(sorted((r["succ"].value if r["succ"] else "").split()))
        own = (r["num"].value,) if r["num"] and not successors else ()
        point = (float(r["lat"].value), float(r["lon"].value)) if r["lat"] else None
        out[iso3] = MapPlace(iso3, own or successors, point)
    return out


# -- helpers ----------------------------------------------------------------------------------------------
def _has_scope_data(store: ox.Store, scopes: list[str], settings: Settings) -> bool:
    M = settings.ns.MDKG
    checks = {"corridors": f"?r a <{M['MigrationCorridor']}> ; <{M['origin']}>|<{M['destination']}> ?s .",
              "partners": f"?r a <{M['Partnership']}> ; <{M['partner']}> ?s ."}
    for scope in scopes:
        q = f"ASK {{ {checks[scope]} ?s a <{M['State']}> }}"
        if store.query(q, use_default_graph_as_union=True):
            return True
    return False


def group_by_region(rows: list[StateStatus], level: str) -> list[RegionGap]:
    """Counts per region ('region') or sub-region ('subregion') of status rows (which carry both)."""
    groups: dict[tuple[str | None, str], list[StateStatus]] = {}
    for row in rows:
        key = (row.region_code, row.region) if level == "region" else (row.subregion_code, row.subregion)
        groups.setdefault((key[0], key[1] or "(no region)"), []).append(row)
    out = []
    for (code, name), g in sorted(groups.items(), key=lambda kv: kv[0][1]):
        gap = [r for r in g if r.status in GAP_STATUSES]
        out.append(RegionGap(code, name, len(g), sum(r.status == "party" for r in g),
                             sum(r.status == "signatory" for r in g), sum(r.status == "no-action" for r in g),
                             sum(r.status == "denounced" for r in g), len(gap), tuple(sorted(r.iso3 for r in gap)),
                             sum(r.status == "no-data" for r in g)))
    return out


def load_store(path: Path) -> ox.Store:
    """An in-memory store with the dataset file (N-Quads, TriG, ... by extension)."""
    store = ox.Store()
    fmt = ox.RdfFormat.from_extension(path.suffix.lstrip(".")) or ox.RdfFormat.N_QUADS
    store.load(path=str(path), format=fmt)
    return store
