"""The REST API on a live server: typed JSON answers, filters and paging, problem+json errors (404 for unknown
ids, 422 naming the bad parameter), the network and its exports, the evidence passages, the OpenAPI schema."""

from __future__ import annotations

import csv
import io
import json
import re

import httpx
import networkx as nx
import pytest
from test_pages import live_server

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def base(request) -> str:
    return live_server(request)


def get(base: str, path: str, **params) -> httpx.Response:
    return httpx.get(base + path, params=params, timeout=120)


def ok(r: httpx.Response) -> dict:
    assert r.status_code == 200, (r.status_code, r.text[:500])
    return r.json()


def problem(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_stakeholders_text_search_over_names_aliases_and_acronyms(base):
    body = ok(get(base, "/api/stakeholders", q="iom"))
    assert body["items"][0]["id"] == "iom"
    assert body["items"][0]["href"] == "/id/iom"
    assert body["total"] == len(body["items"])
    # an alias: "United Mexican States" is Mexico's
    body = ok(get(base, "/api/stakeholders", q="united mexican"))
    assert [i["id"] for i in body["items"]] == ["state/MEX"]
    assert body["items"][0]["matched_alias"] == "United Mexican States"


def test_stakeholders_filters(base):
    body = ok(get(base, "/api/stakeholders", kind="State", per_page=200))
    assert body["total"] > 150 and all(i["kind"] == "State" for i in body["items"])
    body = ok(httpx.get(base + "/api/stakeholders?kind=GovernmentAgency&kind=DiasporaOrganisation&per_page=200"))
    assert {i["kind"] for i in body["items"]} == {"GovernmentAgency", "DiasporaOrganisation"}
    body = ok(get(base, "/api/stakeholders", state="MEX", kind="GovernmentAgency"))
    assert "ime" in [i["id"] for i in body["items"]]
    body = ok(get(base, "/api/stakeholders", theme="diaspora-engagement", per_page=200))
    assert body["total"] > 5


def test_stakeholders_paging(base):
    all_ = ok(get(base, "/api/stakeholders", kind="State", per_page=200))
    p1 = ok(get(base, "/api/stakeholders", kind="State", per_page=10, page=1))
    p2 = ok(get(base, "/api/stakeholders", kind="State", per_page=10, page=2))
    assert p1["total"] == p2["total"] == all_["total"]
    assert [i["id"] for i in p1["items"] + p2["items"]] == [i["id"] for i in all_["items"][:20]]
    far = ok(get(base, "/api/stakeholders", kind="State", page=1000))
    assert far["items"] == [] and far["total"] == all_["total"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kind": "Planet"}, "kind"),
        ({"state": "MEXX"}, "state"),
        ({"per_page": "0"}, "per_page"),
        ({"page": "x"}, "page"),
        ({"theme": "Not A Slug"}, "theme"),
    ],
)
def test_stakeholders_bad_parameters_are_422_naming_the_field(base, params, field):
    body = problem(get(base, "/api/stakeholders", **params), 422)
    assert field in body["detail"]
    assert any(e["field"].endswith(field) for e in body["errors"])


def test_entity_with_neighbours_and_evidence(base):
    body = ok(get(base, "/api/entities/iom"))
    assert body["label"] == "International Organization for Migration"
    assert body["kind"] == "InternationalOrganisation"
    partners = {n["id"] for n in body["neighbours"] if n["property"].endswith("#partnerOf")}
    assert {"state/EGY", "state/ITA"} <= partners
    egypt = next(n for n in body["neighbours"] if n["id"] == "state/EGY")
    assert egypt["label"] == "Egypt" and egypt["property_label"]
    imis = next(r for r in body["relationships"] if r["label"] == "Implementation: IOM – IMIS")
    assert "Integrated Migration Information System" in imis["quote"]
    assert imis["passage_api"] == "/api/documents/iom-idm-2005/passages/287"
    assert {p["iri"].rsplit("/", 1)[1] for p in imis["participants"]} == {"imis"}
    assert any(i["count"] > 10 for i in body["inverse"])
    # neighbours both ways: IOM's sub-organisations point at it
    inbound = [n for n in body["neighbours"] if n["direction"] == "in"]
    assert any(n["property"].endswith("#subOrganizationOf") for n in inbound)
    assert not any(re.search(r"/rel/[0-9a-f]{12}$", n["iri"]) for n in inbound)  # those come with evidence
    assert not ok(get(base, "/api/entities/iom", neighbours=3))["neighbours"][3:]


def test_entity_ids_with_slashes_and_unknown_ids(base):
    assert ok(get(base, "/api/entities/state/MEX"))["label"] == "Mexico"
    body = problem(get(base, "/api/entities/no-such-entity"), 404)
    assert "no-such-entity" in body["detail"]


def test_instrument_status_as_of(base):
    body = ok(get(base, "/api/instruments/icrmw/status", as_of="2005-10-01"))
    states = {s["iso3"]: s for s in body["states"]}
    assert states["MEX"]["status"] == "party" and states["MEX"]["numeric"] == "484"
    assert states["USA"]["status"] in ("no-action", "signatory")
    assert sum(body["counts"].values()) == len(body["states"])
    before = ok(get(base, "/api/instruments/icrmw/status", as_of="1995-01-01"))
    assert before["counts"]["party"] < body["counts"]["party"]
    assert {s["iso3"]: s for s in before["states"]}["MEX"]["status"] == "signatory"


def test_instrument_status_errors(base):
    body = problem(get(base, "/api/instruments/icrmw/status", as_of="2005-02-30"), 422)
    assert "as_of" in body["detail"]
    body = problem(get(base, "/api/instruments/no-such-treaty/status"), 404)
    assert "icrmw" in body["detail"]  # lists the known instruments


def test_timeline(base):
    body = ok(get(base, "/api/instruments/icrmw/timeline"))
    years = {y["year"]: y for y in body["years"]}
    assert years[2003]["state_parties"] >= 20  # in force on 1 July 2003, after the 20th ratification


def test_gaps_report_and_csv(base):
    body = ok(get(base, "/api/gaps", instrument="icrmw", as_of="2005-10-01"))
    report = body["reports"][0]
    assert report["instrument"]["id"] == "icrmw"
    assert report["parties"] + len(report["gaps"]) == report["states"]
    assert "MEX" not in {s["iso3"] for s in report["gaps"]}
    assert "USA" in {s["iso3"] for s in report["gaps"]}
    r = get(base, "/api/gaps", instrument="icrmw", as_of="2005-10-01", format="csv")
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == len(report["gaps"]) and rows[0]["instrument"] == "icrmw"
    regions = ok(get(base, "/api/gaps", instrument="icrmw", as_of="2005-10-01", by="region"))
    assert sum(g["non_parties"] for g in regions["reports"][0]["regions"]) == len(report["gaps"])


def test_gaps_errors(base):
    body = problem(get(base, "/api/gaps"), 422)
    assert "instrument" in body["detail"]
    problem(get(base, "/api/gaps", instrument="no-such-treaty"), 404)
    body = problem(get(base, "/api/gaps", instrument="icrmw", scope="galaxy"), 422)
    assert "scope" in body["detail"]


def test_network_with_layout_scores_and_communities(base):
    body = ok(get(base, "/api/network", measure="betweenness"))
    assert len(body["nodes"]) > 50 and len(body["edges"]) > 50
    ids = {n["id"] for n in body["nodes"]}
    assert "iom" in ids and "state/MEX" in ids
    assert all(e["source"] in ids and e["target"] in ids for e in body["edges"])
    assert body["communities"] > 1 and "betweenness" in body["note"]
    states = ok(httpx.get(base + "/api/network?kind=State", timeout=120))
    assert {n["kind"] for n in states["nodes"]} == {"State"}
    problem(get(base, "/api/network", measure="shoe-size"), 422)
    problem(get(base, "/api/network", relation="friendship"), 422)


@pytest.mark.parametrize("fmt", ["graphml", "gexf", "csv", "json"])
def test_network_exports(base, fmt, tmp_path):
    r = get(base, "/api/network/export", format=fmt)
    assert r.status_code == 200
    assert "attachment" in r.headers["content-disposition"]
    path = tmp_path / f"net.{fmt}"
    path.write_bytes(r.content)
    if fmt == "graphml":
        G = nx.read_graphml(path)
    elif fmt == "gexf":
        G = nx.read_gexf(path)
    elif fmt == "json":
        G = nx.node_link_graph(json.loads(r.text), edges="links")
    else:
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert {"source", "target", "weight"} <= set(rows[0])
        G = nx.Graph((row["source"], row["target"]) for row in rows)
    assert G.number_of_nodes() > 50 and "iom" in G
    if fmt != "csv":
        assert "degree" in G.nodes["iom"] and "community" in G.nodes["iom"]


def test_passages(base):
    body = ok(get(base, "/api/documents/iom-idm-2005/passages/287"))
    assert "Integrated Migration Information System" in body["text"]
    assert body["href"] == "/id/doc/iom-idm-2005/p287"
    assert any(e["label"].startswith("Implementation: IOM") for e in body["evidence_for"])
    problem(get(base, "/api/documents/iom-idm-2005/passages/99999"), 404)
    problem(get(base, "/api/documents/iom-idm-2005/passages/0"), 422)


def test_health_and_openapi(base):
    assert ok(get(base, "/api/health"))["status"] == "ok"
    schema = ok(get(base, "/api/openapi.json"))
    paths = schema["paths"]
    for p in (
        "/api/stakeholders",
        "/api/entities/{id}",
        "/api/instruments/{id}/status",
        "/api/gaps",
        "/api/network",
        "/api/network/export",
        "/api/documents/{id}/passages/{n}",
        "/api/health",
    ):
        assert p in paths, p
    ok_schema = paths["/api/stakeholders"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok_schema["$ref"].endswith("/StakeholderPage")
    assert "/sparql" not in paths  # the endpoint documents itself (service description)
