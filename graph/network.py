"""The network views of the field, built from the store by SPARQL (queries/network-*.rq, run as in
graph/gaps.py on a pyoxigraph Store whose default graph is the union of the named graphs), as NetworkX graphs.

Three views, kept apart:

* `stakeholder_network`: the typed, weighted stakeholder network. Nodes are stakeholders; two stakeholders are
  tied by
    - a *direct* tie: a Partnership naming both as partners, a Membership of one in the other (the body is an
      organisation), a Funding of one by the other;
    - a *shared* tie: both are affiliated with the same instrument, programme or process (the "hub"): parties
      to the same Agreement (AgreementParty), implementers of / participants in the same Programme or Process,
      members of the same Process, funders or partners through the same hub.
  Each stakeholder-hub affiliation and each direct tie has a *relation kind*: `partnership`, `agreement`
  (AgreementParty), `programme` (implementation of / participation in an instrument), `forum` (implementation
  of / participation in a process), `membership`, `funding`, and `survey` (answering or conducting a survey,
  mdkg:SurveyResponse: not a working relationship, so it is left out unless asked for by name). A shared
  tie carries the kinds of both affiliations. An edge's `weight` is the sum of its units: 1 per direct
  relationship node, and per shared hub 1/(n-1) where n is the number of stakeholders recorded as
  affiliated with the hub, whatever the filters (`group_sizes`; Newman 2001, "Scientific collaboration
  networks. II", Phys. Rev. E 64, 016132: a group of n adds a total of n/2 to its members' weighted degrees
  whatever n, so a large programme or forum does not swamp direct ties; `projection="count"` counts 1 per
  hub instead). Each unit is multiplied by the largest of
  `kind_weights` over its kinds (default 1). `direct_weight` and `shared_weight` split the weight, and the
  graph attribute `weighting` says the rule (exports carry it). `distance` = 1 / weight (for shortest-path
  measures). Edges also carry `kinds`, `relations` (relationship IRIs), `hubs`,
  `evidence` (passage IRIs), `documents`, and `spells`: the (start, end) periods (ISO dates, None where
  open) when every unit of the edge is dated; an edge with an undated unit has no spells (it holds at any
  time). A direct unit's period is its relationship's; a shared unit's is the overlap of the two
  stakeholders' periods of affiliation with the hub (or, if they were affiliated one after the other, the
  span of both).
* `affiliation_network`: the bipartite stakeholder-instrument/programme/forum graph (node attribute
  `bipartite` 0 for stakeholders, 1 for hubs) and `interlocks` its weighted projection onto the stakeholders
  (each hub shared adds 1/(n-1), as above), which is the stakeholder network without the direct ties.
* `comention_network`: two stakeholders named in the same passage (mdkg:mentions); weight = number of such
  passages. Mention detection is automatic, so this layer is weaker evidence; it is never merged into the
  stakeholder network unless asked (`combine`, with a small factor).

Filters (`Filters`): stakeholder kinds (a node is kept if it has any of the classes: `State`, `Organisation`,
...), relation kinds, source documents (ids or IRIs), themes (slugs: on the relationship or its evidence
passage), date window (`start`/`end`, ISO dates or partial dates). A relationship is outside the window when
it starts after the window's end or ends before its start (partial dates read as the whole period: "2003"
starts 2003-01-01 and ends 2003-12-31); an undated relationship is in every window (as in
queries/gaps-in-scope.rq). For co-mentions the window applies to the document's date.

Node keys are the entity's IRI without `{base}id/` (`iom`, `state/MEX`); nodes carry `iri`, `label`, `kind`
(the most specific class), `kinds` (every class) and, where the registry has one, `short` (an acronym)."""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import networkx as nx
import pyoxigraph as ox

from graph.gaps import load_store, select
from graph.schema import schema
from mdkg.iris import entity_key
from mdkg.settings import Settings

__all__ = [
    "LAYERS",
    "Filters",
    "NetworkData",
    "RELATION_KINDS",
    "build_layer",
    "STAKEHOLDER_KINDS",
    "affiliation_network",
    "combine",
    "comention_network",
    "interlocks",
    "load_network_data",
    "load_store",
    "stakeholder_network",
]

RELATION_KINDS = ("partnership", "agreement", "programme", "forum", "membership", "funding", "survey")
# Answering a survey (mdkg:SurveyResponse) or conducting one is not a working relationship: the `survey` kind is
# in a network only when asked for by name.
OPT_IN_RELATIONS = frozenset({"survey"})
DEFAULT_RELATIONS = frozenset(RELATION_KINDS) - OPT_IN_RELATIONS
PROJECTIONS = ("newman", "count")
WEIGHTING = {
    "newman": "direct relationship = 1; shared group (programme, forum, meeting, agreement) with n members = "
    "1/(n-1) to each pair of its members (Newman 2001, Phys. Rev. E 64, 016132)",
    "count": "direct relationship = 1; shared group = 1 whatever its size (unweighted projection)",
}
STAKEHOLDER_KINDS = schema().stakeholder_kinds
# The generic stakeholder classes a --kinds filter may also name (a node has every superclass in `kinds`).
GENERIC_STAKEHOLDER_KINDS = schema().generic_stakeholder_classes


@dataclass(frozen=True)
class Filters:
    kinds: frozenset[str] | None = None  # stakeholder classes (local names); None: all
    relations: frozenset[str] | None = None  # RELATION_KINDS; None: DEFAULT_RELATIONS (all but surveys)
    documents: frozenset[str] | None = None  # document ids or IRIs; None: all
    themes: frozenset[str] | None = None  # theme slugs or IRIs; None: all
    start: str | None = None  # window start (YYYY, YYYY-MM or YYYY-MM-DD)
    end: str | None = None  # window end

    @classmethod
    def make(
        cls,
        kinds: Iterable[str] | None = None,
        relations: Iterable[str] | None = None,
        documents: Iterable[str] | None = None,
        themes: Iterable[str] | None = None,
        start: str | dt.date | None = None,
        end: str | dt.date | None = None,
    ) -> Filters:
        def fs(values: Iterable[str] | None) -> frozenset[str] | None:
            if values is None:
                return None
            out = frozenset(v.strip() for v in values if v and v.strip())
            return out or None

        rel = fs(relations)
        if rel and not rel <= set(RELATION_KINDS):
            raise ValueError(
                f"unknown relation kind(s) {sorted(rel - set(RELATION_KINDS))}; known: {', '.join(RELATION_KINDS)}"
            )
        kind_set = fs(kinds)
        valid = (*STAKEHOLDER_KINDS, *GENERIC_STAKEHOLDER_KINDS)
        if kind_set and not kind_set <= set(valid):
            raise ValueError(
                f"unknown stakeholder kind(s) {', '.join(sorted(kind_set - set(valid)))}; one of {', '.join(valid)}"
            )
        for d in (start, end):
            if d is not None:
                _bounds(str(d))  # raises ValueError on a bad date
        return cls(
            kind_set,
            rel,
            fs(documents),
            fs(themes),
            None if start is None else str(start),
            None if end is None else str(end),
        )


# -- partial dates --------------------------------------------------------------------------------------
def _bounds(value: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a partial date: '2003' -> (2003-01-01, 2003-12-31)."""
    value = value.strip()
    parts = value.split("-")
    try:
        if len(parts) == 1 and len(value) == 4:
            y = int(value)
            return dt.date(y, 1, 1), dt.date(y, 12, 31)
        if len(parts) == 2:
            y, m = int(parts[0]), int(parts[1])
            return dt.date(y, m, 1), dt.date(y, m, calendar.monthrange(y, m)[1])
        d = dt.date.fromisoformat(value[:10])
        return d, d
    except ValueError:
        raise ValueError(f"not a date: {value!r} (use YYYY, YYYY-MM or YYYY-MM-DD)") from None


def _start(value: object) -> str | None:
    return None if value is None else _bounds(str(value))[0].isoformat()


def _end(value: object) -> str | None:
    return None if value is None else _bounds(str(value))[1].isoformat()


def in_window(start: str | None, end: str | None, filters: Filters) -> bool:
    """A period [start, end] (ISO dates, None = open) overlaps the filter's window."""
    if filters.end is not None and start is not None and start > _end(filters.end):
        return False
    if filters.start is not None and end is not None and end < _start(filters.start):
        return False
    return True


# -- reading the store ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tie:
    rel: str  # relationship IRI
    type: str  # partnership | agreement | implementation | participation | membership | funding
    s: str  # stakeholder key
    o: str  # other end key
    direct: bool


@dataclass(frozen=True)
class Relation:
    iri: str
    start: str | None  # ISO date (first day) or None
    end: str | None  # ISO date (last day) or None
    doc: str | None  # document key (doc/{id})
    doc_date: str | None
    passages: tuple[str, ...]
    themes: frozenset[str]  # theme keys (theme/{slug})


@dataclass
class NetworkData:
    """The rows of the network queries, keyed with short ids; everything the views are built from."""

    settings: Settings
    nodes: dict[str, dict]  # key -> {iri, label, kind, kinds, based_in}
    ties: list[Tie]
    relations: dict[str, Relation]
    mentions: dict[str, dict] = field(default_factory=dict)  # passage -> {doc, doc_date, themes, entities}

    def key(self, iri: str) -> str:
        return entity_key(iri, self.settings)


def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _short(acronyms: str | None, key: str, label: str) -> str | None:
    """The acronym to label a node with in pictures: the one that is the registry id (ids are the English
    acronym where there is one), else one spelt by the capitals of the English name (UNHCR, not ACNUR),
    else the shortest."""
    capitals = "".join(c for c in label if c.isupper())

    def spelt(a: str) -> bool:
        rest = iter(capitals)
        return all(c in rest for c in a.upper())

    forms = [a for a in str(acronyms or "").split() if a]
    forms.sort(key=lambda a: (a.lower() != key, not spelt(a), len(a), a))
    return forms[0] if forms else None


def load_network_data(store: ox.Store, settings: Settings, comentions: bool = True) -> NetworkData:
    """Run the network queries once; the views below filter and assemble their rows."""
    nodes = {}
    for r in select(store, "network-nodes", settings):
        kinds = {_local(c) for c in (r["classes"] or "").split()}
        nodes[entity_key(r["node"], settings)] = {
            "iri": r["node"],
            "label": str(r["label"]) if r["label"] is not None else entity_key(r["node"], settings),
            "kind": schema().most_specific(kinds) or "Thing",
            "kinds": sorted(kinds),
            "stakeholder": "Stakeholder" in kinds,
            "based_in": entity_key(r["basedIn"], settings) if r["basedIn"] else None,
            "short": _short(r["acronyms"], entity_key(r["node"], settings), str(r["label"] or "")),
        }
    ties = [
        Tie(r["rel"], r["type"], entity_key(r["s"], settings), entity_key(r["o"], settings), bool(r["direct"]))
        for r in select(store, "network-ties", settings)
    ]
    relations = {}
    for r in select(store, "network-relations", settings):
        relations[r["rel"]] = Relation(
            iri=r["rel"],
            start=_start(r["start"]),
            end=_end(r["end"]),
            doc=entity_key(r["doc"], settings) if r["doc"] else None,
            doc_date=str(r["docDate"]) if r["docDate"] is not None else None,
            passages=tuple(sorted((r["passages"] or "").split())),
            themes=frozenset(entity_key(t, settings) for t in (r["themes"] or "").split()),
        )
    data = NetworkData(settings, nodes, ties, relations)
    if comentions:
        for r in select(store, "network-comentions", settings):
            p = data.mentions.setdefault(
                r["passage"],
                {
                    "doc": entity_key(r["doc"], settings),
                    "doc_date": str(r["docDate"]) if r["docDate"] is not None else None,
                    "themes": frozenset(entity_key(t, settings) for t in (r["themes"] or "").split()),
                    "entities": set(),
                },
            )
            p["entities"].add(entity_key(r["entity"], settings))
    return data


# -- filters --------------------------------------------------------------------------------------------
def _doc_ok(doc: str | None, filters: Filters) -> bool:
    if filters.documents is None:
        return True
    if doc is None:
        return False
    wanted = {d if d.startswith("doc/") else f"doc/{d.rsplit('/doc/', 1)[-1]}" for d in filters.documents}
    return doc in wanted


def _themes_ok(themes: frozenset[str], filters: Filters) -> bool:
    if filters.themes is None:
        return True
    wanted = {t if t.startswith("theme/") else f"theme/{t.rsplit('/theme/', 1)[-1]}" for t in filters.themes}
    return bool(themes & wanted)


def _node_ok(data: NetworkData, key: str, filters: Filters) -> bool:
    node = data.nodes.get(key)
    if node is None or not node["stakeholder"]:
        return False
    return filters.kinds is None or bool(filters.kinds & set(node["kinds"]))


def relation_ok(rel: Relation | None, filters: Filters) -> bool:
    if rel is None:
        return filters.documents is None and filters.themes is None
    return _doc_ok(rel.doc, filters) and _themes_ok(rel.themes, filters) and in_window(rel.start, rel.end, filters)


def tie_kind(tie: Tie, data: NetworkData) -> str:
    """The relation kind of one tie (see the module docstring)."""
    hub = data.nodes.get(tie.o, {})
    if tie.type == "survey" or "Survey" in hub.get("kinds", ()):
        return "survey"  # answering or conducting a survey
    if tie.type in ("implementation", "participation"):
        return "forum" if "Process" in hub.get("kinds", ()) else "programme"
    return tie.type


@dataclass
class _Affiliation:
    kind: str
    rel: Relation | None
    iri: str


def _selected_ties(data: NetworkData, filters: Filters):
    """(tie, kind, relation) for the ties that pass the relation, document, theme and window filters."""
    wanted = DEFAULT_RELATIONS if filters.relations is None else filters.relations
    for tie in data.ties:
        kind = tie_kind(tie, data)
        if kind not in wanted:
            continue
        rel = data.relations.get(tie.rel)
        if not relation_ok(rel, filters):
            continue
        yield tie, kind, rel


def _add_node(G: nx.Graph, data: NetworkData, key: str, **extra) -> None:
    if key in G:
        return
    node = data.nodes.get(key, {"iri": key, "label": key, "kind": "Thing", "kinds": []})
    if node.get("short"):
        extra = {"short": node["short"], **extra}
    G.add_node(key, iri=node["iri"], label=node["label"], kind=node["kind"], kinds=list(node["kinds"]), **extra)


def _spell(periods: Iterable[tuple[str | None, str | None]]) -> tuple[str | None, str | None] | None:
    """The common period of several (start, end) periods, None if they are all undated or do not overlap."""
    periods = list(periods)
    starts = [s for s, _ in periods if s]
    ends = [e for _, e in periods if e]
    if not starts and not ends:
        return None
    s, e = (max(starts) if starts else None), (min(ends) if ends else None)
    if s and e and s > e:
        return None
    return (s, e)


def _cover(affiliations: list[_Affiliation]) -> tuple[str | None, str | None] | None:
    """When a stakeholder is affiliated with a hub: from its earliest affiliation to its latest; None (at any
    time) if one of them is undated."""
    periods = [(x.rel.start, x.rel.end) if x.rel else (None, None) for x in affiliations]
    if not periods or any(s is None and e is None for s, e in periods):
        return None
    return _envelope(periods)


def _envelope(periods: list[tuple[str | None, str | None]]) -> tuple[str | None, str | None]:
    start = None if any(s is None for s, _ in periods) else min(s for s, _ in periods)
    end = None if any(e is None for _, e in periods) else max(e for _, e in periods)
    return (start, end)


class _EdgeBuilder:
    """Collects the units of each stakeholder pair, then writes the edges."""

    def __init__(self, kind_weights: Mapping[str, float] | None):
        self.kind_weights = dict(kind_weights or {})
        self.units: dict[tuple[str, str], dict[tuple[str, str], dict]] = defaultdict(dict)

    def add(
        self,
        a: str,
        b: str,
        unit: tuple[str, str],
        kinds: Iterable[str],
        rels: Iterable[Relation | None],
        rel_iris: Iterable[str],
        spell: tuple | None,
        share: float = 1.0,
    ) -> None:
        """One unit of the pair's tie; `share` is what the unit adds to the weight (1 for a direct
        relationship, 1/(n-1) for a group of n with the Newman projection)."""
        if a == b:
            return
        pair = (a, b) if a < b else (b, a)
        u = self.units[pair].setdefault(
            unit, {"kinds": set(), "rels": set(), "evidence": set(), "docs": set(), "spells": set(), "share": share}
        )
        u["kinds"].update(kinds)
        u["rels"].update(rel_iris)
        for rel in rels:
            if rel is not None:
                u["evidence"].update(rel.passages)
                if rel.doc:
                    u["docs"].add(rel.doc)
        if spell is not None:
            u["spells"].add(spell)

    def write(self, G: nx.Graph) -> None:
        for (a, b), units in self.units.items():
            kinds, rels, evidence, docs, spells, hubs = set(), set(), set(), set(), set(), set()
            always = any(not u["spells"] for u in units.values())  # an undated unit: the tie has no period
            weight = direct = shared = 0.0
            for (unit_type, unit_id), u in units.items():
                w = u["share"] * max(self.kind_weights.get(k, 1.0) for k in u["kinds"])
                weight += w
                if unit_type == "hub":
                    shared += w
                else:
                    direct += w
                kinds |= u["kinds"]
                rels |= u["rels"]
                evidence |= u["evidence"]
                docs |= u["docs"]
                spells |= u["spells"]
                if unit_type == "hub":
                    hubs.add(unit_id)
            weight, direct, shared = round(weight, 12), round(direct, 12), round(shared, 12)  # 3 x 1/3 = 1
            if weight <= 0:
                continue
            G.add_edge(
                a,
                b,
                weight=weight,
                distance=1.0 / weight,
                direct_weight=direct,
                shared_weight=shared,
                kinds=sorted(kinds),
                relations=sorted(rels),
                hubs=sorted(hubs),
                evidence=sorted(evidence),
                documents=sorted(docs),
                spells=[] if always else sorted(spells, key=lambda s: (s[0] or "", s[1] or "")),
            )


def stakeholder_network(
    data: NetworkData,
    filters: Filters = Filters(),
    direct: bool = True,
    shared: bool = True,
    kind_weights: Mapping[str, float] | None = None,
    projection: str = "newman",
) -> nx.Graph:
    """The typed, weighted stakeholder network (module docstring). Stakeholders with no tie left after the
    filters are not in the graph. `projection`: how much a shared group adds to each pair of its members,
    "newman" 1/(n-1) (default) or "count" 1."""
    if projection not in PROJECTIONS:
        raise ValueError(f"unknown projection {projection!r}; one of {', '.join(PROJECTIONS)}")
    G = nx.Graph(
        layer="relations" if direct and shared else ("interlocks" if shared else "direct"),
        weighting=WEIGHTING[projection] if shared else "direct relationship = 1",
        relations=",".join(sorted(DEFAULT_RELATIONS if filters.relations is None else filters.relations)),
    )
    edges = _EdgeBuilder(kind_weights)
    hubs: dict[str, dict[str, list[_Affiliation]]] = defaultdict(lambda: defaultdict(list))
    for tie, kind, rel in _selected_ties(data, filters):
        if not _node_ok(data, tie.s, filters):
            continue
        period = (rel.start, rel.end) if rel else (None, None)
        if tie.direct:
            if direct and _node_ok(data, tie.o, filters):
                edges.add(tie.s, tie.o, ("rel", tie.rel), [kind], [rel], [tie.rel], _spell([period]))
        else:
            hubs[tie.o][tie.s].append(_Affiliation(kind, rel, tie.rel))
    if shared:
        sizes = group_sizes(data)
        for hub, members in hubs.items():
            n = sizes.get(hub, len(members))
            share = 1.0 / (n - 1) if projection == "newman" and n > 1 else 1.0
            for a, b in itertools.combinations(sorted(members), 2):
                if direct and {x.iri for x in members[a]} == {x.iri for x in members[b]} == {
                    x.iri for x in members[a] if x.kind == "partnership"
                }:
                    continue  # only the partnership that names both (via this hub): its direct tie counts
                affs = members[a] + members[b]
                rels = [x.rel for x in affs]
                period_a, period_b = _cover(members[a]), _cover(members[b])
                spell = _spell([p for p in (period_a, period_b) if p]) if (period_a or period_b) else None
                if spell is None and period_a and period_b:  # one after the other: the span of both
                    spell = _envelope([period_a, period_b])
                edges.add(a, b, ("hub", hub), {x.kind for x in affs}, rels, [x.iri for x in affs], spell, share)
    for pair in edges.units:
        for key in pair:
            _add_node(G, data, key)
    edges.write(G)
    return G


def group_sizes(data: NetworkData) -> dict[str, int]:
    """Hub -> the number of stakeholders recorded as affiliated with it (any relation kind). This is the n of
    the 1/(n-1) weighting: a property of the group, not of the view, so that filters only remove weight."""
    members: dict[str, set[str]] = defaultdict(set)
    for tie in data.ties:
        if not tie.direct and data.nodes.get(tie.s, {}).get("stakeholder"):
            members[tie.o].add(tie.s)
    return {hub: len(m) for hub, m in members.items()}


def interlocks(
    data: NetworkData,
    filters: Filters = Filters(),
    kind_weights: Mapping[str, float] | None = None,
    projection: str = "newman",
) -> nx.Graph:
    """The weighted projection of the affiliation network onto the stakeholders: each shared hub of n members
    adds 1/(n-1) (Newman's collaboration weighting; "count": 1 per hub shared)."""
    return stakeholder_network(
        data, filters, direct=False, shared=True, kind_weights=kind_weights, projection=projection
    )


def affiliation_network(data: NetworkData, filters: Filters = Filters()) -> nx.Graph:
    """The bipartite stakeholder (bipartite=0) - instrument/programme/process (bipartite=1) graph; edge
    weight = number of relationships between the two, `kinds`, `relations`, `evidence`, `spells` as in the
    stakeholder network."""
    B = nx.Graph(layer="affiliations", weighting="number of relationships between the stakeholder and the group")
    for tie, kind, rel in _selected_ties(data, filters):
        if tie.direct or not _node_ok(data, tie.s, filters):
            continue
        _add_node(B, data, tie.s, bipartite=0)
        _add_node(B, data, tie.o, bipartite=1)
        if not B.has_edge(tie.s, tie.o):
            B.add_edge(tie.s, tie.o, kinds=[], relations=[], evidence=[], spells=[])
        e = B.edges[tie.s, tie.o]
        if tie.rel not in e["relations"]:
            e["relations"] = sorted({*e["relations"], tie.rel})
            e["kinds"] = sorted({*e["kinds"], kind})
            if rel is not None:
                e["evidence"] = sorted({*e["evidence"], *rel.passages})
                spell = _spell([(rel.start, rel.end)])
                if spell and spell not in e["spells"]:
                    e["spells"] = sorted([*e["spells"], spell], key=lambda s: (s[0] or "", s[1] or ""))
        e["weight"] = float(len(e["relations"]))
    return B


def comention_network(data: NetworkData, filters: Filters = Filters()) -> nx.Graph:
    """Stakeholders named in the same passage; weight = number of passages, `evidence` = those passages.
    Filters: kinds, documents, themes (of the passage), window (on the document's date); relation kinds do
    not apply."""
    G = nx.Graph(layer="comentions", weighting="number of passages naming both")
    acc: dict[tuple[str, str], set[str]] = defaultdict(set)
    docs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for passage, p in data.mentions.items():
        if not _doc_ok(p["doc"], filters) or not _themes_ok(p["themes"], filters):
            continue
        if p["doc_date"] is not None and not in_window(_start(p["doc_date"]), _end(p["doc_date"]), filters):
            continue
        if p["doc_date"] is None and (filters.start or filters.end):
            continue
        entities = sorted(e for e in p["entities"] if _node_ok(data, e, filters))
        for a, b in itertools.combinations(entities, 2):
            acc[(a, b)].add(passage)
            docs[(a, b)].add(p["doc"])
    for (a, b), passages in acc.items():
        _add_node(G, data, a)
        _add_node(G, data, b)
        w = float(len(passages))
        G.add_edge(
            a,
            b,
            weight=w,
            distance=1.0 / w,
            kinds=["comention"],
            relations=[],
            hubs=[],
            evidence=sorted(passages),
            documents=sorted(docs[(a, b)]),
            spells=[],
        )
    return G


def combine(relations: nx.Graph, comentions: nx.Graph, factor: float = 0.1) -> nx.Graph:
    """The stakeholder network with the co-mention layer added at `factor` times its weight (weaker
    evidence)."""
    G = relations.copy()
    G.graph["layer"] = "relations+comentions"
    G.graph["weighting"] = f"{G.graph.get('weighting', '')}; co-mention = {factor} per passage naming both"
    for n, attrs in comentions.nodes(data=True):
        if n not in G:
            G.add_node(n, **attrs)
    for a, b, e in comentions.edges(data=True):
        if G.has_edge(a, b):
            g = G.edges[a, b]
            g["weight"] += factor * e["weight"]
            g["kinds"] = sorted({*g["kinds"], "comention"})
            g["evidence"] = sorted({*g["evidence"], *e["evidence"]})
            g["spells"] = []  # a co-mention is undated: the combined tie holds at any time
        else:
            G.add_edge(a, b, **{**e, "weight": factor * e["weight"]})
        G.edges[a, b]["distance"] = 1.0 / G.edges[a, b]["weight"]
    return G


def build_layer(
    data: NetworkData,
    layer: str,
    filters: Filters = Filters(),
    kind_weights: Mapping[str, float] | None = None,
    comention_factor: float = 0.1,
    projection: str = "newman",
) -> nx.Graph:
    """One of the named views: relations, interlocks, affiliations, comentions, relations+comentions."""
    if layer == "relations":
        return stakeholder_network(data, filters, kind_weights=kind_weights, projection=projection)
    if layer == "interlocks":
        return interlocks(data, filters, kind_weights, projection)
    if layer == "affiliations":
        return affiliation_network(data, filters)
    if layer == "comentions":
        return comention_network(data, filters)
    if layer == "relations+comentions":
        return combine(
            stakeholder_network(data, filters, kind_weights=kind_weights, projection=projection),
            comention_network(data, filters),
            comention_factor,
        )
    raise ValueError(f"unknown layer {layer!r}; one of {', '.join(LAYERS)}")


LAYERS = ("relations", "interlocks", "affiliations", "comentions", "relations+comentions")
