"""graph/network.py: the network views built by SPARQL, on a hand-made fixture (exact edges, weights, kinds,
spells, filters) and on the real build (properties that hold whatever the curators add)."""

from __future__ import annotations

import itertools
from pathlib import Path

import networkx as nx
import pytest

from graph import network as nw
from mdkg.settings import Settings

SETTINGS = Settings()  # plain defaults: this checkout's seeds and queries, the default base IRI

FIXTURES = Path(__file__).parent / "fixtures" / "network"
ID = "https://w3id.org/mdkg/id/"
M = "https://w3id.org/mdkg/ontology#"


def edges(G: nx.Graph) -> dict[frozenset, dict]:
    return {frozenset((a, b)): d for a, b, d in G.edges(data=True)}


def pair(a: str, b: str) -> frozenset:
    return frozenset((a, b))


@pytest.fixture(scope="module")
def small() -> nw.NetworkData:
    return nw.load_network_data(nw.load_store(FIXTURES / "small.trig"), settings=SETTINGS)


# -- the fixture, worked out by hand ----------------------------------------------------------------------
def test_nodes_have_most_specific_kind(small):
    assert small.nodes["state/AAA"]["kind"] == "State"
    assert small.nodes["io1"]["kind"] == "InternationalOrganisation"
    assert small.nodes["diaspora1"]["kind"] == "DiasporaOrganisation"
    assert small.nodes["prog1"]["kind"] == "Programme"
    assert small.nodes["forum1"]["kind"] == "Process"
    assert "pers1" not in small.nodes  # a Person is neither stakeholder nor hub


def test_stakeholder_network_edges(small):
    G = nw.stakeholder_network(small)
    assert set(G) == {"state/AAA", "state/BBB", "state/CCC", "io1", "gov1", "diaspora1", "cso1"}
    E = edges(G)
    # p1 and p2 both name AAA and BBB as partners: two units; p1's via hub prog1 adds nothing (same tie).
    # prog1 has 4 members (AAA, BBB, io1, gov1): with Newman's weighting it adds 1/(4-1) to each pair.
    third = pytest.approx(1 / 3)
    expected = {
        pair("state/AAA", "state/BBB"): (2.0, ["partnership"]),
        pair("state/AAA", "state/CCC"): (1.0, ["agreement"]),  # shared Agreement agr1 (2 members: 1/1)
        pair("state/AAA", "io1"): (third, ["partnership", "programme"]),  # p1 via prog1; io1 implements prog1
        pair("state/BBB", "io1"): (third, ["partnership", "programme"]),
        pair("state/AAA", "gov1"): (third, ["funding", "partnership"]),  # gov1 funds prog1
        pair("state/BBB", "gov1"): (third, ["funding", "partnership"]),
        pair("io1", "gov1"): (third, ["funding", "programme"]),
        pair("io1", "diaspora1"): (1.0, ["forum"]),  # both participate in forum1 (the person does not count)
        pair("cso1", "io1"): (1.0, ["membership"]),  # direct: the body is an organisation
        pair("gov1", "diaspora1"): (1.0, ["funding"]),  # direct: the recipient is a stakeholder
    }
    assert {k: (d["weight"], d["kinds"]) for k, d in E.items()} == expected
    for d in E.values():
        assert d["distance"] == pytest.approx(1 / d["weight"])
        assert d["weight"] == pytest.approx(d["direct_weight"] + d["shared_weight"])
    assert E[pair("state/AAA", "state/BBB")]["direct_weight"] == 2.0
    assert E[pair("state/AAA", "io1")]["shared_weight"] == pytest.approx(1 / 3)
    assert "1/(n-1)" in G.graph["weighting"] and "Newman 2001" in G.graph["weighting"]


def test_count_projection_counts_one_per_group(small):
    G = nw.stakeholder_network(small, projection="count")
    E = edges(G)
    assert E[pair("state/AAA", "io1")]["weight"] == 1.0
    assert "= 1 whatever its size" in G.graph["weighting"]
    with pytest.raises(ValueError, match="projection"):
        nw.stakeholder_network(small, projection="jaccard")


def test_a_group_of_n_adds_n_over_2_to_the_total_strength(small):
    """Newman's weighting: whatever its size, a group adds n/2 to the sum of its members' weighted degrees
    (n(n-1)/2 pairs x 1/(n-1)), so one large group cannot outweigh the direct ties."""
    G = nw.interlocks(small, nw.Filters.make(relations=["programme", "funding", "partnership"]))
    assert sum(d for _, d in G.degree(weight="weight")) == pytest.approx(2 * 4 / 2)  # prog1 only, n = 4


def test_edge_evidence_relations_and_hubs(small):
    E = edges(nw.stakeholder_network(small))
    ab = E[pair("state/AAA", "state/BBB")]
    assert ab["relations"] == [f"{ID}rel/p1", f"{ID}rel/p2"]
    assert ab["evidence"] == [f"{ID}doc/d1/p1", f"{ID}doc/d2/p5"]
    assert ab["documents"] == ["doc/d1", "doc/d2"]
    assert ab["hubs"] == []
    ac = E[pair("state/AAA", "state/CCC")]
    assert ac["hubs"] == ["agr1"] and ac["relations"] == [f"{ID}rel/a1", f"{ID}rel/a2"]


def test_spells_from_partial_dates(small):
    E = edges(nw.stakeholder_network(small))
    assert E[pair("state/AAA", "state/BBB")]["spells"] == []  # p2 is undated: the tie holds at any time
    # p1 2001-2003 (gYear -> whole years) overlapped with io1 implementing prog1 from 2002
    assert E[pair("state/AAA", "io1")]["spells"] == [("2002-01-01", "2003-12-31")]
    assert E[pair("gov1", "diaspora1")]["spells"] == [("2005-03-01", None)]  # gYearMonth start, open end
    assert E[pair("state/AAA", "gov1")]["spells"] == [("2001-01-01", "2003-12-31")]  # f2 undated: p1's period


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (nw.Filters.make(relations=["partnership"]), {pair("state/AAA", "state/BBB"): 2.0}),
        (
            nw.Filters.make(kinds=["State"]),
            {pair("state/AAA", "state/BBB"): 2.0, pair("state/AAA", "state/CCC"): 1.0},
        ),
        (
            nw.Filters.make(documents=["d1"]),
            {pair("state/AAA", "state/BBB"): 1.0, pair("state/AAA", "state/CCC"): 1.0},
        ),
        (nw.Filters.make(themes=["remittances"]), {pair("state/AAA", "state/BBB"): 1.0}),
        # diaspora-engagement is tagged on the evidence passage of pa1/pa2, not on the relationships
        (nw.Filters.make(themes=["diaspora-engagement"]), {pair("io1", "diaspora1"): 1.0}),
        # from 2004: p1 (2001-2003) is out; undated and open-ended relationships stay
        (
            nw.Filters.make(start="2004"),
            {
                pair("state/AAA", "state/BBB"): 1.0,
                pair("state/AAA", "state/CCC"): 1.0,
                pair("io1", "gov1"): pytest.approx(1 / 3),
                pair("io1", "diaspora1"): 1.0,
                pair("cso1", "io1"): 1.0,
                pair("gov1", "diaspora1"): 1.0,
            },
        ),
        # up to 2001-06: i1 (from 2002) and f1 (from 2005-03) are out; prog1 still has 4 members (1/3)
        (
            nw.Filters.make(end="2001-06"),
            {
                pair("state/AAA", "state/BBB"): 2.0,
                pair("state/AAA", "state/CCC"): 1.0,
                pair("state/AAA", "gov1"): pytest.approx(1 / 3),
                pair("state/BBB", "gov1"): pytest.approx(1 / 3),
                pair("io1", "diaspora1"): 1.0,
                pair("cso1", "io1"): 1.0,
            },
        ),
    ],
)
def test_filters(small, filters, expected):
    assert {k: d["weight"] for k, d in edges(nw.stakeholder_network(small, filters)).items()} == expected


def test_filters_reject_bad_values():
    with pytest.raises(ValueError, match="relation kind"):
        nw.Filters.make(relations=["friendship"])
    with pytest.raises(ValueError, match=r"stakeholder kind\(s\) Diaspora; one of State, .*DiasporaOrganisation"):
        nw.Filters.make(kinds=["Diaspora"])
    assert nw.Filters.make(kinds=["Organisation"]).kinds == {"Organisation"}
    with pytest.raises(ValueError, match="not a date"):
        nw.Filters.make(start="2004-13")


def test_kind_weights(small):
    G = nw.stakeholder_network(small, kind_weights={"partnership": 3.0, "forum": 0.5})
    E = edges(G)
    assert E[pair("state/AAA", "state/BBB")]["weight"] == 6.0
    assert E[pair("io1", "diaspora1")]["weight"] == 0.5
    assert E[pair("state/AAA", "io1")]["weight"] == pytest.approx(3.0 / 3)  # strongest kind x its 1/(n-1)


def test_affiliation_network_and_interlocks(small):
    B = nw.affiliation_network(small)
    hubs = {n for n, d in B.nodes(data=True) if d["bipartite"] == 1}
    assert hubs == {"agr1", "prog1", "forum1"}
    assert set(B["prog1"]) == {"state/AAA", "state/BBB", "io1", "gov1"}
    assert set(B["forum1"]) == {"io1", "diaspora1"}
    inter = nw.interlocks(small)
    P = nx.bipartite.collaboration_weighted_projected_graph(B, [n for n in B if n not in hubs])  # Newman's
    assert {k: d["weight"] for k, d in edges(inter).items()} == {
        k: pytest.approx(d["weight"]) for k, d in edges(P).items()
    }
    counted = nw.interlocks(small, projection="count")
    P = nx.bipartite.weighted_projected_graph(B, [n for n in B if n not in hubs])
    assert {k: d["weight"] for k, d in edges(counted).items()} == {k: float(d["weight"]) for k, d in edges(P).items()}
    assert "cso1" not in inter  # only a direct membership: no shared hub


def test_comention_layer(small):
    C = nw.comention_network(small)
    E = edges(C)
    assert {k: d["weight"] for k, d in E.items()} == {
        pair("state/AAA", "state/BBB"): 2.0,
        pair("state/AAA", "io1"): 1.0,
        pair("state/BBB", "io1"): 1.0,
    }
    assert E[pair("state/AAA", "state/BBB")]["evidence"] == [f"{ID}doc/d1/p1", f"{ID}doc/d1/p2"]
    assert nw.comention_network(small, nw.Filters.make(start="2005")).number_of_edges() == 0  # d1 is of 2004
    assert set(edges(nw.comention_network(small, nw.Filters.make(themes=["remittances"])))) == {
        pair("state/AAA", "state/BBB"),
        pair("state/AAA", "io1"),
        pair("state/BBB", "io1"),
    }
    combined = edges(nw.combine(nw.stakeholder_network(small), C, factor=0.1))
    assert combined[pair("state/AAA", "state/BBB")]["weight"] == pytest.approx(2.2)
    assert "comention" in combined[pair("state/AAA", "state/BBB")]["kinds"]


def test_partial_date_bounds():
    assert nw._bounds("2003") == (nw.dt.date(2003, 1, 1), nw.dt.date(2003, 12, 31))
    assert nw._bounds("2004-02") == (nw.dt.date(2004, 2, 1), nw.dt.date(2004, 2, 29))
    assert nw.in_window("2002-01-01", None, nw.Filters.make(end="2002"))
    assert not nw.in_window("2002-01-01", None, nw.Filters.make(end="2001-12"))
    assert not nw.in_window(None, "2003-12-31", nw.Filters.make(start="2004"))


# -- the real build: properties ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def store(built_dataset):
    return nw.load_store(built_dataset)


@pytest.fixture(scope="module")
def data(store):
    return nw.load_network_data(store, settings=SETTINGS)


def _ask(store, query: str) -> bool:
    return bool(store.query(query, use_default_graph_as_union=True))


def test_seed_network_is_of_stakeholders_with_evidence(store, data):
    G = nw.stakeholder_network(data)
    passages = {
        str(s["p"].value)
        for s in store.query(f"SELECT ?p WHERE {{ ?p a <{M}Passage> }}", use_default_graph_as_union=True)
    }
    for n, d in G.nodes(data=True):
        assert "Stakeholder" in d["kinds"], n
        assert d["iri"].startswith(ID)
    for a, b, d in G.edges(data=True):
        assert a != b and d["weight"] > 0
        assert set(d["kinds"]) <= set(nw.RELATION_KINDS)
        assert d["relations"], (a, b)
        assert set(d["evidence"]) <= passages
        assert d["weight"] <= len(d["relations"]) + len(d["hubs"])


def test_seed_direct_ties_equal_shortcut_triples(store, data):
    """The direct ties are exactly the stakeholder pairs of the shortcut triples the build writes
    (mdkg:partnerOf, mdkg:memberOf, mdkg:funds), read here without the .rq files."""
    G = nw.stakeholder_network(data, shared=False)
    rows = store.query(
        f"SELECT DISTINCT ?a ?b WHERE {{ VALUES ?p {{ <{M}partnerOf> <{M}memberOf> <{M}funds> }} ?a ?p ?b . "
        f"?a a <{M}Stakeholder> . ?b a <{M}Stakeholder> . FILTER (?a != ?b) }}",
        use_default_graph_as_union=True,
    )
    expected = {pair(data.key(r["a"].value), data.key(r["b"].value)) for r in rows}
    assert set(edges(G)) == expected


def test_seed_shared_ties_are_shared_hubs(store, data):
    G = nw.stakeholder_network(data, direct=False)
    for a, b, d in itertools.islice(G.edges(data=True), 200):
        for hub in d["hubs"]:
            for s in (a, b):
                iri_s, iri_h = data.nodes[s]["iri"], data.nodes[hub]["iri"]
                assert _ask(store, f"ASK {{ ?r ?p1 <{iri_s}> ; ?p2 <{iri_h}> . ?r a <{M}Relationship> }}")


def test_seed_interlocks_are_the_weighted_projection(data):
    B = nw.affiliation_network(data)
    stakeholders = [n for n, d in B.nodes(data=True) if d["bipartite"] == 0]
    P = nx.bipartite.collaboration_weighted_projected_graph(B, stakeholders)
    inter = nw.interlocks(data)
    assert {k: d["weight"] for k, d in edges(inter).items()} == {
        k: pytest.approx(d["weight"]) for k, d in edges(P).items()
    }


def test_seed_comentions_are_in_one_passage(store, data):
    C = nw.comention_network(data)
    for a, b, d in itertools.islice(C.edges(data=True), 50):
        assert d["weight"] == len(d["evidence"])
        p = d["evidence"][0]
        assert _ask(store, f"ASK {{ <{p}> <{M}mentions> <{data.nodes[a]['iri']}> , <{data.nodes[b]['iri']}> }}")


def test_seed_filters_only_remove(data):
    full = edges(nw.stakeholder_network(data))
    for f in (
        nw.Filters.make(kinds=["State"]),
        nw.Filters.make(relations=["membership", "forum"]),
        nw.Filters.make(start="2005", end="2006"),
        nw.Filters.make(themes=["remittances"]),
    ):
        sub = edges(nw.stakeholder_network(data, f))
        assert set(sub) <= set(full)
        assert all(sub[k]["weight"] <= full[k]["weight"] + 1e-9 for k in sub)
    states = nw.stakeholder_network(data, nw.Filters.make(kinds=["State"]))
    assert all(d["kind"] == "State" for _, d in states.nodes(data=True))


def test_affiliation_period_and_overlap():
    def aff(start, end):
        return nw._Affiliation("programme", nw.Relation("r", start, end, None, None, (), frozenset()), "r")

    assert nw._cover([aff("2001-01-01", "2002-12-31"), aff("2005-01-01", None)]) == ("2001-01-01", None)
    assert nw._cover([aff("2001-01-01", "2002-12-31"), aff(None, None)]) is None  # undated: at any time
    assert nw._spell([("2001-01-01", "2003-12-31"), ("2002-01-01", None)]) == ("2002-01-01", "2003-12-31")
    assert nw._spell([("2001-01-01", "2001-12-31"), ("2002-01-01", None)]) is None  # no overlap
