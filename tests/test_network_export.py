"""graph/network_export.py and `mdkg network`: exports re-read by NetworkX equal the graph, GEXF time spells,
the picture, the RDF write-back queried with queries/network-top.rq, and the command on the real build."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner
from rdflib import URIRef

from graph import measures as ms
from graph import network as nw
from graph import network_export as ex
from graph.gaps import select
from graph.network_cli import command
from mdkg.settings import Settings

SETTINGS = Settings()  # plain defaults: this checkout's seeds and queries, the default base IRI

FIXTURES = Path(__file__).parent / "fixtures" / "network"
ID = "https://w3id.org/mdkg/id/"


def same(a: nx.Graph, b: nx.Graph) -> None:
    assert nx.utils.nodes_equal(a.nodes(data=True), b.nodes(data=True))
    assert nx.utils.edges_equal(a.edges(data=True), b.edges(data=True))
    assert {frozenset(e): d for *e, d in a.edges(data=True)} == {frozenset(e): d for *e, d in b.edges(data=True)}
    assert dict(a.nodes(data=True)) == dict(b.nodes(data=True))


@pytest.fixture(scope="module")
def small_store():
    return nw.load_store(FIXTURES / "small.trig")


@pytest.fixture(scope="module")
def scored(small_store) -> tuple[nx.Graph, dict[str, ms.Measure]]:
    G = nw.stakeholder_network(nw.load_network_data(small_store, settings=SETTINGS))
    measures = ms.compute(G, ["degree", "betweenness", "pagerank", "constraint", "community", "k_core"])
    ex.annotate(G, measures)
    return G, measures


def test_annotate(scored):
    G, measures = scored
    assert G.nodes["state/AAA"]["betweenness"] == measures["betweenness"].values["state/AAA"]
    assert isinstance(G.nodes["io1"]["community"], int)


def test_graphml_round_trip(scored, tmp_path):
    G, _ = scored
    same(nx.read_graphml(ex.write_graphml(G, tmp_path / "n.graphml")), ex.flat(G))


def test_gexf_round_trip_with_spells(scored, tmp_path):
    G, _ = scored
    path = ex.write_gexf(G, tmp_path / "n.gexf")
    text = path.read_text(encoding="utf-8")
    assert 'mode="dynamic"' in text and 'timeformat="date"' in text
    R = nx.read_gexf(path)
    H = ex.gexf_ready(G)
    # NetworkX's GEXF reader turns a missing (open) spell end into the string "None"; the file has no end.
    assert "None" not in text
    for _, d in [*R.nodes(data=True), *((None, d) for *_, d in R.edges(data=True))]:
        if "spells" in d:
            d["spells"] = [tuple(None if x == "None" else x for x in s) for s in d["spells"]]
    assert set(R) == set(H)
    assert {frozenset(e) for e in R.edges()} == {frozenset(e) for e in H.edges()}
    for a, b, d in H.edges(data=True):
        r = R.edges[a, b]
        assert r["weight"] == d["weight"] and r["kinds"] == d["kinds"] and r["evidence"] == d["evidence"]
        assert [tuple(s) for s in r.get("spells", [])] == d.get("spells", [])
    for n, d in H.nodes(data=True):
        assert R.nodes[n]["label"] == d["label"] and R.nodes[n]["betweenness"] == pytest.approx(d["betweenness"])
    # the AAA-io1 tie runs 2002-2003; gov1-diaspora1 from 2005-03
    assert R.edges["state/AAA", "io1"]["spells"] == [("2002-01-01", "2003-12-31")]
    assert R.edges["gov1", "diaspora1"]["spells"] == [("2005-03-01", None)]
    assert "spells" not in R.edges["state/AAA", "state/BBB"]  # an undated partnership: always present


def test_node_spells(scored):
    G, _ = scored
    assert ex.node_spells(G, "state/CCC") == []  # its only tie is undated
    H = nx.Graph()
    H.add_edge("p", "q", spells=[("2001-01-01", "2001-12-31")])
    H.add_edge("p", "r", spells=[("2003-01-01", None)])
    assert ex.node_spells(H, "p") == [("2001-01-01", None)]
    assert ex.node_spells(H, "q") == [("2001-01-01", "2001-12-31")]


def test_csv_round_trip(scored, tmp_path):
    G, _ = scored
    nodes, edges_ = ex.write_csv(G, tmp_path / "csv")
    same(ex.read_csv(nodes, edges_), ex.flat(G))


def test_json_round_trip(scored, tmp_path):
    G, _ = scored
    path = ex.write_json(G, tmp_path / "n.json", {"layer": "relations"})
    doc = json.loads(path.read_text(encoding="utf-8"))
    node = next(n for n in doc["nodes"] if n["id"] == "io1")
    assert {"label", "kind", "kinds", "community", "betweenness", "pagerank"} <= set(node)
    R = ex.read_json(path)
    assert R.graph["layer"] == "relations"
    same(R, ex.json_ready(G))


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_picture(scored, tmp_path, suffix):
    G, measures = scored
    path = ex.draw(G, tmp_path / f"n.{suffix}", measures["betweenness"].values, "test")
    head = path.read_bytes()[:200]
    assert head.startswith(b"\x89PNG") if suffix == "png" else b"<svg" in path.read_bytes()


def top(store, measure: str, layer: str, **params) -> list[dict]:
    """queries/network-top.rq: the entities by a written-back score."""
    iri = URIRef(ex.measure_iri(measure, settings=SETTINGS))
    return select(store, "network-top", measure=iri, layer=layer, settings=SETTINGS, **params)


def test_write_back_is_queryable(small_store, scored, tmp_path):
    G, measures = scored
    quads = ex.write_back(small_store, G, measures, "relations", settings=SETTINGS)
    graph = ex.analysis_graph(settings=SETTINGS)
    assert all(q.graph_name == graph for q in quads)
    rows = top(small_store, "betweenness", "relations")
    expected = measures["betweenness"].top()
    assert [r["entity"] for r in rows] == [ID + k for k, _ in expected]
    assert [float(r["value"]) for r in rows] == pytest.approx([v for _, v in expected])
    assert [r["rank"] for r in rows] == [measures["betweenness"].ranks()[k] for k, _ in expected]
    states = top(small_store, "degree", "relations", kind=URIRef("https://w3id.org/mdkg/ontology#State"))
    assert {r["entity"] for r in states} == {ID + "state/AAA", ID + "state/BBB", ID + "state/CCC"}
    # writing again replaces, it does not add
    before = len(list(small_store.quads_for_pattern(None, None, None, graph)))
    ex.write_back(small_store, G, measures, "relations", settings=SETTINGS)
    assert len(list(small_store.quads_for_pattern(None, None, None, graph))) == before
    saved = ex.save_quads(quads, tmp_path / "analysis.nq")
    assert len(saved.read_text(encoding="utf-8").splitlines()) == len(set(quads))


# -- the command on the real build ------------------------------------------------------------------------
def test_cli_on_the_build(built_dataset, tmp_path):
    runner = CliRunner()
    out = tmp_path / "out"
    out.mkdir()
    result = runner.invoke(
        command,
        [
            "--data",
            str(built_dataset),
            "--layer",
            "comentions",
            "--measure",
            "betweenness,degree",
            "--kinds",
            "State,InternationalOrganisation",
            "--top",
            "5",
            "--structure",
            "--graphml",
            str(out / "n.graphml"),
            "--gexf",
            str(out / "n.gexf"),
            "--csv",
            str(out / "csv"),
            "--json",
            str(out / "n.json"),
            "--picture",
            str(out / "n.png"),
            "--write-back",
            str(out / "a.nq"),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "by betweenness (comentions network)" in result.output
    assert "communities" in result.output and "bridges" in result.output
    lines = [line for line in result.output.splitlines() if line[:1].isdigit()]
    assert 1 <= len(lines) <= 5
    for name in ("n.graphml", "n.gexf", "csv/nodes.csv", "csv/edges.csv", "n.json", "n.png", "a.nq"):
        assert (out / name).stat().st_size > 0, name
    G = nx.read_graphml(out / "n.graphml")
    assert all(d["kind"] in ("State", "InternationalOrganisation") for _, d in G.nodes(data=True))
    R = ex.read_json(out / "n.json")
    assert set(R) == set(G)
    store = nw.load_store(out / "a.nq")
    rows = top(store, "betweenness", "comentions")
    assert len(rows) == G.number_of_nodes()
    assert rows[0]["rank"] == 1


def test_cli_sampled_and_errors(built_dataset):
    runner = CliRunner()
    result = runner.invoke(
        command,
        [
            "--data",
            str(built_dataset),
            "--layer",
            "comentions",
            "--measure",
            "betweenness",
            "--approx",
            "10",
            "--top",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "approximate betweenness: 10 of" in result.output  # the note, on stderr (mixed in by CliRunner)
    listed = runner.invoke(
        command,
        ["--data", str(built_dataset), "--layer", "comentions", "--list-kinds", "State", "--top", "0"],
    )
    assert listed.exit_code == 0 and "listed of" in listed.output
    rows = [line.split() for line in listed.output.splitlines() if line[:1].isdigit()]
    assert rows and all(r[1].startswith("state/") for r in rows)
    bad = runner.invoke(command, ["--data", str(built_dataset), "--measure", "fame"])
    assert bad.exit_code != 0 and "unknown measure" in bad.output
    bad = runner.invoke(command, ["--data", str(built_dataset), "--relations", "friendship"])
    assert bad.exit_code != 0 and "relation kind" in bad.output
    mentioned = runner.invoke(command, ["--data", str(built_dataset), "--layer", "comentions", "--top", "0"])
    first = next(line.split()[1] for line in mentioned.output.splitlines() if line.startswith("1 "))
    ego = runner.invoke(
        command,
        [
            "--data",
            str(built_dataset),
            "--layer",
            "comentions",
            "--ego",
            first,
            "--measure",
            "degree",
            "--top",
            "0",
        ],
    )
    assert ego.exit_code == 0, ego.output
    assert first in ego.output
    bad = runner.invoke(command, ["--data", str(built_dataset), "--layer", "comentions", "--ego", "nobody"])
    assert bad.exit_code != 0 and "not a node" in bad.output
    empty = runner.invoke(command, ["--data", str(built_dataset), "--documents", "no-such-document"])
    assert empty.exit_code == 0 and "empty" in empty.output
