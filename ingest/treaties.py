"""The treaty record: instruments' treaty facts (seeds/treaties/instruments.yaml) and one mdkg:TreatyAction
per row of the action files (seeds/treaties/*.csv, read as they stand; seeds/treaties/mapping.yaml says how).

Everything goes into the named graph `{base}graph/treaties`:

- per instrument: mdkg:adoptionDate, mdkg:entryIntoForce, mdkg:depositary, mdkg:untcReference,
  mdkg:recordCoverage ("complete" | "partial" | "none"), mdkg:recordStatusDate / mdkg:recordSnapshotDate,
  mdkg:recordPage; each fact's authority on a reified statement `{base}id/treaty-fact/{instrument}/{property}`
  (rdf:Statement with dcterms:source, mdkg:quote, prov:wasDerivedFrom);
- per action: `{base}id/action/{instrument-id}/{ISO3}/{kind}/{date}` with mdkg:state (or
  mdkg:nonStateParticipant for the EU), mdkg:instrument, mdkg:actionKind, mdkg:actionDate, mdkg:rawCell,
  dcterms:source, prov:wasDerivedFrom (the authority's page)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from rdflib import DCTERMS, RDF, RDFS, SKOS, XSD, Dataset, Literal, URIRef

from ingest.errors import SeedError
from ingest.links import public_source
from ingest.states import StateRecord, reference_states
from ingest.yamlio import Located, load_yaml
from mdkg.settings import PROV, Settings

COLUMNS = ["instrument", "state_name", "iso3", "action", "date", "source", "untc_ref", "raw_cell"]
COVERAGES = {"complete", "partial", "none"}
INSTRUMENT_FIELDS = {"title", "untc_reference", "adoption_date", "entry_into_force", "depositary", "record"}
FACT_FIELDS = {"value", "authority", "quote", "quoted_from", "note"}
RECORD_FIELDS = {"coverage", "status_date", "snapshot_date", "page", "authority", "parties_stated", "quote",
                 "quoted_from", "note"}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class TreatyDataError(SeedError):
    """A defect in the treaty files: names the file, the line and the field."""


@dataclass(frozen=True)
class Fact:
    value: str
    authority: str
    quote: tuple[str, ...] = ()
    quoted_from: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Record:
    coverage: str
    authority: str
    status_date: str | None = None
    snapshot_date: str | None = None
    page: str | None = None
    parties_stated: int | None = None
    quote: tuple[str, ...] = ()
    quoted_from: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Instrument:
    id: str
    title: str
    untc_reference: str | None
    adoption_date: Fact
    entry_into_force: Fact
    depositary: Fact
    record: Record


@dataclass(frozen=True)
class Action:
    instrument: str  # registry id
    participant: str  # ISO3 for a state, registry id for a non-state participant
    is_state: bool
    kind: str  # action-kind slug
    date: dt.date
    state_name: str
    source: str
    raw_cell: str
    file: Path
    line: int

    @property
    def consent(self) -> bool:
        return self.kind in consent_kinds(self.file.parent)


@dataclass
class TreatyData:
    instruments: dict[str, Instrument]
    actions: list[Action]
    mapping: dict
    non_state: Counter = field(default_factory=Counter)


def treaty_folder(settings: Settings) -> Path:
    return settings.seeds / "treaties"


@cache
def _mapping(folder: Path) -> dict:
    path = folder / "mapping.yaml"
    data = load_yaml(path)
    _check_mapping(data, path)
    return data


def _check_mapping(data: object, path: Path) -> None:
    """mapping.yaml has the shape read_actions and emit rely on; TreatyDataError (file, line, field) if not."""
    if not isinstance(data, Located):
        raise TreatyDataError("expected a mapping: action_files, instruments, sources, actions", path, 1)

    def fail(message: str, where: Located, key: object) -> TreatyDataError:
        return TreatyDataError(message, path, where.line_of(key), str(key))

    def strings(where: Located, key: str) -> None:
        value = where.get(key)
        if not isinstance(value, Located) or not all(isinstance(v, str) and v.strip() for v in value.values()):
            raise fail("expected a mapping of names to non-empty strings", where, key)

    files = data.get("action_files")
    if not isinstance(files, list) or not all(isinstance(f, str) and f.strip() for f in files):
        raise fail("expected a list of file names", data, "action_files")
    strings(data, "instruments")
    if data.get("non_state_participants") is not None:
        strings(data, "non_state_participants")
    for key, required in (("sources", "authority"), ("actions", "slug")):
        table = data.get(key)
        if not isinstance(table, Located):
            raise fail("expected a mapping", data, key)
        for name, spec in table.items():
            if not isinstance(spec, Located) or not isinstance(spec.get(required), str) or not spec[required]:
                raise fail(f"expected a mapping with a non-empty `{required}`", table, name)
            for optional in ("page", "via"):
                if spec.get(optional) is not None and not isinstance(spec[optional], str):
                    raise fail("expected a string", spec, optional)


def consent_kinds(folder: Path) -> frozenset[str]:
    """Slugs of the action kinds that make a participant a party (mapping.yaml, `consent: true`)."""
    actions = _mapping(folder)["actions"]
    return frozenset(spec["slug"] for spec in actions.values() if spec.get("consent"))


# -- instruments.yaml ------------------------------------------------------------------------------------
def _date_text(entry: Located, key: str) -> str:
    value = str(entry.get(key) or "")
    if not _DATE.match(value):
        raise TreatyDataError(f"{value!r} is not a date YYYY-MM-DD", entry.file, entry.line_of(key), key)
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise TreatyDataError(f"{value!r} is not a real date", entry.file, entry.line_of(key), key) from None
    return value


def _optional_strings(entry: Located, keys: tuple[str, ...]) -> None:
    for key in keys:
        if entry.get(key) is not None and (not isinstance(entry[key], str) or not entry[key].strip()):
            raise entry.error("expected a non-empty string", key)


def _quotes(entry: Located) -> tuple[str, ...]:
    q = entry.get("quote")
    if q is None:
        return ()
    if isinstance(q, str):
        return (q,)
    if isinstance(q, list) and all(isinstance(x, str) and x for x in q):
        return tuple(q)
    raise entry.error("a string or a list of strings", "quote")


def _fact(entry: object, where: Located, key: str, is_date: bool) -> Fact:
    if not isinstance(entry, Located):
        raise where.error("expected a mapping {value, authority, quote?, quoted_from?, note?}", key)
    unknown = set(entry) - FACT_FIELDS
    if unknown:
        raise entry.error(f"unknown field; allowed: {sorted(FACT_FIELDS)}", sorted(unknown, key=str)[0])
    if not isinstance(entry.get("authority"), str) or not entry["authority"].strip():
        raise entry.error("required: the authority the fact comes from", "authority")
    if is_date:
        value = _date_text(entry, "value")
    else:
        value = str(entry.get("value") or "")
        if not _SLUG.match(value):
            raise entry.error(f"{value!r} is not a registry id", "value")
    if entry.get("quote") is not None and not entry.get("quoted_from"):
        raise entry.error("a quote needs `quoted_from`", "quoted_from")
    _optional_strings(entry, ("quoted_from", "note"))
    return Fact(value, entry["authority"].strip(), _quotes(entry), entry.get("quoted_from"),
                entry.get("note"))


def _record(entry: object, where: Located) -> Record:
    if not isinstance(entry, Located):
        raise where.error("expected a mapping", "record")
    unknown = set(entry) - RECORD_FIELDS
    if unknown:
        raise entry.error(f"unknown field; allowed: {sorted(RECORD_FIELDS)}", sorted(unknown, key=str)[0])
    coverage = entry.get("coverage")
    if not isinstance(coverage, str) or coverage not in COVERAGES:
        raise entry.error(f"{coverage!r}: one of {sorted(COVERAGES)}", "coverage")
    if not isinstance(entry.get("authority"), str):
        raise entry.error("required: the authority of the record", "authority")
    status_date = _date_text(entry, "status_date") if entry.get("status_date") is not None else None
    snapshot = _date_text(entry, "snapshot_date") if entry.get("snapshot_date") is not None else None
    if coverage == "complete" and not status_date:
        raise entry.error("a complete record needs the status date it is complete at", "status_date")
    if coverage != "complete" and status_date:
        raise entry.error("only a complete record has a status date (use snapshot_date)", "status_date")
    parties = entry.get("parties_stated")
    if parties is not None and (not isinstance(parties, int) or isinstance(parties, bool) or parties < 0):
        raise entry.error("a non-negative integer", "parties_stated")
    _optional_strings(entry, ("page", "quoted_from", "note"))
    return Record(coverage, entry["authority"], status_date, snapshot, entry.get("page"), parties,
                  _quotes(entry), entry.get("quoted_from"), entry.get("note"))


def load_instruments(path: Path) -> dict[str, Instrument]:
    data = load_yaml(path)
    if not isinstance(data, Located):
        raise TreatyDataError("expected a mapping: instrument id -> facts", path, 1)
    out = {}
    for iid, entry in data.items():
        line = data.line_of(iid)
        if not isinstance(iid, str) or not _SLUG.fullmatch(iid):
            raise TreatyDataError(f"{iid!r} is not a registry id", path, line, "id")
        if not isinstance(entry, Located):
            raise TreatyDataError("expected a mapping", path, line, iid)
        unknown = set(entry) - INSTRUMENT_FIELDS
        if unknown:
            raise entry.error(f"unknown field; allowed: {sorted(INSTRUMENT_FIELDS)}", sorted(unknown, key=str)[0])
        for key in ("title", "adoption_date", "entry_into_force", "depositary", "record"):
            if entry.get(key) is None:
                raise entry.error("required", key)
        _optional_strings(entry, ("title", "untc_reference"))
        out[iid] = Instrument(
            id=iid, title=str(entry["title"]).strip(), untc_reference=entry.get("untc_reference"),
            adoption_date=_fact(entry["adoption_date"], entry, "adoption_date", True),
            entry_into_force=_fact(entry["entry_into_force"], entry, "entry_into_force", True),
            depositary=_fact(entry["depositary"], entry, "depositary", False),
            record=_record(entry["record"], entry),
        )
    return out


# -- action files ----------------------------------------------------------------------------------------
def read_actions(folder: Path, instruments: dict[str, Instrument],
                 states: dict[str, StateRecord]) -> tuple[list[Action], Counter]:
    mapping = _mapping(folder)
    mapping_file = folder / "mapping.yaml"
    codes: dict[str, str] = dict(mapping["instruments"])
    for code, iid in codes.items():
        if iid not in instruments:
            raise TreatyDataError(f"{code} maps to {iid!r}, which is not in instruments.yaml", mapping_file,
                                  mapping["instruments"].line_of(code), "instruments")
    kinds = {name: spec["slug"] for name, spec in mapping["actions"].items()}
    sources = mapping["sources"]
    non_state = dict(mapping.get("non_state_participants") or {})
    actions: list[Action] = []
    seen: dict[tuple, tuple[Path, int]] = {}
    non_state_rows: Counter = Counter()
    today = dt.date.today()
    for name in mapping["action_files"]:
        path = folder / name
        if not path.exists():
            raise TreatyDataError("action file listed in mapping.yaml is missing", path)
        fieldnames, rows = _read_csv(path)
        if fieldnames != COLUMNS:
            raise TreatyDataError(f"header must be {','.join(COLUMNS)}; found {fieldnames}", path, 1,
                                  "header")
        for line, row in rows:
            def err(message: str, column: str, _path: Path = path, _line: int = line) -> TreatyDataError:
                return TreatyDataError(message, _path, _line, column)

            if None in row or any(v is None for v in row.values()):
                raise err(f"expected {len(COLUMNS)} columns", "row")
            code = row["instrument"].strip()
            if code not in codes:
                raise err(f"unknown instrument {code!r}; known: {', '.join(sorted(codes))} "
                          f"(seeds/treaties/mapping.yaml)", "instrument")
            iid = codes[code]
            instrument = instruments[iid]
            if row["action"] not in kinds:
                raise err(f"unknown action {row['action']!r}; one of {', '.join(kinds)}", "action")
            try:
                if not _DATE.match(row["date"]):
                    raise ValueError
                date = dt.date.fromisoformat(row["date"])
            except ValueError:
                raise err(f"bad date {row['date']!r}: expected a real date YYYY-MM-DD", "date") from None
            if date > today:
                raise err(f"date {row['date']} is in the future", "date")
            if row["source"] not in sources:
                raise err(f"unknown source {row['source']!r}; known: {', '.join(sources)}", "source")
            ref = row["untc_ref"].strip()
            if ref and ref != instrument.untc_reference:
                raise err(f"UNTC reference {ref!r} differs from {iid}'s {instrument.untc_reference!r} "
                          f"(instruments.yaml)", "untc_ref")
            iso3 = row["iso3"].strip()
            if iso3:
                if iso3 not in states:
                    raise err(f"unknown ISO3 {iso3!r} (state {row['state_name']!r}): not in the "
                              f"reference set of states (ingest/states.yaml, ingest/states.py)", "iso3")
                participant, is_state = iso3, True
            else:
                participant = non_state.get(row["state_name"].strip())
                if not participant:
                    raise err(f"no ISO3 for {row['state_name']!r} and it is not a non-state participant "
                              f"listed in mapping.yaml", "iso3")
                is_state = False
                non_state_rows[participant] += 1
            action = Action(iid, participant, is_state, kinds[row["action"]], date,
                            row["state_name"].strip(), row["source"], row["raw_cell"], path, line)
            key = (iid, participant, action.kind, date)
            if key in seen:
                first = seen[key]
                raise err(f"duplicate action (first at {first[0].name}:{first[1]})", "row")
            seen[key] = (path, line)
            actions.append(action)
    return actions, non_state_rows


def check_readable(folder: Path) -> None:
    """Every CSV file in the folder is UTF-8 and CSV, else TreatyDataError (file, line). ingest/states.py reads
    them all (for the codes of former states) before the action files are checked row by row."""
    for path in sorted(folder.glob("*.csv")):
        _read_csv(path)


def _read_csv(path: Path) -> tuple[list[str] | None, list[tuple[int, dict]]]:
    """The header and the (line, row) pairs of an action file; TreatyDataError (file, line) if it is not UTF-8
    or not CSV. A UTF-8 byte order mark (as spreadsheet programs write it) is dropped."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        raise TreatyDataError(f"not valid UTF-8 (byte {e.start}: {data[e.start:e.start + 1]!r})", path,
                              data.count(b"\n", 0, e.start) + 1, "row") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return reader.fieldnames, [(reader.line_num, row) for row in reader]
    except csv.Error as e:
        raise TreatyDataError(f"not readable as CSV: {e}", path, max(reader.line_num, 1), "row") from None


def load(settings: Settings) -> TreatyData:
    folder = treaty_folder(settings)
    instruments = load_instruments(folder / "instruments.yaml")
    actions, non_state = read_actions(folder, instruments, reference_states(settings))
    return TreatyData(instruments, actions, _mapping(folder), non_state)


# -- RDF -------------------------------------------------------------------------------------------------
def action_iri(settings: Settings, a: Action) -> URIRef:
    return settings.ns.ID[f"action/{a.instrument}/{a.participant}/{a.kind}/{a.date.isoformat()}"]


def emit(ds: Dataset, settings: Settings) -> dict[str, int]:
    """Add the treaty record to the named graph `treaties`; returns counts for the build report."""
    data = load(settings)
    ns = settings.ns
    M = ns.MDKG
    g = ds.graph(ns.graph("treaties"))
    counts: Counter = Counter()
    states = reference_states(settings)
    for inst in data.instruments.values():
        node = ns.entity(inst.id)
        if not any(True for _ in ds.quads((node, RDF.type, None, None))):
            g.add((node, RDF.type, M.Convention))
            g.add((node, RDF.type, M.Instrument))
            g.add((node, RDFS.label, Literal(inst.title, lang="en")))
            counts["instrument_types_added"] += 1
        g.add((node, DCTERMS.title, Literal(inst.title, lang="en")))
        _fact_triples(g, settings, node, M.adoptionDate, inst.adoption_date,
                      Literal(inst.adoption_date.value, datatype=XSD.date))
        _fact_triples(g, settings, node, M.entryIntoForce, inst.entry_into_force,
                      Literal(inst.entry_into_force.value, datatype=XSD.date))
        _fact_triples(g, settings, node, M.depositary, inst.depositary, ns.entity(inst.depositary.value))
        if inst.untc_reference:
            g.add((node, M.untcReference, Literal(inst.untc_reference)))
        rec = inst.record
        g.add((node, M.recordCoverage, Literal(rec.coverage)))
        g.add((node, M.recordAuthority, Literal(rec.authority)))
        if rec.status_date:
            g.add((node, M.recordStatusDate, Literal(rec.status_date, datatype=XSD.date)))
        if rec.snapshot_date:
            g.add((node, M.recordSnapshotDate, Literal(rec.snapshot_date, datatype=XSD.date)))
        if rec.page:
            g.add((node, M.recordPage, URIRef(rec.page)))
        if rec.note:
            g.add((node, M.recordNote, Literal(" ".join(rec.note.split()), lang="en")))
        counts["instruments"] += 1
    labels = {iid: _short(inst) for iid, inst in data.instruments.items()}
    for a in data.actions:
        node = action_iri(settings, a)
        inst = data.instruments[a.instrument]
        source = data.mapping["sources"][a.source]
        g.add((node, RDF.type, M.TreatyAction))
        participant = ns.state(a.participant) if a.is_state else ns.entity(a.participant)
        g.add((node, M.state if a.is_state else M.nonStateParticipant, participant))
        g.add((node, M.instrument, ns.entity(a.instrument)))
        g.add((node, M.actionKind, ns.ID[f"action-kind/{a.kind}"]))
        g.add((node, M.actionDate, Literal(a.date.isoformat(), datatype=XSD.date)))
        g.add((node, M.rawCell, Literal(a.raw_cell)))
        name = states[a.participant].name if a.is_state else a.state_name
        printed = "" if a.state_name == name else f" (as printed: {a.state_name})"
        kind = a.kind.replace("-", " ")
        g.add((node, RDFS.label, Literal(
            f"{name}{printed}: {kind}, {labels[a.instrument]}, {a.date.isoformat()}", lang="en")))
        authority = source["authority"].replace("{ref}", inst.untc_reference or "")
        g.add((node, DCTERMS.source, Literal(authority)))
        page = source.get("page") or inst.record.page
        if page:
            g.add((node, PROV.wasDerivedFrom, URIRef(page)))
        counts["actions"] += 1
        counts[f"actions:{a.instrument}"] += 1
        if not a.is_state:
            counts["non_state_actions"] += 1
    for slug in sorted({spec["slug"] for spec in data.mapping["actions"].values()}):
        concept = ns.ID[f"action-kind/{slug}"]
        if not any(True for _ in ds.quads((concept, RDF.type, None, None))):
            g.add((concept, RDF.type, SKOS.Concept))
            g.add((concept, SKOS.prefLabel, Literal(slug.replace("-", " "), lang="en")))
            counts["action_kinds_added"] += 1
    return dict(counts)


def _short(inst: Instrument) -> str:
    m = re.search(r"\(No\. (\d+)\)", inst.title)
    return f"ILO C{m.group(1)}" if m else inst.id.upper() if len(inst.id) <= 6 else inst.title


def _fact_triples(g, settings: Settings, node: URIRef, prop: URIRef, fact: Fact, obj) -> None:
    g.add((node, prop, obj))
    local = str(prop).rsplit("#", 1)[-1]
    stmt = settings.ns.ID[f"treaty-fact/{str(node).rsplit('/', 1)[-1]}/{local}"]
    g.add((stmt, RDF.type, RDF.Statement))
    g.add((stmt, RDF.subject, node))
    g.add((stmt, RDF.predicate, prop))
    g.add((stmt, RDF.object, obj))
    g.add((stmt, DCTERMS.source, Literal(fact.authority)))
    for q in fact.quote:
        g.add((stmt, settings.ns.MDKG.quote, Literal(q)))
    public = fact.quoted_from if (fact.quoted_from or "").startswith("http") else (
        fact.quoted_from and public_source(fact.quoted_from, settings.seeds / "links"))
    if public:  # a working copy's local path never reaches the graph (seeds/links/public-sources.csv)
        g.add((stmt, PROV.wasDerivedFrom, URIRef(public)))
    if fact.note:
        g.add((stmt, RDFS.comment, Literal(" ".join(fact.note.split()), lang="en")))
