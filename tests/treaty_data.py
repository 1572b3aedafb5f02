"""Shared by tests/test_states.py, test_treaties.py and test_gaps.py: the real treaty data built into an
rdflib Dataset and a pyoxigraph store, a small fixture of curated relations (claims, corridors, partnerships)
where the seed assertions are not there yet, and an independent reading of the source CSV files with the csv
module."""

from __future__ import annotations

import csv
import datetime as dt
import sys
from collections import defaultdict
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the tests run from a checkout, with or without `pip install -e .`
    sys.path.insert(0, str(ROOT))

import pyoxigraph as ox  # noqa: E402
import yaml  # noqa: E402
from rdflib import Dataset  # noqa: E402

from ingest import states, treaties  # noqa: E402
from mdkg.settings import Settings  # noqa: E402

SETTINGS = Settings()  # plain defaults: this checkout's seeds and queries, the default base IRI

TREATIES = ROOT / "seeds" / "treaties"
SHARED = ROOT.parent / "shared" / "data" / "ratifications"
CONSENT = {"ratification", "accession", "succession", "acceptance", "approval", "formal_confirmation"}
SIGNATURE = {"signature", "succession_to_signature"}

# Curated relations the seed assertions will provide; written here so that the claim-check and scope queries
# are tested now. Claims quote the seed documents; the dates marked "fixture" are chosen for the test.
FIXTURE = """
@prefix mdkg: <https://w3id.org/mdkg/ontology#> .
@prefix id:   <https://w3id.org/mdkg/id/> .
@prefix st:   <https://w3id.org/mdkg/id/state/> .
@prefix xsd:  <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .

id:claim-sc-33 a mdkg:RatificationClaim ;
    mdkg:instrument id:icrmw ; mdkg:asOf "2005-10-01"^^xsd:date ; mdkg:claimedPartyCount 33 ;
    mdkg:quote "By 1 October 2005, 33 States had ratified it or acceded to it." ;
    dcterms:source <https://w3id.org/mdkg/id/doc/south-centre-2006> .

id:claim-34 a mdkg:RatificationClaim ;
    mdkg:instrument id:icrmw ; mdkg:asOf "2005-10-01"^^xsd:date ; mdkg:claimedPartyCount 34 ;
    mdkg:quote "34 parties by 1 October 2005" .

id:claim-bellagio a mdkg:RatificationClaim ;
    mdkg:instrument id:icrmw ; mdkg:asOf "2006"^^xsd:gYear ;   # as curated (seeds/curation/bakewell-bellagio)
    mdkg:claimedParty st:MEX, st:TUR, st:PHL, st:MAR ; mdkg:claimedNonParty st:IND ;
    mdkg:quote "With the exception of India, the countries represented at the workshop have ratified the \
1990 International Convention on the Protection of the Rights of All Migrant Workers and Members of Their \
Families." .

id:claim-wrong a mdkg:RatificationClaim ;
    mdkg:instrument id:icrmw ; mdkg:asOf "2000-01-01"^^xsd:date ;   # fixture: deliberately wrong claims
    mdkg:claimedParty st:TUR ; mdkg:claimedNonParty st:PHL .

id:claim-year a mdkg:RatificationClaim ;
    mdkg:instrument id:icrmw ; mdkg:asOf "2005"^^xsd:gYear ; mdkg:claimedPartyCount 33 .

id:claim-c97 a mdkg:RatificationClaim ;
    mdkg:instrument id:ilo-c97 ; mdkg:asOf "2010-01-01"^^xsd:date ;   # fixture
    mdkg:claimedPartyCount 49 ; mdkg:claimedParty st:ITA, st:NLD ; mdkg:claimedNonParty st:FRA .

id:corridor-mex-usa a mdkg:MigrationCorridor ; mdkg:origin st:MEX ; mdkg:destination st:USA .
id:corridor-phl-jpn a mdkg:MigrationCorridor ; mdkg:origin st:PHL ; mdkg:destination st:JPN .
id:partnership-active a mdkg:Partnership ; mdkg:partner st:NLD, st:GHA, id:iom ;
    mdkg:startDate "2004"^^xsd:gYear .
id:partnership-ended a mdkg:Partnership ; mdkg:partner st:ITA, st:SEN ;
    mdkg:endDate "2003-06"^^xsd:gYearMonth .
id:partnership-later a mdkg:Partnership ; mdkg:partner st:ESP, st:SEN ;
    mdkg:startDate "2007-01-15"^^xsd:date .
"""


@cache
def dataset(with_fixture: bool = True) -> Dataset:
    ds = Dataset()
    states.emit(ds, SETTINGS)
    treaties.emit(ds, SETTINGS)
    if with_fixture:
        ds.graph(SETTINGS.ns.graph("doc/test-fixture")).parse(data=FIXTURE, format="turtle")
    return ds


@cache
def nquads(with_fixture: bool = True) -> str:
    return dataset(with_fixture).serialize(format="nquads")


def store(with_fixture: bool = True) -> ox.Store:
    s = ox.Store()
    s.load(nquads(with_fixture), format=ox.RdfFormat.N_QUADS)
    return s


@cache
def code_to_id() -> dict[str, str]:
    return yaml.safe_load((TREATIES / "mapping.yaml").read_text(encoding="utf-8"))["instruments"]


@cache
def source_rows() -> list[dict[str, str]]:
    rows = []
    for name in ("ratifications.csv", "ilo-normlex.csv", "ilo-government-databases.csv"):
        with (TREATIES / name).open(encoding="utf-8", newline="") as f:
            rows.extend(csv.DictReader(f))
    return rows


@cache
def actions_by_participant() -> dict[tuple[str, str], list[tuple[str, dt.date]]]:
    """(instrument id, ISO3 or participant name) -> [(action, date)] straight from the CSV files."""
    out: dict[tuple[str, str], list[tuple[str, dt.date]]] = defaultdict(list)
    for r in source_rows():
        out[(code_to_id()[r["instrument"]], r["iso3"] or r["state_name"])].append(
            (r["action"], dt.date.fromisoformat(r["date"])))
    return dict(out)


def expected_status(actions: list[tuple[str, dt.date]], on: dt.date) -> str:
    consent = max((d for a, d in actions if a in CONSENT and d <= on), default=None)
    denounced = max((d for a, d in actions if a == "denunciation" and d <= on), default=None)
    signed = any(a in SIGNATURE and d <= on for a, d in actions)
    if consent and (denounced is None or denounced < consent):
        return "party"
    if denounced:
        return "denounced"
    return "signatory" if signed else "no-action"


def expected_parties(instrument: str, on: dt.date, states_only: bool = True) -> set[str]:
    return {who for (iid, who), acts in actions_by_participant().items()
            if iid == instrument and (not states_only or len(who) == 3 and who.isupper())
            and expected_status(acts, on) == "party"}


def claim_period(as_of: object) -> tuple[dt.date, dt.date]:
    """The days a claim's date covers: an xsd:date is one day, "2005" a year, "2006-09" a month."""
    if isinstance(as_of, dt.date):
        return as_of, as_of
    text = str(as_of)
    if len(text) == 4:
        return dt.date(int(text), 1, 1), dt.date(int(text), 12, 31)
    year, month = int(text[:4]), int(text[5:7])
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return dt.date(year, month, 1), following - dt.timedelta(days=1)


def counts_during(instrument: str, start: dt.date, end: dt.date) -> list[int]:
    """Number of state parties at the start of the period and after each action day in it (CSV reading)."""
    days = sorted({d for (iid, _), acts in actions_by_participant().items() if iid == instrument
                   for _, d in acts if start <= d <= end} | {start, end})
    return [len(expected_parties(instrument, day)) for day in days]


def statuses_during(instrument: str, iso3: str, start: dt.date, end: dt.date) -> list[str]:
    acts = actions_by_participant().get((instrument, iso3), [])
    days = sorted({d for _, d in acts if start <= d <= end} | {start, end})
    return [expected_status(acts, day) for day in days]


# -- statehood: which states existed on a date, read from ingest/statehood.py (the SPARQL must agree) ----------
@cache
def statehood_periods() -> dict:
    from ingest import statehood

    return statehood.periods(set(states.reference_states(settings=SETTINGS)), states.name_patterns(),
                             states._first_actions(TREATIES), settings=SETTINGS)


def states_on(on: dt.date) -> dict:
    """ISO3 -> the statehood period that holds `on`."""
    return {iso3: p for iso3, ps in statehood_periods().items() for p in ps if p.holds(on)}


@cache
def coverage() -> dict[str, str]:
    return {iid: inst.record.coverage for iid, inst in treaties.load_instruments(TREATIES / "instruments.yaml").items()}


def expected_state_status(instrument: str, iso3: str, on: dt.date) -> str | None:
    """The status of a state on a date as the queries must give it: None if the state did not exist; the actions
    of the row the depositary prints them in; "no-data" where the record does not say."""
    period = states_on(on).get(iso3)
    if period is None:
        return None
    if not period.record_held:
        return "no-data"
    status = expected_status(actions_by_participant().get((instrument, period.actions_under or iso3), []), on)
    return "no-data" if status == "no-action" and coverage()[instrument] != "complete" else status
