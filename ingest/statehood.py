"""Statehood: the periods in which each state of the reference set existed, from a named authority.

seeds/states/cow-states2016.csv is the Correlates of War "State System Membership List, v2016", copied as it
stands; seeds/states/statehood.yaml maps its states to the ISO 3166 codes of the reference set (ISO 3166-3 for
former states), divides the COW members that ISO codes divide (Yugoslavia / Serbia and Montenegro / Serbia, the
USSR / Russia) at dated points whose authority it names, says in which participant row the depositary prints a
state's treaty actions, and which states succeeded which.

`periods()` gives one Period per (state, interval); `emit` adds them to the graph `reference` as
mdkg:StatehoodPeriod nodes (mdkg:startDate, mdkg:endDate, mdkg:actionsRecordedUnder, mdkg:recordHeld) linked from
the state by mdkg:statehood, and mdkg:successor links between states. The gap queries (queries/*.rq) list a state
on a date only if one of its periods holds the date."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rdflib import DCTERMS, RDF, RDFS, XSD, Dataset, Literal, URIRef

from ingest.errors import SeedError
from ingest.yamlio import Located, load_yaml
from mdkg.settings import PROV, Settings

COW_COLUMNS = ["stateabb", "ccode", "statenme", "styear", "stmonth", "stday", "endyear", "endmonth", "endday",
               "version"]
COW_TITLE = "Correlates of War Project, State System Membership List, v2016"
COW_PAGE = "https://correlatesofwar.org/data-sets/state-system-membership/"
FROM_FIRST_ACTION = "first recorded treaty action"


class StatehoodError(SeedError):
    """A defect in seeds/states/: names the file, the line and the field."""


@dataclass(frozen=True)
class CowRow:
    abb: str
    ccode: int
    name: str
    start: dt.date
    end: dt.date
    line: int


@dataclass(frozen=True)
class Period:
    iso3: str
    start: dt.date
    end: dt.date | None  # None: open (still a state when the list was made)
    authority: str
    cow: str | None  # "ABB ccode name" of the COW row, for display
    actions_under: str | None = None  # ISO3 of the participant row holding this state's actions
    record_held: bool = True
    basis: str | None = None  # authority of a start date that is not the COW row's own
    note: str | None = None

    def holds(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Succession:
    predecessor: str
    successors: tuple[str, ...]
    basis: str


def folder(settings: Settings) -> Path:
    return settings.seeds / "states"


def _date(text: str, path: Path, line: int, column: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        raise StatehoodError(f"bad date {text!r}: expected YYYY-MM-DD", path, line, column) from None


def read_cow(path: Path) -> list[CowRow]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != COW_COLUMNS:
            raise StatehoodError(f"header must be {','.join(COW_COLUMNS)}", path, 1, "header")
        rows = []
        for line, row in enumerate(reader, start=2):
            try:
                start = dt.date(int(row["styear"]), int(row["stmonth"]), int(row["stday"]))
                end = dt.date(int(row["endyear"]), int(row["endmonth"]), int(row["endday"]))
            except (TypeError, ValueError) as e:
                raise StatehoodError(f"bad date: {e}", path, line, "styear..endday") from None
            if end < start:
                raise StatehoodError("ends before it starts", path, line, "endyear")
            rows.append(CowRow(row["stateabb"], int(row["ccode"]), row["statenme"], start, end, line))
    return rows


@cache
def config(path: Path) -> Located:
    data = load_yaml(path)
    if not isinstance(data, Located):
        raise StatehoodError("expected a mapping", path, 1)
    for key in ("definition", "open_end", "iso3", "no_iso_code", "splits", "successors", "from_first_action"):
        if key not in data:
            raise StatehoodError(f"missing {key!r}", path, 1, key)
    return data


def definition(settings: Settings) -> str:
    return " ".join(str(config(folder(settings) / "statehood.yaml")["definition"]).split())


def _iso3_of(row: CowRow, overrides: dict, known: frozenset[str], name_patterns: tuple) -> str | None:
    if row.abb in overrides:
        return overrides[row.abb]
    matches = [iso3 for iso3, pattern in name_patterns if iso3 in known and pattern.search(row.name)]
    return matches[0] if len(matches) == 1 else None


@cache
def cow_periods(root: Path, known: frozenset[str], name_patterns: tuple) -> tuple[Period, ...]:
    """The periods given by the COW list, mapped to ISO3 (without the from-first-action states).
    `name_patterns`: (ISO3, compiled name regex) pairs, country_converter's, for the COW names."""
    cfg_path = root / "statehood.yaml"
    cfg = config(cfg_path)
    rows = read_cow(root / "cow-states2016.csv")
    open_end = _date(cfg["open_end"], cfg_path, cfg.line_of("open_end"), "open_end")
    overrides = {str(k): str(v) for k, v in cfg["iso3"].items()}
    no_iso = {str(x) for x in cfg["no_iso_code"]}
    splits = cfg["splits"]
    record_none = {str(x) for x in (cfg.get("record_none") or [])}
    out: list[Period] = []
    for row in rows:
        if row.abb in no_iso:
            continue
        cow = f"{row.abb} {row.ccode} {row.name}"
        end = None if row.end == open_end else row.end
        if row.abb in splits:
            parts = splits[row.abb]
            starts = [_date(p.get("from"), cfg_path, parts.line_of(i), "from") if p.get("from") else None
                      for i, p in enumerate(parts)]
            for i, part in enumerate(parts):
                p_start = starts[i] or dt.date.min
                p_end = starts[i + 1] - dt.timedelta(days=1) if i + 1 < len(parts) else None
                s = max(row.start, p_start)
                e = end if p_end is None else (p_end if end is None else min(end, p_end))
                if e is not None and e < s:
                    continue
                iso3 = str(part["iso3"])
                if iso3 not in known:
                    raise StatehoodError(f"{iso3} is not in the reference set of states", cfg_path,
                                         parts.line_of(i), "iso3")
                out.append(Period(iso3, s, e, COW_TITLE, cow, part.get("actions_under"),
                                  part.get("record") != "none",
                                  part.get("basis") if starts[i] and s == starts[i] else None,
                                  part.get("note")))
            continue
        iso3 = _iso3_of(row, overrides, known, name_patterns)
        if iso3 is None:
            raise StatehoodError(f"COW state {row.abb} {row.name!r} has no ISO3 in the reference set: map it "
                                 f"under iso3 or list it under no_iso_code in {cfg_path.name}",
                                 root / "cow-states2016.csv", row.line, "stateabb")
        out.append(Period(iso3, row.start, end, COW_TITLE, cow, None, iso3 not in record_none))
    return tuple(_merge(out))


def _merge(periods: list[Period]) -> list[Period]:
    """Adjacent periods of one state with the same record (e.g. the German Federal Republic ending 1990-10-02
    and Germany starting 1990-10-03, both DEU) become one."""
    periods = sorted(periods, key=lambda p: (p.iso3, p.start))
    out: list[Period] = []
    for p in periods:
        last = out[-1] if out else None
        if (last and last.iso3 == p.iso3 and last.end is not None and last.end + dt.timedelta(days=1) == p.start
                and last.actions_under == p.actions_under and last.record_held == p.record_held):
            out[-1] = Period(p.iso3, last.start, p.end, last.authority, f"{last.cow}; {p.cow}", p.actions_under,
                             p.record_held, last.basis, last.note)
        else:
            out.append(p)
    return out


def periods(known: set[str], name_patterns: tuple, first_actions: dict[str, dt.date],
            settings: Settings) -> dict[str, list[Period]]:
    """ISO3 -> its periods of statehood, for every state in `known` that has any; `first_actions` gives the
    first recorded treaty action of each state (for the states COW does not list)."""
    root = folder(settings)
    cfg = config(root / "statehood.yaml")
    out: dict[str, list[Period]] = {}
    for p in cow_periods(root, frozenset(known), name_patterns):
        out.setdefault(p.iso3, []).append(p)
    for iso3 in cfg["from_first_action"]:
        iso3 = str(iso3)
        if iso3 in out:
            raise StatehoodError(f"{iso3} is in the COW list; remove it from from_first_action",
                                 root / "statehood.yaml", cfg.line_of("from_first_action"), "from_first_action")
        if iso3 in first_actions:
            out[iso3] = [Period(iso3, first_actions[iso3], None, FROM_FIRST_ACTION, None,
                                note="not in the COW list: counted as a state from its first recorded treaty "
                                     "action (a participant in the depositary's table)")]
    return out


def former_codes(settings: Settings) -> set[str]:
    """The ISO 3166-3 codes statehood.yaml brings into the reference set."""
    cfg = config(folder(settings) / "statehood.yaml")
    codes = {str(v) for v in cfg["iso3"].values()} | {str(p["iso3"]) for parts in cfg["splits"].values()
                                                        for p in parts}
    return codes | {str(k) for k in cfg["successors"]}


def successions(settings: Settings) -> list[Succession]:
    cfg = config(folder(settings) / "statehood.yaml")
    return [Succession(str(k), tuple(str(s) for s in v["states"]), " ".join(str(v["basis"]).split()))
            for k, v in cfg["successors"].items()]


def former_names(settings: Settings) -> dict[str, str]:
    cfg = config(folder(settings) / "statehood.yaml")
    return {str(k): str(v) for k, v in (cfg.get("names") or {}).items()}


def emit(ds: Dataset, states: dict, name_patterns: tuple, first_actions: dict[str, dt.date],
         settings: Settings) -> dict[str, int]:
    """mdkg:statehood periods and mdkg:successor links in the graph `reference`; `states`: ISO3 -> record with
    `.name` (ingest/states.py)."""
    ns = settings.ns
    M = ns.MDKG
    g = ds.graph(ns.graph("reference"))
    by_state = periods(set(states), name_patterns, first_actions, settings)
    cow_page = URIRef(COW_PAGE)
    counts = {"statehood_periods": 0, "states_with_statehood": len(by_state),
              "states_without_statehood": len(set(states) - set(by_state))}
    for iso3, ps in sorted(by_state.items()):
        node = ns.state(iso3)
        for p in ps:
            period = ns.ID[f"statehood/{iso3}/{p.start.isoformat()}"]
            g.add((node, M.statehood, period))
            g.add((period, RDF.type, M.StatehoodPeriod))
            g.add((period, M.startDate, Literal(p.start.isoformat(), datatype=XSD.date)))
            if p.end:
                g.add((period, M.endDate, Literal(p.end.isoformat(), datatype=XSD.date)))
            label = f"{states[iso3].name}, {p.start.isoformat()} to {p.end.isoformat() if p.end else 'now'}"
            g.add((period, RDFS.label, Literal(label, lang="en")))
            g.add((period, M.recordHeld, Literal(p.record_held)))
            if p.actions_under:
                g.add((period, M.actionsRecordedUnder, ns.state(p.actions_under)))
            source = p.authority + (f" ({p.cow})" if p.cow else "")
            g.add((period, DCTERMS.source, Literal(source)))
            if p.authority == COW_TITLE:
                g.add((period, PROV.wasDerivedFrom, cow_page))
            if p.basis:
                g.add((period, DCTERMS.source, Literal(f"start date: {p.basis}")))
            if p.note:
                g.add((period, RDFS.comment, Literal(p.note, lang="en")))
            counts["statehood_periods"] += 1
    for s in successions(settings):
        for succ in s.successors:
            g.add((ns.state(s.predecessor), M.successor, ns.state(succ)))
        g.add((ns.state(s.predecessor), M.successionNote, Literal(s.basis, lang="en")))
    return counts
