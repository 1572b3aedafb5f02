"""The reference set of states: UN member states, the two observer States, the few non-member states that take
part in UN treaties, and the ISO 3166-3 former states that occur in the treaty record.

Everything comes from two maintained packages, not from a hand-typed list: pycountry (ISO 3166-1 codes and
names, ISO 3166-3 former states) and country_converter (UN membership year, UN M49 sub-region, more names).
`ingest/states.yaml` holds only what the packages do not say (observers, non-member treaty participants, M49
area codes, and corrections with their authority).

A state is `{base}id/state/{ISO3}`; M49 areas are `{base}id/region/{code}` (SKOS concepts). Triples go into
the named graph `{base}graph/reference`."""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass, replace
from functools import cache
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import pycountry
import yaml
from country_converter.country_converter import COUNTRY_DATA_FILE
from rdflib import DCTERMS, RDF, RDFS, SKOS, XSD, Dataset, Literal, URIRef

from ingest import statehood
from mdkg.settings import PROV, Settings

CONFIG_FILE = Path(__file__).with_name("states.yaml")
M49_SOURCE = "https://unstats.un.org/unsd/methodology/m49/"

UN_MEMBER, UN_OBSERVER, NON_MEMBER, FORMER = "member", "observer", "non-member", "former"


@dataclass(frozen=True)
class StateRecord:
    iso3: str
    iso2: str | None
    numeric: str | None
    name: str  # preferred English short name
    # every English name form the packages give (incl. `name`), for labels and mentions
    names: tuple[str, ...]
    un_status: str  # member | observer | non-member | former
    un_member_since: int | None
    region: str | None  # UN M49 region (Africa, Americas, Asia, Europe, Oceania)
    region_code: str | None
    subregion: str | None  # country_converter's UNregion: M49 intermediate region or sub-region
    subregion_code: str | None


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    parent: str | None


@cache
def _config() -> dict:
    return yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8"))


@cache
def m49_areas() -> dict[str, Area]:
    """M49 code -> area, from ingest/states.yaml."""
    return {str(a["code"]): Area(str(a["code"]), a["name"], a.get("parent")) for a in _config()["m49"]}


def _top(code: str) -> Area:
    areas = m49_areas()
    area = areas[code]
    while area.parent:
        area = areas[area.parent]
    return area


@cache
def _coco_table() -> pd.DataFrame:
    """country_converter's own data file, read as strings.

    `coco.CountryConverter()` cannot be used with pandas 3 (pinned in requirements.lock): its loader turns
    Namibia's ISO2 code "NA" into a missing value and then fails compiling it as a regex. Reading the
    package's data file with no NA conversion gives the same table."""
    return pd.read_csv(COUNTRY_DATA_FILE, sep="\t", encoding="utf-8", dtype=str, keep_default_na=False)


def package_versions() -> dict[str, str]:
    return {"pycountry": version("pycountry"), "country_converter": version("country_converter")}


def _clean(name: str) -> list[str]:
    """A package name and the plain forms derived from it: 'Korea, Republic of' -> 'Republic of Korea';
    'Holy See (Vatican City State)' -> 'Holy See'; 'the State of Eritrea' -> 'State of Eritrea'."""
    name = " ".join(name.split())
    forms = [name]
    if name.lower().startswith("the "):
        forms.append(name[4:])
    bare = re.sub(r"\s*\([^)]*\)$", "", name)
    if bare != name:
        forms.append(bare)
    if ", " in name:
        head, tail = name.split(", ", 1)
        if re.search(r"\bof( the)?$", tail):
            inverted = f"{tail} {head}"
            forms.append(inverted[4:] if inverted.startswith("The ") else inverted)
        else:  # 'USSR, Union of Soviet Socialist Republics', 'Czechoslovakia, Czechoslovak Socialist Rep...'
            forms.extend([head, tail])
    return forms


def _unique(values: list[str | None]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for v in values:
        if v and v.strip() and v.strip() not in seen:
            seen[v.strip()] = None
    return tuple(seen)


def _preferred(country, coco_row) -> str:
    if getattr(country, "common_name", None):
        return country.common_name
    if "," not in country.name:
        return re.sub(r"\s*\([^)]*\)$", "", country.name)
    official = getattr(country, "official_name", None)
    if official:
        return official[4:] if official.lower().startswith("the ") else official
    if coco_row is not None and coco_row["name_official"]:
        return coco_row["name_official"]
    return _clean(country.name)[-1]


def _treaty_codes(folder: Path) -> set[str]:
    codes: set[str] = set()
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                code = (row.get("iso3") or "").strip()
                if code:
                    codes.add(code)
    return codes


def _first_actions(folder: Path) -> dict[str, dt.date]:
    """ISO3 -> the date of its first action in the treaty files (the statehood of states COW does not list)."""
    first: dict[str, dt.date] = {}
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                code = (row.get("iso3") or "").strip()
                try:
                    day = dt.date.fromisoformat((row.get("date") or "").strip())
                except ValueError:
                    continue  # ingest/treaties.py reports bad dates with file and line
                if code and (code not in first or day < first[code]):
                    first[code] = day
    return first


@cache
def name_patterns() -> tuple:
    """(ISO3, compiled name regex) from country_converter, to map other lists' state names to ISO3."""
    return tuple((row["ISO3"], re.compile(row["regex"], re.IGNORECASE))
                 for _, row in _coco_table().iterrows() if row["ISO3"] and row["regex"])


def _record(country, coco_row, status: str, overrides: dict, former_names: dict[str, str]) -> StateRecord:
    iso3 = country.alpha_3
    names: list[str | None] = []
    for attr in ("common_name", "name", "official_name"):
        value = getattr(country, attr, None)
        if value:
            names.extend(_clean(value))
    if coco_row is not None:
        names.extend([coco_row["name_short"], coco_row["name_official"]])
    if status == FORMER:  # 'Yugoslavia, (Socialist) Federal Republic of' -> 'Yugoslavia'
        preferred = former_names.get(iso3) or country.name.split(", ")[0]
    else:
        preferred = _preferred(country, coco_row)
    member_since = None
    subregion_code = None
    if coco_row is not None:
        if coco_row["UNmember"]:
            member_since = int(float(coco_row["UNmember"]))
        by_name = {a.name: a.code for a in m49_areas().values()}
        if coco_row["UNregion"]:
            if coco_row["UNregion"] not in by_name:
                raise ValueError(f"country_converter UNregion {coco_row['UNregion']!r} of {iso3} is not in "
                                 f"{CONFIG_FILE.name} m49")
            subregion_code = by_name[coco_row["UNregion"]]
    if iso3 in overrides:
        subregion_code = str(overrides[iso3]["subregion"])
    sub = m49_areas()[subregion_code] if subregion_code else None
    top = _top(subregion_code) if subregion_code else None
    return StateRecord(
        iso3=iso3,
        iso2=getattr(country, "alpha_2", None) if status != FORMER else None,
        numeric=getattr(country, "numeric", None),
        name=preferred,
        names=_unique([preferred, *names]),
        un_status=status,
        un_member_since=member_since,
        region=top.name if top else None,
        region_code=top.code if top else None,
        subregion=sub.name if sub else None,
        subregion_code=sub.code if sub else None,
    )


@cache
def reference_states(settings: Settings, treaty_folder: Path | None = None) -> dict[str, StateRecord]:
    """ISO3 -> StateRecord for every state of the reference set, sorted by ISO3."""
    config = _config()
    table = _coco_table()
    by_iso3 = {row["ISO3"]: row for _, row in table.iterrows() if row["ISO3"]}
    overrides = config.get("subregion_overrides") or {}
    wanted: dict[str, str] = {}
    for iso3, row in by_iso3.items():
        if row["UNmember"] and not row["obsolete"]:
            wanted[iso3] = UN_MEMBER
    for iso3 in config.get("observers") or {}:
        wanted[iso3] = UN_OBSERVER
    for iso3 in config.get("non_member_states") or {}:
        wanted.setdefault(iso3, NON_MEMBER)
    folder = treaty_folder or settings.seeds / "treaties"
    former_codes = (set(config.get("former_states") or []) | _treaty_codes(folder)
                    | statehood.former_codes(settings))
    out: dict[str, StateRecord] = {}
    former_names = statehood.former_names(settings)
    for iso3, status in wanted.items():
        country = pycountry.countries.get(alpha_3=iso3)
        if country is None:
            raise ValueError(f"{iso3} ({status}) is not an ISO 3166-1 alpha-3 code in pycountry")
        out[iso3] = _record(country, by_iso3.get(iso3), status, overrides, former_names)
    for iso3 in sorted(former_codes - set(out)):
        former = pycountry.historic_countries.get(alpha_3=iso3)
        if former is not None and pycountry.countries.get(alpha_3=iso3) is None:
            out[iso3] = _record(former, by_iso3.get(iso3), FORMER, overrides, former_names)
    _regions_from_successors(out, statehood.successions(settings))
    return dict(sorted(out.items()))


def _regions_from_successors(states: dict[str, StateRecord], successions: list[statehood.Succession]) -> None:
    """A former state that the packages give no M49 area gets its successors' sub-region (or region) where they
    all share one: Czechoslovakia Eastern Europe, Serbia and Montenegro Southern Europe; the USSR, whose
    successors are in four sub-regions and two regions, gets none."""
    pending = {s.predecessor: s.successors for s in successions
               if s.predecessor in states and not states[s.predecessor].region_code}
    while pending:
        progress = False
        for iso3, successors in list(pending.items()):
            if any(x in pending for x in successors):
                continue
            subs = {states[x].subregion_code for x in successors if x in states}
            tops = {states[x].region_code for x in successors if x in states}
            rec = states[iso3]
            if len(subs) == 1 and None not in subs:
                sub = m49_areas()[subs.pop()]
                top = _top(sub.code)
                rec = replace(rec, subregion=sub.name, subregion_code=sub.code, region=top.name,
                              region_code=top.code)
            elif len(tops) == 1 and None not in tops:
                top = m49_areas()[tops.pop()]
                rec = replace(rec, region=top.name, region_code=top.code)
            states[iso3] = rec
            del pending[iso3]
            progress = True
        if not progress:
            raise ValueError(f"circular successors in statehood.yaml: {sorted(pending)}")


def emit(ds: Dataset, settings: Settings) -> dict[str, int]:
    """Add the reference set of states and the M49 areas to the named graph `reference`."""
    ns = settings.ns
    M = ns.MDKG
    g = ds.graph(ns.graph("reference"))
    versions = package_versions()
    pycountry_iri = URIRef(f"https://pypi.org/project/pycountry/{versions['pycountry']}/")
    coco_iri = URIRef(f"https://pypi.org/project/country-converter/{versions['country_converter']}/")
    states = reference_states(settings)
    used_areas: set[str] = set()
    counts = {"states": 0, UN_MEMBER: 0, UN_OBSERVER: 0, NON_MEMBER: 0, FORMER: 0}
    for rec in states.values():
        node = ns.state(rec.iso3)
        g.add((node, RDF.type, M.State))
        g.add((node, RDF.type, M.Stakeholder))
        g.add((node, RDFS.label, Literal(rec.name, lang="en")))
        g.add((node, SKOS.prefLabel, Literal(rec.name, lang="en")))
        for alt in rec.names:
            if alt != rec.name:
                g.add((node, SKOS.altLabel, Literal(alt, lang="en")))
        g.add((node, DCTERMS.identifier, Literal(rec.iso3)))
        g.add((node, M.iso3166Alpha3, Literal(rec.iso3)))
        if rec.iso2:
            g.add((node, M.iso3166Alpha2, Literal(rec.iso2)))
        if rec.numeric:
            g.add((node, M.iso3166Numeric, Literal(rec.numeric)))
        g.add((node, M.unStatus, Literal(rec.un_status)))
        if rec.un_member_since:
            g.add((node, M.unMemberSince, Literal(str(rec.un_member_since), datatype=XSD.gYear)))
        if rec.region_code:
            g.add((node, M.region, ns.region(rec.region_code)))
            used_areas.add(rec.region_code)
        if rec.subregion_code:
            g.add((node, M.subregion, ns.region(rec.subregion_code)))
            used_areas.add(rec.subregion_code)
        standard = "ISO 3166-3" if rec.un_status == FORMER else "ISO 3166-1"
        g.add((node, DCTERMS.source, Literal(f"pycountry {versions['pycountry']}, {standard}")))
        g.add((node, PROV.wasDerivedFrom, pycountry_iri))
        if rec.un_status in (UN_MEMBER, NON_MEMBER) or rec.subregion_code:
            g.add((node, DCTERMS.source, Literal(
                f"country_converter {versions['country_converter']} (UN membership, UN M49 region)")))
            g.add((node, PROV.wasDerivedFrom, coco_iri))
        counts["states"] += 1
        counts[rec.un_status] += 1
    areas = m49_areas()
    for code in list(used_areas):
        while areas[code].parent:
            code = areas[code].parent
            used_areas.add(code)
    scheme = ns.ID["region"]
    g.add((scheme, RDF.type, SKOS.ConceptScheme))
    g.add((scheme, RDFS.label, Literal("UN M49 geographic regions", lang="en")))
    g.add((scheme, PROV.wasDerivedFrom, URIRef(M49_SOURCE)))
    for code in sorted(used_areas):
        area, node = areas[code], ns.region(code)
        g.add((node, RDF.type, SKOS.Concept))
        g.add((node, SKOS.inScheme, scheme))
        g.add((node, RDFS.label, Literal(area.name, lang="en")))
        g.add((node, SKOS.prefLabel, Literal(area.name, lang="en")))
        g.add((node, SKOS.notation, Literal(code)))
        if area.parent:
            g.add((node, SKOS.broader, ns.region(area.parent)))
        else:
            g.add((scheme, SKOS.hasTopConcept, node))
        g.add((node, DCTERMS.source, Literal("UN Statistics Division, M49 standard", lang="en")))
    for overridden, rule in (_config().get("subregion_overrides") or {}).items():
        if overridden in states:
            g.add((ns.state(overridden), RDFS.comment, Literal(
                f"UN M49 sub-region corrected: {rule['authority']}", lang="en")))
    counts["regions"] = len(used_areas)
    counts.update(statehood.emit(ds, states, name_patterns(), _first_actions(settings.seeds / "treaties"),
                                 settings))
    counts["map_points"] = _emit_points(g, states, settings)
    return counts


SCHEMA = "https://schema.org/"
POINTS_SOURCE = ("Google DSPL canonical dataset countries.csv (https://developers.google.com/public-data/docs/"
                 "canonical/countries_csv): a point for a state too small for the 1:110m world map")


def _emit_points(g, states: dict[str, StateRecord], settings: Settings) -> int:
    """schema:latitude / schema:longitude of the states seeds/states/map-points.csv lists (the map draws them as
    dots); the file's ISO2 must be the state's."""
    path = settings.seeds / "states" / "map-points.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(enumerate(csv.DictReader(f), start=2))
    for line, row in rows:
        iso3 = row["iso3"]
        if iso3 not in states:
            raise statehood.StatehoodError(f"{iso3!r} is not in the reference set of states", path, line, "iso3")
        if states[iso3].iso2 != row["iso2"]:
            raise statehood.StatehoodError(f"{row['iso2']!r} is not the ISO2 code of {iso3}", path, line, "iso2")
        try:
            lat, lon = float(row["latitude"]), float(row["longitude"])
        except ValueError:
            raise statehood.StatehoodError("not a number", path, line, "latitude/longitude") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise statehood.StatehoodError("out of range", path, line, "latitude/longitude")
        node = settings.ns.state(iso3)
        g.add((node, URIRef(SCHEMA + "latitude"), Literal(row["latitude"], datatype=XSD.decimal)))
        g.add((node, URIRef(SCHEMA + "longitude"), Literal(row["longitude"], datatype=XSD.decimal)))
        g.add((node, DCTERMS.source, Literal(f"map point: {POINTS_SOURCE}")))
    return len(rows)
