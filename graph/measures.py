"""Network measures on the views of graph/network.py (undirected, weighted NetworkX graphs).

Conventions. `weight` is tie strength (more = stronger); shortest-path measures (betweenness, closeness) use
`distance` = 1 / weight when `weighted=True`, else hop counts. Degree is reported weighted (the sum of tie
weights, "strength") and as a plain count. Eigenvector centrality and PageRank use `weight` as strength. All
values are keyed by node.

Every measure function returns a `Measure`: the values and a `note` (method, parameters and, for sampled
betweenness, the error bound). `compute()` runs several by name, with an optional progress callback.

Betweenness is computed by source chunks (`nx.betweenness_centrality_subset` from each chunk of sources to
every target, summed), which gives progress reports, a process pool (`workers`) and sampling with one code
path; it equals `nx.betweenness_centrality` (tests/test_network_measures.py checks it). Approximate
betweenness samples `k` source nodes uniformly without replacement and scales by n/k (Brandes & Pich 2007);
the normalized estimate of each node is a mean of k terms in [0, n/(n-1)], so by Hoeffding's inequality
(which also holds when sampling without replacement) and a union bound over the n nodes, with probability at
least 1 - delta every node's normalized estimate is within

    epsilon = n/(n-1) * sqrt(ln(2n/delta) / (2k))

of its exact normalized betweenness. `betweenness_error()` gives epsilon; the note states it. That bound is
worst-case and loose (on 10^3-node test graphs the largest error seen is ~1/8 of it), so the note also gives
the largest per-node standard error estimated from batch means (the chunks of sources are independent
sub-samples, nearly independent): `extra['std_error']`, a typical rather than guaranteed error.

NetworkX backends: `backend=` is passed to the NetworkX functions that accept dispatching (e.g. "parallel" for
nx-parallel, "cugraph"), when that backend is installed; by default NetworkX's own implementation runs. (The
nx-parallel release installable for Python 3.11, 0.3, does not import with NetworkX 3.6, so it is not a
dependency; `workers` is this module's own process pool for betweenness.)"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import networkx as nx

Progress = Callable[[int, int], None]  # (done, total)
BROKERAGE_ROLES = ("coordinator", "gatekeeper", "representative", "consultant", "liaison")


@dataclass
class Measure:
    name: str
    values: dict[Hashable, float]
    note: str = ""
    extra: dict = field(default_factory=dict)

    def top(self, n: int | None = None, among: Iterable[Hashable] | None = None) -> list[tuple[Hashable, float]]:
        """(node, value), highest first, ties by node key; `among` restricts the nodes."""
        keep = set(among) if among is not None else None
        items = [(k, v) for k, v in self.values.items() if keep is None or k in keep]
        items.sort(key=lambda kv: (-_sortable(kv[1]), str(kv[0])))
        return items[:n] if n else items

    def ranks(self) -> dict[Hashable, int]:
        """Competition ranks (1, 2, 2, 4): equal values share a rank."""
        out, prev, rank = {}, None, 0
        for i, (k, v) in enumerate(self.top(), start=1):
            if v != prev:
                rank, prev = i, v
            out[k] = rank
        return out


def _sortable(v: float) -> float:
    return -math.inf if v is None or (isinstance(v, float) and math.isnan(v)) else v


def _dist(weighted: bool) -> str | None:
    return "distance" if weighted else None


def _kw(backend: str | None) -> dict:
    return {"backend": backend} if backend else {}


# -- centralities ----------------------------------------------------------------------------------------
def degree(G: nx.Graph, weight: str | None = "weight") -> Measure:
    """Weighted degree (strength: the sum of the tie weights); `extra['count']` the number of neighbours."""
    return Measure(
        "degree",
        {n: round(float(d), 9) for n, d in G.degree(weight=weight)},  # 3 x 1/3 is 1
        f"weighted degree (sum of '{weight}')" if weight else "degree (number of ties)",
        {"count": dict(G.degree())},
    )


def betweenness_error(n: int, k: int, delta: float = 0.05) -> float:
    """Half-width of the simultaneous (1 - delta) bound on every node's normalized sampled betweenness."""
    if k >= n or n < 3:
        return 0.0
    return n / (n - 1) * math.sqrt(math.log(2 * n / delta) / (2 * k))


def samples_for_error(n: int, epsilon: float, delta: float = 0.05) -> int:
    """The number of sampled sources for which `betweenness_error(n, k, delta) <= epsilon`."""
    r = n / (n - 1)
    return min(n, math.ceil(r * r * math.log(2 * n / delta) / (2 * epsilon * epsilon)))


_WORKER_GRAPH: nx.Graph | None = None


def _init_worker(G: nx.Graph) -> None:
    global _WORKER_GRAPH
    _WORKER_GRAPH = G


def _chunk(sources: list, weight: str | None) -> dict:
    G = _WORKER_GRAPH
    return nx.betweenness_centrality_subset(G, sources=sources, targets=list(G), normalized=False, weight=weight)


def betweenness(
    G: nx.Graph,
    k: int | None = None,
    seed: int | None = 0,
    weighted: bool = True,
    normalized: bool = True,
    workers: int = 1,
    delta: float = 0.05,
    chunks: int | None = None,
    progress: Progress | None = None,
    backend: str | None = None,
) -> Measure:
    """Betweenness centrality (exact, or sampled from `k` sources with the error stated in the note)."""
    n = G.number_of_nodes()
    weight = _dist(weighted)
    if backend:
        values = nx.betweenness_centrality(G, k=k, normalized=normalized, weight=weight, seed=seed, backend=backend)
        return Measure("betweenness", values, f"betweenness (NetworkX backend {backend})")
    nodes = list(G)
    sampled = k is not None and k < n
    sources = random.Random(seed).sample(nodes, k) if sampled else nodes
    # about 50 sources a chunk, at least 10 chunks (batches for the error estimate) and at most 100
    n_chunks = chunks or min(len(sources), max(10, min(100, len(sources) // 50)))
    size = max(1, math.ceil(len(sources) / max(1, n_chunks)))
    parts = [sources[i : i + size] for i in range(0, len(sources), size)]
    total: Counter = Counter({v: 0.0 for v in nodes})
    batches: list[tuple[int, dict]] = []  # (sources, sums) per chunk, kept for the batch-means error
    done = 0

    def add(part: list, result: dict) -> None:
        nonlocal done
        total.update(result)
        if sampled:
            batches.append((len(part), result))
        done += len(part)
        if progress:
            progress(done, len(sources))

    if workers > 1 and len(parts) > 1:
        with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(G,)) as pool:
            for part, result in zip(parts, pool.map(_chunk, parts, [weight] * len(parts)), strict=True):
                add(part, result)
    else:
        for part in parts:
            add(
                part,
                nx.betweenness_centrality_subset(G, sources=part, targets=nodes, normalized=False, weight=weight),
            )
    # betweenness_centrality_subset halves undirected sums already; rescale as nx.betweenness_centrality does.
    scale = 1.0
    if normalized:
        scale = 1.0 / ((n - 1) * (n - 2)) if n > 2 else 0.0
        if not G.is_directed():
            scale *= 2.0
    values = {v: total[v] * scale * (n / k if sampled else 1.0) for v in nodes}
    how = "shortest paths by distance = 1/weight" if weighted else "shortest paths by hops"
    if sampled:
        eps = betweenness_error(n, k, delta)
        se = _batch_std_error(values, batches, scale * n, k)
        worst = max(se.values(), default=0.0)
        note = (
            f"approximate betweenness: {k} of {n} sources sampled (seed {seed}), {how}; with probability "
            f">= {1 - delta:.2f} every node's normalized value is within +/-{eps:.4f} of the exact one "
            f"(Hoeffding bound); largest batch-means standard error {worst:.4f}"
            + (f" over {len(batches)} batches" if len(batches) > 1 else " (one batch: not estimated)")
        )
        extra = {"k": k, "epsilon": eps, "delta": delta, "std_error": se, "max_std_error": worst}
    else:
        note, extra = f"exact betweenness, {how}", {"k": n, "epsilon": 0.0, "delta": 0.0}
    return Measure("betweenness", values, note, extra)


def _batch_std_error(values: dict, batches: list[tuple[int, dict]], unit: float, k: int) -> dict:
    """Per node, the standard error of the sampled estimate from the spread of its per-batch estimates
    (batch means: each batch of sources is an independent smaller sample; weights by batch size)."""
    if len(batches) < 2:
        return {v: 0.0 for v in values}
    b = len(batches)
    out = {}
    for v, est in values.items():
        var = sum((size / k) ** 2 * (sums.get(v, 0.0) * unit / size - est) ** 2 for size, sums in batches)
        out[v] = math.sqrt(var * b / (b - 1))
    return out


def closeness(G: nx.Graph, weighted: bool = True, backend: str | None = None) -> Measure:
    """Closeness (Wasserman-Faust scaling for disconnected graphs, as NetworkX's `wf_improved`)."""
    return Measure(
        "closeness",
        nx.closeness_centrality(G, distance=_dist(weighted), **_kw(backend)),
        "closeness centrality" + (" (distance = 1/weight)" if weighted else " (hops)"),
    )


def eigenvector(G: nx.Graph, weight: str | None = "weight", backend: str | None = None) -> Measure:
    """Eigenvector centrality: the leading eigenvector of the weighted adjacency matrix (SciPy's ARPACK; power
    iteration if that fails, or with a backend). On a disconnected graph the values concentrate on the
    component with the largest eigenvalue."""
    if G.number_of_nodes() == 0:
        return Measure("eigenvector", {}, "eigenvector centrality")
    if not backend and G.number_of_nodes() > 2:
        try:
            values = nx.eigenvector_centrality_numpy(G, weight=weight, max_iter=1000)
            return Measure("eigenvector", values, "eigenvector centrality (ARPACK)")
        except (nx.NetworkXException, ArithmeticError, ValueError, RuntimeError):
            pass
    values = nx.eigenvector_centrality(G, weight=weight, max_iter=1000, **_kw(backend))
    return Measure("eigenvector", values, "eigenvector centrality (power iteration)")


def pagerank(G: nx.Graph, weight: str | None = "weight", alpha: float = 0.85, backend: str | None = None) -> Measure:
    return Measure(
        "pagerank",
        nx.pagerank(G, alpha=alpha, weight=weight, **_kw(backend)),
        f"PageRank (alpha {alpha}, weighted)",
    )


def constraint(G: nx.Graph, weight: str | None = "weight") -> Measure:
    """Burt's constraint (lower = more brokerage opportunity); NaN for isolates."""
    return Measure("constraint", nx.constraint(G, weight=weight), "Burt's constraint (weighted)")


def effective_size(G: nx.Graph, weight: str | None = "weight") -> Measure:
    """Burt's effective size: for ego u, the sum over its contacts v of 1 - sum_w p_uw m_vw (p_uw: u's
    proportional tie to w; m_vw: v's tie to w over v's strongest tie). Unweighted this is Borgatti's
    n - 2t/n. NaN for isolates. Computed node by node on the adjacency, as NetworkX's per-node formula
    (NetworkX 3.6's all-nodes shortcut builds a dense n x n array with SciPy, 75 GB at 10^5 nodes, and
    differs from its own formula on some weighted nodes); directed graphs go to NetworkX."""
    if G.is_directed() or G.is_multigraph():
        return Measure("effective_size", nx.effective_size(G, weight=weight), "Burt's effective size")
    return Measure("effective_size", _effective_size(G, weight), "Burt's effective size")


def _effective_size(G: nx.Graph, weight: str | None) -> dict:
    def w(d: dict) -> float:
        return float(d.get(weight, 1.0)) if weight else 1.0

    adj = {u: {v: w(d) for v, d in nbrs.items() if v != u} for u, nbrs in G.adj.items()}
    strongest = {u: max(nbrs.values(), default=0.0) for u, nbrs in adj.items()}
    out = {}
    for u, nbrs in adj.items():
        total = sum(nbrs.values())
        if not nbrs or total == 0:
            out[u] = math.nan
            continue
        size = 0.0
        for v in nbrs:
            av, top = adj[v], strongest[v]
            small, large = (nbrs, av) if len(nbrs) <= len(av) else (av, nbrs)
            redundancy = sum(nbrs[x] * av[x] for x in small if x in large and x != v and x != u)
            size += 1.0 - (redundancy / (total * top) if top else 0.0)
        out[u] = size
    return out


def k_core(G: nx.Graph) -> Measure:
    H = G.copy()
    H.remove_edges_from(nx.selfloop_edges(H))
    return Measure("k_core", {n: float(c) for n, c in nx.core_number(H).items()}, "core number (k-core)")


# -- brokerage -------------------------------------------------------------------------------------------
def brokerage(G: nx.Graph, group: str | Mapping[Hashable, Hashable] = "kind") -> dict[Hashable, Counter]:
    """Gould-Fernandez brokerage roles of each node, groups by node attribute `group` (default the stakeholder
    kind) or a mapping node -> group.

    A brokered two-path is a -> b -> c with a != c and no tie a -> c; b is the broker. By the groups of a,
    b, c: coordinator (all three in one group), gatekeeper (b and c in one group, a outside: b controls
    access to its group), representative (a and b in one group, c outside: b speaks for its group),
    consultant (a and c in one group, b outside), liaison (all three in different groups).

    The networks of graph/network.py are undirected: every tie is counted as a tie in both directions, so a
    pair of non-adjacent neighbours {a, c} of b gives the two two-paths a -> b -> c and c -> b -> a. Hence
    every count is over ordered pairs (twice the number of unordered pairs), and for every node the
    gatekeeper and representative counts are equal (the reverse of a gatekeeping path is a representative
    path). A directed graph is taken as it is."""
    of = (lambda n: group.get(n)) if isinstance(group, Mapping) else (lambda n: G.nodes[n].get(group))
    succ = G.succ if G.is_directed() else G.adj
    pred = G.pred if G.is_directed() else G.adj
    out: dict[Hashable, Counter] = {}
    for b in G:
        counts = Counter({role: 0 for role in BROKERAGE_ROLES})
        gb = of(b)
        for a in pred[b]:
            if a == b:
                continue
            ga, a_out = of(a), succ[a]
            for c in succ[b]:
                if c == a or c == b or c in a_out:
                    continue
                gc = of(c)
                if ga == gb == gc:
                    counts["coordinator"] += 1
                elif gb == gc:
                    counts["gatekeeper"] += 1
                elif ga == gb:
                    counts["representative"] += 1
                elif ga == gc:
                    counts["consultant"] += 1
                else:
                    counts["liaison"] += 1
        out[b] = counts
    return out


# -- communities, components, ego networks ---------------------------------------------------------------
@dataclass
class Communities:
    method: str  # louvain | leiden
    communities: list[set]  # largest first
    modularity: float
    note: str = ""

    def membership(self) -> dict[Hashable, int]:
        return {n: i for i, c in enumerate(self.communities) for n in c}


def leiden_available() -> bool:
    """Whether the installed NetworkX can run Leiden (it needs a backend that implements it)."""
    if not hasattr(nx.community, "leiden_communities"):
        return False
    try:
        nx.community.leiden_communities(nx.path_graph(3), seed=0)
    except (NotImplementedError, ImportError, nx.NetworkXNotImplemented, RuntimeError):
        return False
    return True


def communities(
    G: nx.Graph,
    method: str = "louvain",
    weight: str | None = "weight",
    resolution: float = 1.0,
    seed: int | None = 0,
) -> Communities:
    """Louvain, or Leiden where the installed NetworkX has it (falling back to Louvain, said in the note)."""
    note = ""
    if G.number_of_nodes() == 0:
        return Communities(method, [], 0.0, "empty graph")
    if method == "leiden":
        try:
            found = nx.community.leiden_communities(G, weight=weight, resolution=resolution, seed=seed)
        except (
            AttributeError,
            NotImplementedError,
            ImportError,
            nx.NetworkXNotImplemented,
            RuntimeError,
        ) as e:
            note = f"Leiden not available in this NetworkX ({type(e).__name__}); Louvain used instead"
            method = "louvain"
    if method == "louvain":
        found = nx.community.louvain_communities(G, weight=weight, resolution=resolution, seed=seed)
    elif method != "leiden":
        raise ValueError("method: louvain or leiden")
    parts = sorted((set(c) for c in found), key=lambda c: (-len(c), sorted(map(str, c))))
    q = nx.community.modularity(G, parts, weight=weight, resolution=resolution) if G.number_of_edges() else 0.0
    return Communities(method, parts, q, note or f"{method} (resolution {resolution}, seed {seed})")


def community_measure(G: nx.Graph, method: str = "louvain", seed: int | None = 0) -> Measure:
    c = communities(G, method, seed=seed)
    return Measure(
        "community",
        {n: float(i) for n, i in c.membership().items()},
        f"{c.note}; {len(c.communities)} communities, modularity {c.modularity:.3f}",
        {"communities": c},
    )


@dataclass
class Structure:
    components: list[set]  # largest first
    bridges: list[tuple]  # edges whose removal disconnects their component
    articulation_points: list  # nodes whose removal disconnects their component


def structure(G: nx.Graph) -> Structure:
    comps = sorted((set(c) for c in nx.connected_components(G)), key=lambda c: (-len(c), sorted(map(str, c))))
    bridges = sorted(tuple(sorted(e, key=str)) for e in nx.bridges(G)) if G.number_of_edges() else []
    return Structure(comps, bridges, sorted(nx.articulation_points(G), key=str))


def ego(G: nx.Graph, node: Hashable, radius: int = 1) -> nx.Graph:
    """The ego network: `node`, everyone within `radius` ties and the ties among them."""
    if node not in G:
        raise KeyError(f"{node!r} is not in the network")
    return nx.ego_graph(G, node, radius=radius)


# -- by name ---------------------------------------------------------------------------------------------
MEASURES: dict[str, str] = {
    "degree": "weighted degree (strength)",
    "betweenness": "betweenness centrality",
    "closeness": "closeness centrality",
    "eigenvector": "eigenvector centrality",
    "pagerank": "PageRank",
    "constraint": "Burt's constraint",
    "effective_size": "Burt's effective size",
    "k_core": "core number",
    "community": "community (Louvain/Leiden) index",
    "brokerage": "Gould-Fernandez brokerage, all roles",
    **{role: f"Gould-Fernandez {role} brokerage" for role in BROKERAGE_ROLES},
}


def compute(
    G: nx.Graph,
    names: Sequence[str],
    *,
    k: int | None = None,
    seed: int | None = 0,
    weighted: bool = True,
    workers: int = 1,
    community_method: str = "louvain",
    group: str = "kind",
    backend: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Measure]:
    """The named measures (see MEASURES); `progress(name, done, total)` is called as they run."""
    unknown = [n for n in names if n not in MEASURES]
    if unknown:
        raise ValueError(f"unknown measure(s) {unknown}; known: {', '.join(MEASURES)}")
    out = {}
    roles = None
    for name in names:

        def step(done: int, total: int, _name: str = name) -> None:
            if progress:
                progress(_name, done, total)

        if name == "degree":
            out[name] = degree(G)
        elif name == "betweenness":
            out[name] = betweenness(
                G, k=k, seed=seed, weighted=weighted, workers=workers, progress=step, backend=backend
            )
        elif name == "closeness":
            out[name] = closeness(G, weighted, backend)
        elif name == "eigenvector":
            out[name] = eigenvector(G, backend=backend)
        elif name == "pagerank":
            out[name] = pagerank(G, backend=backend)
        elif name == "constraint":
            out[name] = constraint(G)
        elif name == "effective_size":
            out[name] = effective_size(G)
        elif name == "k_core":
            out[name] = k_core(G)
        elif name == "community":
            out[name] = community_measure(G, community_method, seed)
        else:
            roles = roles or brokerage(G, group)
            what = "all roles" if name == "brokerage" else name
            values = {n: float(sum(c.values()) if name == "brokerage" else c[name]) for n, c in roles.items()}
            out[name] = Measure(
                name,
                values,
                f"Gould-Fernandez brokerage, {what} (groups: node {group}; undirected ties counted both ways)",
                {"roles": roles},
            )
        step(1, 1)
    return out
