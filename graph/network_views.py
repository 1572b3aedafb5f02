"""What the network explorer, its exports and every entity page's ego network show: a layer of the stakeholder
network with one centrality, its communities and a layout, as plain data. `view(store, ...)` runs in a query
worker (api.store.call): the data, the measure and the ForceAtlas2 layout are computed there, under the query
deadline, never in the server process."""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx

from graph import measures as M
from graph import network as N
from mdkg.settings import Settings


@dataclass
class NetworkView:
    graph: nx.Graph
    measure: M.Measure
    community: dict  # node -> community number
    pos: dict  # node -> (x, y)
    note: str


@dataclass(frozen=True)
class NetworkNode:
    id: str
    label: str
    short: str | None  # acronym, for labels in the picture
    kind: str
    iri: str
    x: float
    y: float
    score: float
    degree: int
    community: int


@dataclass(frozen=True)
class NetworkEdge:
    source: str
    target: str
    weight: float
    kinds: list[str]
    direct_weight: float  # from direct relationships (1 each)
    shared_weight: float  # from shared groups (1/(n-1) each, Newman 2001)


@dataclass(frozen=True)
class Network:
    layer: str
    measure: str
    note: str
    weighting: str  # how a tie's weight is made (graph.network.WEIGHTING)
    relations: list[str]  # the relation kinds in the network (survey responses only when asked for)
    communities: int
    nodes: list[NetworkNode]
    edges: list[NetworkEdge]


def view(store, layer: str, kinds, relations, measure: str, settings: Settings) -> NetworkView:
    return compute(N.load_network_data(store, settings), layer, kinds, relations, measure)


def compute(data: N.NetworkData, layer: str, kinds, relations, measure: str) -> NetworkView:
    graph = N.build_layer(data, layer, N.Filters.make(kinds=kinds, relations=relations))
    if graph.number_of_nodes() == 0:
        return NetworkView(graph, M.Measure(measure, {}), {}, {}, "empty network")
    m = M.compute(graph, [measure])[measure]
    comm = M.communities(graph)
    return NetworkView(
        graph, m, comm.membership(), layout(graph), f"{m.note}; {comm.note}, {len(comm.communities)} communities"
    )


def layout(graph: nx.Graph) -> dict:
    """ForceAtlas2 per connected component (hub-dissuading, so the cliques a shared forum makes open up), the
    largest component in the middle, the others on a ring around it."""
    comps = sorted(nx.connected_components(graph), key=lambda c: (-len(c), sorted(map(str, c))))
    pos: dict = {}
    for i, comp in enumerate(comps):
        sub = graph.subgraph(comp)
        n = len(comp)
        if n > 2:
            raw = nx.forceatlas2_layout(sub, max_iter=300, seed=7, scaling_ratio=4.0, distributed_action=True)
        else:
            raw = {node: (float(k), 0.0) for k, node in enumerate(sorted(comp, key=str))}
        xs = [p[0] for p in raw.values()]
        ys = [p[1] for p in raw.values()]
        cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
        span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
        if i == 0:
            centre, scale = (0.0, 0.0), 2.0 / span
        else:
            angle = 2 * math.pi * (i - 1) / max(1, len(comps) - 1)
            centre, scale = (1.35 * math.cos(angle), 1.35 * math.sin(angle)), (0.08 + 0.05 * math.sqrt(n)) / span
        for node, (x, y) in raw.items():
            pos[node] = (centre[0] + scale * (x - cx), centre[1] + scale * (y - cy))
    return pos


def _finite(v) -> float:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return 0.0
    return v if math.isfinite(v) else 0.0


def network(v: NetworkView, layer: str, measure: str, relations: list[str] | None, id_base: str) -> Network:
    """The view as the REST API and the explorer read it (`id_base`: the IRI prefix of ids)."""
    g = v.graph
    nodes = [
        NetworkNode(
            id=str(n),
            label=str(d.get("label", n)),
            short=d.get("short"),
            kind=str(d.get("kind", "")),
            iri=str(d.get("iri", id_base + str(n))),
            x=_finite(v.pos[n][0]),
            y=_finite(v.pos[n][1]),
            score=_finite(v.measure.values.get(n)),
            degree=g.degree(n),
            community=v.community.get(n, -1),
        )
        for n, d in g.nodes(data=True)
    ]
    edges = [
        NetworkEdge(
            source=str(a),
            target=str(b),
            weight=_finite(d.get("weight", 1)),
            kinds=list(d.get("kinds", [])),
            direct_weight=_finite(d.get("direct_weight", 0)),
            shared_weight=_finite(d.get("shared_weight", 0)),
        )
        for a, b, d in g.edges(data=True)
    ]
    return Network(
        layer=layer,
        measure=measure,
        note=v.note,
        weighting=str(g.graph.get("weighting", "")),
        relations=sorted(relations) if relations else sorted(N.DEFAULT_RELATIONS),
        communities=len(set(v.community.values())),
        nodes=nodes,
        edges=edges,
    )


EGO_MAX = 16


def _ego_text(label: str, short: str | None, width: int = 22) -> str:
    """What an ego-network node is labelled with: the name, or its acronym when the name is too long."""
    if len(label) <= width:
        return label
    return short or label[: width - 1] + "…"


def ego(graph: nx.Graph, key: str) -> dict | None:
    """A small ego network (radius 1) of `key`, laid out for an SVG: neighbours in two columns either side of the
    centre, strongest first, each label outward from its node, so that labels never collide (rows 2.2 / 8 apart;
    the font is 0.1 high)."""
    if key not in graph:
        return None
    neighbours = sorted(graph[key], key=lambda n: (-graph[key][n].get("weight", 1), str(n)))
    total = len(neighbours)
    neighbours = neighbours[:EGO_MAX]
    if not neighbours:
        return None
    nodes = {key: {"x": 0.0, "y": 0.0, "lx": 0.0, "ly": 0.19, "anchor": "middle"}}
    sides = (neighbours[0::2], neighbours[1::2])
    for side, column in zip((1, -1), sides, strict=True):
        for i, n in enumerate(column):
            y = -1.1 + 2.2 * (i + 0.5) / max(len(column), 1)
            x = side * (0.62 + 0.38 * math.sqrt(max(0.0, 1 - (y / 1.2) ** 2)))
            anchor = "start" if side > 0 else "end"
            nodes[n] = {"x": x, "y": y, "lx": x + side * 0.08, "ly": y + 0.035, "anchor": anchor}
    out_nodes = []
    for n, pos in nodes.items():
        d = graph.nodes[n]
        label = d.get("label", n)
        out_nodes.append(
            {
                "id": n,
                "label": label,
                "text": _ego_text(label, d.get("short")),
                "kind": d.get("kind", ""),
                **pos,
                "href": "/id/" + n,
                "centre": n == key,
            }
        )
    edges = [
        {"a": nodes[a], "b": nodes[b], "w": d.get("weight", 1), "centre": key in (a, b)}
        for a, b, d in graph.subgraph(nodes).edges(data=True)
    ]
    return {"nodes": out_nodes, "edges": edges, "total": total, "shown": len(neighbours)}
