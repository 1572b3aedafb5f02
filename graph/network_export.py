"""Exports of the network views (graph/network.py) and the RDF write-back of their scores.

* `annotate(G, measures)`: copy scores (and the community index) onto the nodes, as node attributes named
  after the measures.
* `flat(G)`: the graph with every attribute a string, number or bool (lists joined with " ", spells as
  "start/end;start/end", None and empty lists left out), which is what GraphML, GEXF and CSV can hold. The
  tests re-read each export with NetworkX and compare it to `flat(G)` (JSON keeps lists, so it is compared to
  `json_ready(G)`).
* `write_graphml`, `write_gexf` (edges and nodes with GEXF spells where the ties are dated, so Gephi's
  timeline works; a node's spell runs from its earliest dated tie to its latest, and only when all its ties
  are dated), `write_csv` (nodes.csv and edges.csv), `write_json` (node-link JSON for the browser: labels,
  kinds, community, scores), `draw` (PNG/SVG with matplotlib's Agg backend: nodes sized by a measure,
  coloured by community).
* `analysis_quads` / `write_back`: the scores as RDF in the named graph {base}graph/analysis, one
  `mdkg:NetworkScore` node per (layer, measure, stakeholder):

      {base}id/network-score/{layer}/{measure}/{sha1(entity IRI)[:12]}
          a mdkg:NetworkScore ; mdkg:scoreOf <entity> ; mdkg:measure {base}id/network-measure/{measure} ;
          mdkg:networkLayer "relations" ; mdkg:scoreValue "0.25"^^xsd:double ; mdkg:rank 1 ;
          prov:wasGeneratedBy {base}id/activity/network-analysis/{layer} .

  The activity carries the time, the filters and each measure's note (method, sample size, error) as
  rdfs:comment. Writing again replaces the scores of the same layer and measures. queries/network-top.rq ranks
  them. The terms are declared in ontology/mdkg.ttl."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import math
from collections.abc import Hashable, Iterable, Mapping
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

import networkx as nx
import pyoxigraph as ox

from graph.measures import Measure
from mdkg.settings import Settings

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
PROV = "http://www.w3.org/ns/prov#"


# -- attributes ------------------------------------------------------------------------------------------
def annotate(G: nx.Graph, measures: Mapping[str, Measure]) -> nx.Graph:
    """Set each measure's value as a node attribute (in place; returns G). NaN is left out."""
    for name, m in measures.items():
        attr = "community" if name == "community" else name
        for n, v in m.values.items():
            if n in G and v is not None and not (isinstance(v, float) and math.isnan(v)):
                G.nodes[n][attr] = int(v) if attr in ("community", "k_core") else float(v)
    return G


def _spells_text(spells: Iterable) -> str:
    return ";".join(f"{s or ''}/{e or ''}" for s, e in spells)


def _flat_value(key: str, value: object) -> object:
    """A scalar for the value; None (attribute left out) for None and empty lists."""
    if isinstance(value, list | tuple | set | frozenset):
        if not value:
            return None
        return _spells_text(value) if key == "spells" else " ".join(str(v) for v in value)
    return value


def flat(G: nx.Graph) -> nx.Graph:
    """A copy whose node, edge and graph attributes are all str / int / float / bool (None dropped)."""
    H = nx.Graph() if not G.is_directed() else nx.DiGraph()
    H.graph.update(_flat_dict(G.graph))
    for n, d in G.nodes(data=True):
        H.add_node(str(n), **_flat_dict(d))
    for a, b, d in G.edges(data=True):
        H.add_edge(str(a), str(b), **_flat_dict(d))
    return H


def _flat_dict(d: Mapping) -> dict:
    out = {k: _flat_value(k, v) for k, v in d.items()}
    return {k: v for k, v in out.items() if v is not None}


def node_spells(G: nx.Graph, n: Hashable) -> list[tuple[str | None, str | None]]:
    """The node's period, from its earliest dated tie to its latest; [] if it has an undated tie or no tie."""
    edges = [d.get("spells") or [] for _, _, d in G.edges(n, data=True)]
    if not edges or any(not s for s in edges):
        return []
    starts = [s for sp in edges for s, _ in sp]
    ends = [e for sp in edges for _, e in sp]
    start = None if any(s is None for s in starts) else min(starts)
    end = None if any(e is None for e in ends) else max(ends)
    return [(start, end)] if start or end else []


# -- files -----------------------------------------------------------------------------------------------
def write_graphml(G: nx.Graph, path: Path) -> Path:
    nx.write_graphml(flat(G), path, encoding="utf-8")
    return path


def gexf_ready(G: nx.Graph) -> nx.Graph:
    """`flat(G)` with spells as GEXF spells (lists of (start, end)) on edges and nodes."""
    H = flat(G)
    for a, b, d in G.edges(data=True):
        if d.get("spells"):
            H.edges[str(a), str(b)]["spells"] = [tuple(s) for s in d["spells"]]
        else:
            H.edges[str(a), str(b)].pop("spells", None)
    for n in G:
        spells = node_spells(G, n)
        if spells:
            H.nodes[str(n)]["spells"] = spells
        else:
            H.nodes[str(n)].pop("spells", None)
    return H


def write_gexf(G: nx.Graph, path: Path) -> Path:
    """GEXF 1.2; the graph's `layer` and `weighting` (how tie weights are made) go into the graph's name and
    the file's <meta><description>, since GEXF has no graph attributes."""
    H = gexf_ready(G)
    H.graph["name"] = "; ".join(f"{k}: {G.graph[k]}" for k in ("layer", "weighting") if G.graph.get(k))
    nx.write_gexf(H, path, encoding="utf-8", version="1.2draft")
    if G.graph.get("weighting"):
        text = path.read_text(encoding="utf-8")
        description = f"<description>tie weight: {xml_escape(str(G.graph['weighting']))}</description>"
        path.write_text(text.replace("</creator>", "</creator>" + description, 1), encoding="utf-8")
    return path


NODE_FIELDS = ("id", "label", "kind", "kinds", "iri")
EDGE_FIELDS = (
    "source",
    "target",
    "weight",
    "direct_weight",
    "shared_weight",
    "kinds",
    "relations",
    "hubs",
    "evidence",
    "documents",
    "spells",
)
NUMERIC_EDGE_FIELDS = ("weight", "distance", "direct_weight", "shared_weight")


def write_csv(G: nx.Graph, folder: Path, prefix: str = "") -> tuple[Path, Path]:
    """{prefix}nodes.csv (id, label, kind, kinds, iri, then every score attribute) and {prefix}edges.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    H = flat(G)
    extra = sorted({k for _, d in H.nodes(data=True) for k in d} - set(NODE_FIELDS))
    nodes_path, edges_path = folder / f"{prefix}nodes.csv", folder / f"{prefix}edges.csv"
    with nodes_path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow([*NODE_FIELDS, *extra])
        for n, d in sorted(H.nodes(data=True)):
            w.writerow([n, *(d.get(k, "") for k in NODE_FIELDS[1:]), *(d.get(k, "") for k in extra)])
    edge_extra = sorted({k for _, _, d in H.edges(data=True) for k in d} - set(EDGE_FIELDS))
    with edges_path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow([*EDGE_FIELDS, *edge_extra])
        for a, b, d in sorted(H.edges(data=True)):
            w.writerow([a, b, *(d.get(k, "") for k in EDGE_FIELDS[2:]), *(d.get(k, "") for k in edge_extra)])
    return nodes_path, edges_path


def read_csv(nodes_path: Path, edges_path: Path) -> nx.Graph:
    """The graph of `write_csv` (attributes as in `flat`: numbers parsed, empty cells left out)."""

    def value(v: str) -> object:
        if v == "":
            return None
        try:
            return int(v) if v.lstrip("-").isdigit() else float(v)
        except ValueError:
            return v

    G = nx.Graph()
    with nodes_path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            n = row.pop("id")
            G.add_node(
                n,
                **{k: value(v) if k not in ("label", "kinds", "iri", "kind") else v for k, v in row.items() if v != ""},
            )
    with edges_path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            a, b = row.pop("source"), row.pop("target")
            G.add_edge(
                a,
                b,
                **{k: (value(v) if k in NUMERIC_EDGE_FIELDS else v) for k, v in row.items() if v != ""},
            )
    return G


def json_ready(G: nx.Graph) -> nx.Graph:
    """A copy fit for JSON: node keys as strings, spells as [start, end] lists."""
    H = nx.Graph()
    H.graph.update(G.graph)
    for n, d in G.nodes(data=True):
        H.add_node(str(n), **d)
    for a, b, d in G.edges(data=True):
        d = dict(d)
        if "spells" in d:
            d["spells"] = [list(s) for s in d["spells"]]
        H.add_edge(str(a), str(b), **d)
    return H


def write_json(G: nx.Graph, path: Path, meta: Mapping | None = None) -> Path:
    """Node-link JSON ({"nodes": [...], "links": [...]}) with labels, kinds, community and scores on the
    nodes; `meta` goes under "graph"."""
    H = json_ready(G)
    H.graph.update(meta or {})
    doc = nx.node_link_data(H, edges="links")
    path.write_text(
        json.dumps(doc, ensure_ascii=False, indent=1, allow_nan=False, default=str) + "\n", encoding="utf-8"
    )
    return path


def read_json(path: Path) -> nx.Graph:
    return nx.node_link_graph(json.loads(path.read_text(encoding="utf-8")), edges="links")


def draw(
    G: nx.Graph,
    path: Path,
    size_by: Mapping[Hashable, float] | None = None,
    title: str = "",
    labels: int = 20,
    seed: int = 0,
) -> Path:
    """A static picture (PNG or SVG by extension): node area by `size_by` (e.g. a measure's values), colour by
    the `community` node attribute, labels on the `labels` largest nodes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = G.number_of_nodes()
    fig, ax = plt.subplots(figsize=(12, 9), dpi=120)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    if n:
        pos = nx.spring_layout(G, seed=seed, weight="weight", k=1.5 / math.sqrt(n), iterations=50 if n < 5000 else 20)
        values = {v: float(size_by.get(v, 0.0)) if size_by else 1.0 for v in G}
        finite = [x for x in values.values() if not math.isnan(x)]
        top = max(finite) if finite else 1.0
        lo, hi = (20, 600) if n < 500 else (3, 60)
        sizes = [lo + (hi - lo) * ((values[v] / top) if top > 0 and not math.isnan(values[v]) else 0) for v in G]
        cmap = plt.get_cmap("tab20")
        colours = [
            cmap(G.nodes[v].get("community", -1) % 20)
            if G.nodes[v].get("community") is not None
            else (0.6, 0.6, 0.6, 1.0)
            for v in G
        ]
        nx.draw_networkx_edges(
            G,
            pos,
            ax=ax,
            alpha=0.25 if n < 2000 else 0.05,
            width=[0.5 + math.log1p(d.get("weight", 1.0)) for _, _, d in G.edges(data=True)],
        )
        nx.draw_networkx_nodes(G, pos, ax=ax, node_size=sizes, node_color=colours, linewidths=0.3, edgecolors="white")
        biggest = sorted(G, key=lambda v: (-_finite(values[v]), str(v)))[:labels]
        nx.draw_networkx_labels(
            G, pos, ax=ax, font_size=7, labels={v: G.nodes[v].get("label", str(v))[:40] for v in biggest}
        )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _finite(x: float) -> float:
    return -math.inf if math.isnan(x) else x


# -- RDF write-back --------------------------------------------------------------------------------------
def _slug(layer: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in layer)


def measure_iri(name: str, settings: Settings) -> str:
    return f"{settings.ns.ID}network-measure/{name}"


def analysis_graph(settings: Settings) -> ox.NamedNode:
    return ox.NamedNode(str(settings.ns.graph("analysis")))


def analysis_quads(
    G: nx.Graph,
    measures: Mapping[str, Measure],
    layer: str,
    settings: Settings,
    description: str = "",
    when: dt.datetime | None = None,
) -> list[ox.Quad]:
    """The scores of `measures` (for the nodes of G, which carry `iri`) as quads of the analysis graph."""
    g = analysis_graph(settings)
    M = str(settings.ns.MDKG)
    ID = str(settings.ns.ID)
    nn = ox.NamedNode
    activity = nn(f"{ID}activity/network-analysis/{_slug(layer)}")
    when = when or dt.datetime.now(dt.UTC).replace(microsecond=0)
    quads = [
        ox.Quad(activity, nn(RDF_TYPE), nn(PROV + "Activity"), g),
        ox.Quad(activity, nn(RDFS + "label"), ox.Literal(f"mdkg network analysis ({layer})"), g),
        ox.Quad(activity, nn(PROV + "endedAtTime"), ox.Literal(when.isoformat(), datatype=nn(XSD + "dateTime")), g),
        ox.Quad(activity, nn(M + "networkLayer"), ox.Literal(layer), g),
    ]
    if description:
        quads.append(ox.Quad(activity, nn(RDFS + "comment"), ox.Literal(description), g))
    double, integer = nn(XSD + "double"), nn(XSD + "integer")
    for name, m in measures.items():
        mi = nn(measure_iri(name, settings))
        quads.append(ox.Quad(mi, nn(RDFS + "label"), ox.Literal(name), g))
        if m.note:
            quads.append(ox.Quad(activity, nn(RDFS + "comment"), ox.Literal(f"{name}: {m.note}"), g))
        ranks = m.ranks()
        for node, value in m.values.items():
            if value is None or (isinstance(value, float) and math.isnan(value)) or node not in G:
                continue
            entity = G.nodes[node].get("iri") or f"{ID}{node}"
            digest = hashlib.sha1(entity.encode("utf-8")).hexdigest()[:12]
            score = nn(f"{ID}network-score/{_slug(layer)}/{name}/{digest}")
            quads += [
                ox.Quad(score, nn(RDF_TYPE), nn(M + "NetworkScore"), g),
                ox.Quad(score, nn(M + "scoreOf"), nn(entity), g),
                ox.Quad(score, nn(M + "measure"), mi, g),
                ox.Quad(score, nn(M + "networkLayer"), ox.Literal(layer), g),
                ox.Quad(score, nn(M + "scoreValue"), ox.Literal(repr(float(value)), datatype=double), g),
                ox.Quad(score, nn(M + "rank"), ox.Literal(str(ranks[node]), datatype=integer), g),
                ox.Quad(score, nn(PROV + "wasGeneratedBy"), activity, g),
            ]
    return quads


def clear_scores(store: ox.Store, layer: str, names: Iterable[str], settings: Settings) -> None:
    """Remove earlier scores of `layer` for the measures `names` (and the layer's activity notes)."""
    M = str(settings.ns.MDKG)
    g = analysis_graph(settings).value
    values = " ".join(f"<{measure_iri(n, settings)}>" for n in names)
    activity = f"{settings.ns.ID}activity/network-analysis/{_slug(layer)}"
    store.update(f"""
        DELETE {{ GRAPH <{g}> {{ ?score ?p ?o }} }}
        WHERE {{ VALUES ?m {{ {values} }}
                 GRAPH <{g}> {{ ?score a <{M}NetworkScore> ; <{M}measure> ?m ;
                                       <{M}networkLayer> {json.dumps(layer)} ; ?p ?o }} }}""")
    store.update(f"DELETE WHERE {{ GRAPH <{g}> {{ <{activity}> ?p ?o }} }}")


def write_back(
    store: ox.Store,
    G: nx.Graph,
    measures: Mapping[str, Measure],
    layer: str,
    settings: Settings,
    description: str = "",
) -> list[ox.Quad]:
    """Replace the layer's scores for these measures in the store's analysis graph; returns the quads
    written."""
    clear_scores(store, layer, measures, settings)
    quads = analysis_quads(G, measures, layer, settings, description)
    store.extend(quads)
    return quads


def save_quads(quads: Iterable[ox.Quad], path: Path) -> Path:
    """The quads as N-Quads (or TriG, by extension), e.g. to load into the endpoint beside the build."""
    s = ox.Store()
    s.extend(quads)
    fmt = ox.RdfFormat.from_extension(path.suffix.lstrip(".")) or ox.RdfFormat.N_QUADS
    s.dump(path, fmt)
    return path
