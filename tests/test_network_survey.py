"""Issue 12, partnership network: on the real build, the 2005 IOM questionnaire is a survey with respondents
(42 analysed, 6 received late), not a programme its respondents take part in; answering it is not a partnership
tie; ties projected from a shared group are weighted 1/(n-1) (Newman 2001) and every output says so; an unknown
stakeholder kind is an error that lists the valid ones."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter

import networkx as nx
import pytest
from click.testing import CliRunner

from graph import network as nw
from graph import network_export as ex
from graph.network_cli import command
from mdkg.settings import Settings

SETTINGS = Settings()  # plain defaults: this checkout's seeds and queries, the default base IRI

ID = "https://w3id.org/mdkg/id/"
M = "https://w3id.org/mdkg/ontology#"
SURVEY = f"{ID}iom-diaspora-questionnaire-2005"
# Footnote 20 of the IOM workshop report (seeds/documents/001_f469910f4dd50a5f.txt), read by hand.
ANALYSED = set(
    "DZA AUS AZE BGD BEN BIH BDI BGR CAN CPV CHL COL CRI CIV EST ETH DEU GRC HTI HND HUN IRQ KEN LTU MKD MEX "
    "MOZ PAK PER PHL PRT ROU RWA SCG SLE THA TUN VEN UKR URY ZMB ZWE".split()
)
LATE = {"BEL", "SLV", "IDN", "ITA", "MDG", "SDN"}


@pytest.fixture(scope="module")
def store(built_dataset):
    return nw.load_store(built_dataset)


@pytest.fixture(scope="module")
def data(store):
    return nw.load_network_data(store, comentions=False, settings=SETTINGS)


def responses(store) -> dict[str, str]:
    rows = store.query(
        f"SELECT ?iso3 ?status WHERE {{ ?r a <{M}SurveyResponse> ; <{M}survey> <{SURVEY}> ; "
        f"<{M}respondent> ?s ; <{M}responseStatus> ?status . ?s <{M}iso3166Alpha3> ?iso3 . "
        f"?s <{M}respondedTo> <{SURVEY}> }}",
        use_default_graph_as_union=True,
    )
    return {r["iso3"].value: r["status"].value.rsplit("/", 1)[-1] for r in rows}


def test_the_questionnaire_is_a_survey_with_42_analysed_and_6_late_respondents(store):
    got = responses(store)
    assert Counter(got.values()) == {"analysed": 42, "received-late": 6}
    assert {k for k, v in got.items() if v == "analysed"} == ANALYSED
    assert {k for k, v in got.items() if v == "received-late"} == LATE
    assert got["SCG"] == "analysed"  # Serbia and Montenegro, a respondent the first curation missed
    assert store.query(f"ASK {{ <{SURVEY}> a <{M}Survey> }}", use_default_graph_as_union=True)
    assert not store.query(f"ASK {{ <{SURVEY}> a <{M}Programme> }}", use_default_graph_as_union=True)
    # nobody "participates in" a survey any more
    assert not store.query(
        f"ASK {{ ?r a <{M}Participation> ; <{M}process> <{SURVEY}> }}", use_default_graph_as_union=True
    )


def test_each_response_quotes_the_footnote_verbatim(store):
    rows = store.query(
        f"SELECT ?quote ?status WHERE {{ ?r a <{M}SurveyResponse> ; <{M}quote> ?quote ; <{M}responseStatus> ?status }}",
        use_default_graph_as_union=True,
    )
    late = [r["quote"].value for r in rows if r["status"].value.endswith("/received-late")]
    assert late and all(
        "could not be incorporated into the data analysis because of their late arrival" in q for q in late
    )


def test_answering_the_survey_is_not_a_partnership_tie(data):
    G = nw.stakeholder_network(data)
    assert all("survey" not in d["kinds"] for *_, d in G.edges(data=True))
    assert all("iom-diaspora-questionnaire-2005" not in d["hubs"] for *_, d in G.edges(data=True))
    # Iraq and Azerbaijan had only answered the questionnaire: they were 12th and 15th by degree before
    assert "state/AZE" not in G and "state/IRQ" in G  # Iraq: IOM's out-of-country voting programme
    assert G.degree("state/IRQ", weight="weight") == pytest.approx(1.0)
    # the top 15 by weighted degree no longer hold a state whose ties all come from the survey
    top = sorted(G, key=lambda n: -G.degree(n, weight="weight"))[:15]
    assert "iom" in top and "state/AZE" not in top


def test_the_survey_can_be_asked_for_and_then_weighs_1_over_n_minus_1(data):
    G = nw.stakeholder_network(data, nw.Filters.make(relations=list(nw.RELATION_KINDS)))
    n = nw.group_sizes(data)["iom-diaspora-questionnaire-2005"]
    assert n == 48 + 1  # 42 analysed + 6 late respondents + IOM, which conducted it
    tie = G.edges["state/AZE", "state/BGD"]
    assert tie["kinds"] == ["survey"] and tie["hubs"] == ["iom-diaspora-questionnaire-2005"]
    assert tie["weight"] == pytest.approx(1 / (n - 1))
    counted = nw.stakeholder_network(data, nw.Filters.make(relations=list(nw.RELATION_KINDS)), projection="count")
    assert counted.edges["state/AZE", "state/BGD"]["weight"] == 1.0


def test_large_groups_do_not_swamp_direct_ties(data):
    """Every shared group adds n/2 to the total weighted degree, however many members it has, and no tie
    through groups alone outweighs the number of groups it runs through."""
    G = nw.stakeholder_network(data, direct=False)
    sizes = nw.group_sizes(data)
    for a, b, d in G.edges(data=True):
        assert d["weight"] == pytest.approx(sum(1 / (sizes[h] - 1) for h in d["hubs"])), (a, b)
        assert d["direct_weight"] == 0


def test_cli_says_how_ties_are_weighted_and_rejects_unknown_kinds(built_dataset, tmp_path):
    runner = CliRunner()
    out = runner.invoke(
        command,
        [
            "--data",
            str(built_dataset),
            "--measure",
            "degree",
            "--top",
            "15",
            "--json",
            str(tmp_path / "n.json"),
            "--graphml",
            str(tmp_path / "n.graphml"),
            "--gexf",
            str(tmp_path / "n.gexf"),
        ],
    )
    assert out.exit_code == 0, out.output
    assert "Tie weight: direct relationship = 1; shared group" in out.output and "1/(n-1)" in out.output
    assert "survey responses left out" in out.output
    rows = [line.split()[1] for line in out.output.splitlines() if line[:1].isdigit()]
    assert rows[0] == "iom" and "state/AZE" not in rows and "state/IRQ" not in rows
    meta = json.loads((tmp_path / "n.json").read_text(encoding="utf-8"))["graph"]
    assert "Newman 2001" in meta["weighting"]
    assert "Newman 2001" in nx.read_graphml(tmp_path / "n.graphml").graph["weighting"]
    root = ET.parse(tmp_path / "n.gexf").getroot()
    ns = {"g": root.tag.split("}")[0].strip("{")}
    assert "1/(n-1)" in root.find("g:meta/g:description", ns).text
    assert "1/(n-1)" in root.find("g:graph", ns).get("name")
    bad = runner.invoke(command, ["--data", str(built_dataset), "--kinds", "Diaspora"])
    assert bad.exit_code != 0
    assert "unknown stakeholder kind(s) Diaspora" in bad.output and "DiasporaOrganisation" in bad.output
    bad = runner.invoke(command, ["--data", str(built_dataset), "--list-kinds", "Statez"])
    assert bad.exit_code != 0 and "--list-kinds" in bad.output
    counted = runner.invoke(command, ["--data", str(built_dataset), "--projection", "count", "--top", "3"])
    assert counted.exit_code == 0 and "shared group = 1 whatever its size" in counted.output


def test_csv_carries_the_split_of_the_weight(data, tmp_path):
    G = nw.stakeholder_network(data)
    nodes, edges = ex.write_csv(G, tmp_path)
    R = ex.read_csv(nodes, edges)
    for *_, d in R.edges(data=True):
        assert d["weight"] == pytest.approx(d.get("direct_weight", 0) + d.get("shared_weight", 0))


def test_api_and_exports_say_how_ties_are_weighted(request):
    import httpx
    from test_pages import live_server

    base = live_server(request)
    net = httpx.get(f"{base}/api/network", timeout=120).json()
    assert "1/(n-1)" in net["weighting"] and "survey" not in net["relations"]
    assert all("survey" not in e["kinds"] for e in net["edges"])
    assert all(e["weight"] == pytest.approx(e["direct_weight"] + e["shared_weight"]) for e in net["edges"])
    assert {n["id"]: n["short"] for n in net["nodes"]}["unhcr"] == "UNHCR"  # not ACNUR
    asked = httpx.get(f"{base}/api/network", params=[("relation", "survey")], timeout=120).json()
    assert asked["relations"] == ["survey"] and any(n["id"] == "state/AZE" for n in asked["nodes"])
    bad = httpx.get(f"{base}/api/network", params={"kind": "Diaspora"}, timeout=60)
    assert bad.status_code == 422 and "DiasporaOrganisation" in bad.text
    graphml = httpx.get(f"{base}/api/network/export", params={"format": "graphml"}, timeout=120).text
    assert "Newman 2001" in graphml
    gexf = httpx.get(f"{base}/api/network/export", params={"format": "gexf"}, timeout=120).text
    assert "<description>tie weight: direct relationship = 1" in gexf
