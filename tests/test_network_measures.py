"""graph/measures.py: hand-computed values on the bridge fixture (two triangles joined through x), brokerage
counts worked out by hand, the chunked/sampled betweenness against NetworkX, and properties of the measures on
the networks of the real build."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest

from graph import measures as ms
from graph import network as nw
from mdkg.settings import Settings

SETTINGS = Settings()  # plain defaults: this checkout's seeds and queries, the default base IRI

FIXTURES = Path(__file__).parent / "fixtures" / "network"


def read_adjacency(path: Path) -> nx.Graph:
    G = nx.Graph()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        node, group, neighbours = line.split(",")
        G.add_node(node, kind=group)
        G.add_edges_from((node, m, {"weight": 1.0, "distance": 1.0}) for m in neighbours.split())
    return G


@pytest.fixture(scope="module")
def bridge() -> nx.Graph:
    return read_adjacency(FIXTURES / "bridge.csv")


# -- hand-computed on the bridge fixture ------------------------------------------------------------------
def test_bridge_node_has_highest_betweenness(bridge):
    b = ms.betweenness(bridge).values
    # n = 7, 15 pairs of other nodes. x lies on all 3 x 3 paths between the triangles: 9/15.
    # c lies on the paths from a and b to x, d, e, f: 8/15; likewise d. a, b, e, f: 0.
    assert b == pytest.approx({"x": 9 / 15, "c": 8 / 15, "d": 8 / 15, "a": 0, "b": 0, "e": 0, "f": 0})
    assert ms.betweenness(bridge).top(1)[0][0] == "x"


def test_bridge_degree_closeness_constraint(bridge):
    assert ms.degree(bridge).values == {"a": 2, "b": 2, "c": 3, "x": 2, "d": 3, "e": 2, "f": 2}
    close = ms.closeness(bridge).values
    assert close["x"] == pytest.approx(6 / 10)  # distances 1, 1, 2, 2, 2, 2
    assert close["c"] == pytest.approx(6 / 11)  # 1, 1, 1, 2, 3, 3
    assert close["a"] == pytest.approx(6 / 15)  # b 1, c 1, x 2, d 3, e 4, f 4
    c = ms.constraint(bridge).values
    assert c["x"] == pytest.approx(0.5)  # two unconnected contacts, p = 1/2 each: 2 * (1/2)^2
    # a: contacts b, c (p = 1/2 each); indirect a-c-b: p_ac p_cb = 1/2 * 1/3 (c has three contacts), and
    # a-b-c: p_ab p_bc = 1/2 * 1/2. (1/2 + 1/6)^2 + (1/2 + 1/4)^2 = 4/9 + 9/16 = 145/144
    assert c["a"] == pytest.approx(145 / 144)
    es = ms.effective_size(bridge, weight=None).values
    assert es["x"] == pytest.approx(2.0)  # no ties among its contacts
    assert es["c"] == pytest.approx(3 - 2 * 1 / 3)  # contacts a, b, x with the one tie a-b


def test_bridge_structure_and_cores(bridge):
    s = ms.structure(bridge)
    assert len(s.components) == 1
    assert s.bridges == [("c", "x"), ("d", "x")]
    assert s.articulation_points == ["c", "d", "x"]
    assert set(ms.k_core(bridge).values.values()) == {2.0}
    assert set(ms.ego(bridge, "x")) == {"x", "c", "d"}
    assert set(ms.ego(bridge, "x", radius=2)) == set(bridge)


def test_bridge_communities(bridge):
    c = ms.communities(bridge)
    member = c.membership()
    assert member["a"] == member["b"] == member["c"]
    assert member["d"] == member["e"] == member["f"]
    assert member["a"] != member["d"]
    assert c.modularity > 0.3
    leiden = ms.communities(bridge, method="leiden")
    assert leiden.method == ("leiden" if ms.leiden_available() else "louvain")
    if not ms.leiden_available():
        assert "Louvain used instead" in leiden.note


def test_brokerage_by_hand(bridge):
    roles = ms.brokerage(bridge)  # groups: the `kind` attribute, A / X / B
    # x: c -> x -> d and d -> x -> c, three groups: liaison, counted in both directions
    assert roles["x"] == Counter(coordinator=0, gatekeeper=0, representative=0, consultant=0, liaison=2)
    # c (group A): a -> c -> x is representative (a, c in A; x outside), x -> c -> a gatekeeper; same for b.
    # a -> c -> b is not brokered (a-b tied).
    assert roles["c"] == Counter(coordinator=0, gatekeeper=2, representative=2, consultant=0, liaison=0)
    assert sum(roles["a"].values()) == 0
    path = nx.Graph([("p", "q"), ("q", "r")])
    same = ms.brokerage(path, {"p": 1, "q": 1, "r": 1})
    assert same["q"]["coordinator"] == 2
    assert ms.brokerage(path, {"p": 1, "q": 2, "r": 1})["q"]["consultant"] == 2
    directed = ms.brokerage(nx.DiGraph([("p", "q"), ("q", "r")]), {"p": 1, "q": 2, "r": 2})
    assert directed["q"] == Counter(coordinator=0, gatekeeper=1, representative=0, consultant=0, liaison=0)
    assert ms.brokerage(nx.DiGraph([("p", "q"), ("q", "r")]), {"p": 1, "q": 1, "r": 2})["q"]["representative"] == 1


def test_compute_by_name(bridge):
    out = ms.compute(bridge, ["degree", "betweenness", "liaison", "brokerage", "community"])
    assert out["liaison"].values["x"] == 2 and out["brokerage"].values["c"] == 4
    assert out["betweenness"].ranks()["x"] == 1
    assert out["degree"].ranks()["c"] == out["degree"].ranks()["d"] == 1  # ties share a rank
    assert out["degree"].ranks()["a"] == 3
    with pytest.raises(ValueError, match="unknown measure"):
        ms.compute(bridge, ["fame"])


# -- betweenness implementation ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def random_graph() -> nx.Graph:
    G = nx.gnm_random_graph(150, 400, seed=7)
    for i, (a, b) in enumerate(G.edges()):
        w = 1.0 + (i % 3)
        G.edges[a, b].update(weight=w, distance=1 / w)
    return G


@pytest.mark.parametrize("weight", ["weight", None])
def test_effective_size_equals_networkx(random_graph, weight):
    """Against NetworkX's node-by-node formula (its all-nodes sparse-matrix shortcut in 3.6 differs on a few
    weighted nodes of this graph, and needs an n x n dense array)."""
    G = random_graph.copy()
    G.add_node("alone")
    ours = ms.effective_size(G, weight=weight).values
    ref = nx.effective_size(G, nodes=list(G), weight=weight)
    isolates = {v for v in G if G.degree(v) == 0}
    assert "alone" in isolates and all(math.isnan(ours[v]) and math.isnan(ref[v]) for v in isolates)
    assert {v: ours[v] for v in G if v not in isolates} == pytest.approx({v: ref[v] for v in G if v not in isolates})


@pytest.mark.parametrize("weighted", [True, False])
def test_chunked_betweenness_equals_networkx(random_graph, weighted):
    ours = ms.betweenness(random_graph, weighted=weighted, chunks=7).values
    ref = nx.betweenness_centrality(random_graph, weight="distance" if weighted else None)
    assert ours == pytest.approx(ref, abs=1e-12)


def test_betweenness_in_two_processes(random_graph):
    ours = ms.betweenness(random_graph, workers=2, chunks=4).values
    assert ours == pytest.approx(nx.betweenness_centrality(random_graph, weight="distance"), abs=1e-12)


def test_sampled_betweenness_within_stated_error(random_graph):
    exact = ms.betweenness(random_graph).values
    seen = []
    for seed in range(3):
        est = ms.betweenness(random_graph, k=60, seed=seed, progress=lambda d, t: seen.append((d, t)))
        eps = est.extra["epsilon"]
        assert eps == pytest.approx(ms.betweenness_error(150, 60))
        assert "within +/-" in est.note
        error = max(abs(est.values[v] - exact[v]) for v in exact)
        assert error <= eps
        # the batch-means standard error is a typical error: the largest error is within a few of it
        assert 0 < est.extra["max_std_error"] and error <= 3 * est.extra["max_std_error"]
    assert seen[-1] == (60, 60)
    assert ms.samples_for_error(150, ms.betweenness_error(150, 60)) == 60
    assert ms.betweenness_error(150, 150) == 0.0


# -- properties on the real build --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def seed_graphs(built_dataset) -> list[nx.Graph]:
    data = nw.load_network_data(nw.load_store(built_dataset), settings=SETTINGS)
    return [g for g in (nw.stakeholder_network(data), nw.comention_network(data)) if g.number_of_nodes()]


def test_seed_measure_properties(seed_graphs):
    assert seed_graphs, "the build has no stakeholder network at all"
    for G in seed_graphs:
        out = ms.compute(
            G,
            [
                "degree",
                "betweenness",
                "pagerank",
                "closeness",
                "eigenvector",
                "k_core",
                "community",
                "brokerage",
                "gatekeeper",
                "representative",
                "constraint",
            ],
        )
        assert sum(out["pagerank"].values.values()) == pytest.approx(1.0)
        count = out["degree"].extra["count"]
        s = ms.structure(G)
        for v in G:
            assert out["k_core"].values[v] <= count[v]
            assert 0 <= out["betweenness"].values[v] <= 1 + 1e-9
            if count[v] == 1:
                assert out["betweenness"].values[v] == 0  # a leaf is on no shortest path
            c = out["constraint"].values[v]
            assert math.isnan(c) or c > 0
            # every ordered pair of non-adjacent neighbours is one brokered two-path
            assert out["brokerage"].values[v] == count[v] * (count[v] - 1) - 2 * nx.triangles(G, v)
            assert out["gatekeeper"].values[v] == out["representative"].values[v]
        for v in s.articulation_points:
            assert out["betweenness"].values[v] > 0  # a cut vertex lies on every path between its sides
        parts = out["community"].extra["communities"].communities
        assert sorted(v for c in parts for v in c) == sorted(G)
        assert sum(len(c) for c in s.components) == G.number_of_nodes()
        for a, b in s.bridges:
            H = G.copy()
            H.remove_edge(a, b)
            assert nx.number_connected_components(H) == len(s.components) + 1
