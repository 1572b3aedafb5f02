"""Figures as data (ingest/figures.py, graph/figures.py, queries/figures*.rq, api/figures.py): the seed files'
checks with file and line, the Data Cube integrity constraints on the built graph, and the same answers from
SPARQL, the command line and the REST API of a live server."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from decimal import Decimal
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
import yaml
from click.testing import CliRunner
from test_pages import live_server

from graph import entities as E
from graph import figures as F
from graph.gaps import load_query, load_store
from ingest.build import build
from ingest.documents import load_documents
from ingest.errors import SeedErrors
from ingest.figures import load_figures, parse_period, written_numbers
from ingest.ontology import load_ontology
from ingest.registry import load_registry
from ingest.states import reference_states
from mdkg.cli import main
from mdkg.settings import Settings

SETTINGS = Settings()  # plain defaults: this checkout's seeds and queries, the default base IRI

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds" / "figures"
ID = "https://w3id.org/mdkg/id/"
QB = "http://purl.org/linked-data/cube#"
PREFIXES = f"PREFIX qb: <{QB}>\n"
# The W3C RDF Data Cube integrity constraints that apply to mdkg's data set (section 11.1 of the
# Recommendation), in the normalised form, accepting the abbreviated component form (qb:dimension) too.
COMPONENT = "qb:structure/qb:component/(qb:componentProperty|qb:dimension)"
IC = {
    "IC-1": """ASK { { ?obs a qb:Observation . FILTER NOT EXISTS { ?obs qb:dataSet ?d1 } }
              UNION { ?obs a qb:Observation ; qb:dataSet ?d1, ?d2 . FILTER (?d1 != ?d2) } }""",
    "IC-2": """ASK { { ?ds a qb:DataSet . FILTER NOT EXISTS { ?ds qb:structure ?s1 } }
              UNION { ?ds a qb:DataSet ; qb:structure ?s1, ?s2 . FILTER (?s1 != ?s2) } }""",
    "IC-11": f"""ASK {{ ?obs qb:dataSet/{COMPONENT} ?dim . ?dim a qb:DimensionProperty .
               FILTER NOT EXISTS {{ ?obs ?dim [] }} }}""",
    "IC-12": f"""ASK {{ FILTER (?allEqual) {{
               SELECT (MIN(?equal) AS ?allEqual) WHERE {{
                 ?obs1 qb:dataSet ?ds . ?obs2 qb:dataSet ?ds . FILTER (?obs1 != ?obs2)
                 ?ds {COMPONENT} ?dim . ?dim a qb:DimensionProperty .
                 ?obs1 ?dim ?v1 . ?obs2 ?dim ?v2 . BIND (?v1 = ?v2 AS ?equal) }}
               GROUP BY ?obs1 ?obs2 }} }}""",
}


@pytest.fixture(scope="module")
def stages():
    ontology = load_ontology(SETTINGS.ontology_dir, SETTINGS.ns.base)
    docs = load_documents(SETTINGS.seeds)
    themes = ontology.concepts("theme")
    registry = load_registry(SETTINGS.seeds / "registry", ontology, themes, reference_states(SETTINGS))
    return docs, registry, ontology


@pytest.fixture(scope="module")
def store(built_dataset) -> ox.Store:
    return load_store(built_dataset)


def _errors(tmp_path: Path, stages, figures: list[dict], document: str = "south-centre-2006") -> list[str]:
    folder = tmp_path / "figures"
    folder.mkdir(exist_ok=True)
    (folder / "x.yaml").write_text(yaml.safe_dump({"document": document, "figures": figures}, sort_keys=False,
                                                  allow_unicode=True), encoding="utf-8")
    with pytest.raises(SeedErrors) as e:
        load_figures(folder, *stages)
    return [str(x) for x in e.value.errors]


GOOD = {"indicator": "migrant-stock", "area": "world", "period": 2005, "value": 191000000,
        "quote": "Roughly 191 million people, or 3% of world's population in 2005, are considered migrants."}


# -- numbers as written -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "value"), [
    ("more than 185 million people", "185000000"), ("three per cent of the world population", "3"),
    ("3,000 individuals", "3000"), ("US$ 206 billion", "206000000000"), ("\\$1.5 million", "1500000"),
    ("About 80 to 97 million migrants", "80000000"), ("between 200 and 500 million US dollars", "200000000"),
    ("one third of the population", "33.3"), ("nearly one in every ten persons", "10"),
    ("one in seventy in developing regions", "1.4"), ("has more than doubled since 1975", "2"),
    ("over a thousand Turkish migrant associations", "1000"), ("any target to halve", "50"),
    ("€10,000 if they return", "10000"), ("45.7% in the developing world", "45.7"),
])
def test_values_are_read_as_the_texts_write_them(text, value):
    assert any(w.matches(Decimal(value)) for w in written_numbers(text)), [w.value for w in written_numbers(text)]


@pytest.mark.parametrize(("text", "value"), [
    ("more than 185 million people", "18500000"), ("three per cent", "30"), ("one third", "30"),
    ("About 80 to 97 million", "97000"), ("the 25 EU member countries", "2.5"),
])
def test_a_value_not_written_is_not_found(text, value):
    assert not any(w.matches(Decimal(value)) for w in written_numbers(text))


def test_periods():
    assert parse_period("2005-10-01").start == parse_period("2005-10-01").end
    p = parse_period("1995/2000")
    assert (p.start.isoformat(), p.end.isoformat()) == ("1995-01-01", "2000-12-31")
    assert parse_period("2006/..").end is None
    assert parse_period("2004-02").end.isoformat() == "2004-02-29"
    for bad in ("2005-13", "2000/1995", "2005-02-30", "5 May 2005", "2005/"):
        with pytest.raises(ValueError):
            parse_period(bad)


# -- bad input: every error with file, line and field; nothing emitted ---------------------------------
@pytest.mark.parametrize(("change", "field", "message"), [
    ({"value": 190000000}, "value", "190000000 is not written in the quote"),
    ({"indicator": "migrant-stocks"}, "indicator", "unknown indicator 'migrant-stocks'"),
    ({"unit": "people"}, "unit", "unknown unit 'people'"),
    ({"area": "atlantis"}, "area", "unknown area 'atlantis'"),
    ({"period": "2005-13"}, "period", "bad date '2005-13'"),
    ({"period": "2005/2001"}, "period", "impossible period '2005/2001'"),
    ({"period": 2030}, "period", "after the document's date"),
    ({"value": -191000000}, "value", "negative"),
    ({"value": 191000000.5}, "value", "not a whole number"),
    ({"qualifiers": ["maybe"]}, "qualifiers", "unknown qualifier 'maybe'"),
    ({"upper": 3}, "upper", "must be above the value"),
    ({"quote": "Roughly 191 million people live abroad."}, "quote", "quote not found"),
    ({"colour": "red"}, "colour", "unknown field"),
    ({"breakdown": "Women Only"}, "breakdown", "slug"),
])
def test_bad_figures_are_reported_with_file_line_and_field(tmp_path, stages, change, field, message):
    errors = _errors(tmp_path, stages, [GOOD, {**GOOD, "breakdown": "other", **change}])
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{tmp_path / 'figures' / 'x.yaml'}:"), errors
    line = int(errors[0].split(":")[1])
    lines = (tmp_path / "figures" / "x.yaml").read_text(encoding="utf-8").splitlines()
    assert lines[line - 1].lstrip("- ").startswith(f"{field}:"), (line, lines[line - 1])
    assert f"{field}: " in errors[0] and message in errors[0], errors


def test_a_figure_about_the_future_needs_a_forward_qualifier(tmp_path, stages):
    quote = "the population of the EU-25 is estimated to drop from 455 million to less than 400 million by 2050"
    fig = {"indicator": "population", "area": "eu", "period": 2050, "value": 400000000, "quote": quote}
    errors = _errors(tmp_path, stages, [fig], "iom-idm-2005")
    assert "needs the qualifier projected or target" in errors[0]
    folder = tmp_path / "figures"
    (folder / "x.yaml").write_text(yaml.safe_dump({"document": "iom-idm-2005", "figures": [
        {**fig, "qualifiers": ["less-than", "projected"]}]}), encoding="utf-8")
    assert len(load_figures(folder, *stages)) == 1


def test_the_same_figure_twice_is_an_error_and_all_errors_come_at_once(tmp_path, stages):
    errors = _errors(tmp_path, stages, [GOOD, GOOD, {**GOOD, "breakdown": "x", "unit": "people"}])
    assert len(errors) == 2
    assert "same indicator, area, period and breakdown from the same passage" in errors[0]
    assert "unknown unit" in errors[1]


def test_a_bad_figure_fails_the_build_and_keeps_the_last_good_one(tmp_path):
    root = tmp_path / "root"
    for name in ("ontology", "shapes", "seeds"):
        shutil.copytree(ROOT / name, root / name)
    path = root / "seeds" / "figures" / "iom-idm-2005.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("value: 185000000", "value: 186000000", 1),
                    encoding="utf-8")
    settings = Settings(root=root, build_dir=tmp_path / "build")
    with pytest.raises(SeedErrors) as e:
        build(settings)
    assert [str(x) for x in e.value.errors] == [
        f"{path}:{_line_of(path, 'value: 186000000')}: value: 186000000 is not written in the quote (it writes "
        "185, 185000000, 3)"]
    assert not (tmp_path / "build" / "current").exists()
    assert not list((tmp_path / "build").glob("runs/*"))


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


# -- the curated figures on the built graph ------------------------------------------------------------------
def test_every_curated_figure_is_an_observation(built, store):
    seeded = Counter()
    for path in SEEDS.glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        seeded[data["document"]] += len(data["figures"])
    assert Counter(f.doc.id for f in built.figures) == seeded
    assert set(seeded) == {"bakewell-bellagio", "iom-idm-2005", "gfmd-csd-2007", "delgado-wise-castles",
                           "south-centre-2006"}
    n = store.query(f"SELECT (COUNT(?o) AS ?n) WHERE {{ ?o a <{QB}Observation> }}", use_default_graph_as_union=True)
    assert int(next(iter(n))["n"].value) == sum(seeded.values())
    summary = json.loads((built.folder / "report" / "summary.json").read_text(encoding="utf-8"))
    assert summary["figures"]["per_document"] == dict(sorted(seeded.items()))
    assert sum(summary["figures"]["per_indicator"].values()) == sum(seeded.values())


def test_the_shapes_validate_every_observation(built, store):
    assert not [f for f in built.findings if f.severity == "Violation"]
    shapes = (ROOT / "shapes" / "figures-shapes.ttl").read_text(encoding="utf-8")
    assert "sh:targetClass qb:Observation" in shapes and "IC-12" in shapes


@pytest.mark.parametrize("ic", sorted(IC))
def test_data_cube_integrity_constraints_hold(store, ic):
    assert not bool(store.query(PREFIXES + IC[ic], use_default_graph_as_union=True))


@pytest.mark.parametrize(("ic", "update"), [
    ("IC-1", f"DELETE WHERE {{ GRAPH ?g {{ <{ID}figure/X> <{QB}dataSet> ?d }} }}"),
    ("IC-2", f"INSERT DATA {{ GRAPH <urn:t> {{ <{ID}dataset/figures> <{QB}structure> <urn:other> }} }}"),
    ("IC-11", f"DELETE WHERE {{ GRAPH ?g {{ <{ID}figure/X> <https://w3id.org/mdkg/ontology#breakdown> ?b }} }}"),
    ("IC-12", "COPY"),
])
def test_the_integrity_constraint_queries_catch_a_violation(built_dataset, store, ic, update):
    """The checks above can fail: each one answers true on a copy of the graph broken the way it forbids."""
    broken = load_store(built_dataset)
    first = next(iter(store.query(f"SELECT ?o WHERE {{ ?o a <{QB}Observation> }} ORDER BY ?o LIMIT 1",
                                  use_default_graph_as_union=True)))["o"].value
    if update == "COPY":  # a second observation with the same dimension values
        update = f"""INSERT {{ GRAPH <urn:t> {{ <urn:copy> ?p ?o }} }} WHERE {{ GRAPH ?g {{ <{first}> ?p ?o }} }}"""
    broken.update(update.replace(f"{ID}figure/X", first))
    assert bool(broken.query(PREFIXES + IC[ic], use_default_graph_as_union=True))


def test_comparisons_and_record_checks(store):
    pairs = F.comparisons(store, settings=SETTINGS)
    disagree = {(c.indicator, c.area, c.value_a, c.value_b) for c in pairs if c.verdict == "disagrees"}
    billion = Decimal(10) ** 9
    assert disagree == {("remittance-inflows", "developing-countries", 206 * billion, 226 * billion),
                        ("remittance-inflows", "developing-countries", 206 * billion, 167 * billion),
                        ("remittance-inflows", "developing-countries", 167 * billion, 226 * billion)}
    verdicts = {(c.indicator, c.area): c.verdict for c in pairs}
    assert verdicts[("migrant-stock", "world")] == "consistent"  # "more than 185 million" / "roughly 191 million"
    assert verdicts[("states-parties", "icrmw")] == "same"
    checks = {(r.instrument, r.period): r for r in F.record_checks(store, settings=SETTINGS)}
    assert checks[("icrmw", "2005-10-01")].agrees and checks[("icrmw", "2005-10-01")].recorded_at_end == 33
    assert checks[("icrmw", "2007")].agrees  # 34 held from 22 January 2007 (the 35th party came later)
    assert not checks[("tip-protocol", "2006")].agrees
    assert checks[("tip-protocol", "2006")].verdict.startswith("disagrees")
    assert not checks[("som-protocol", "2006")].agrees


# -- the same answers from SPARQL, the command line and REST ------------------------------------------------
def _rows(store: ox.Store, name: str) -> list[dict]:
    solutions = store.query(load_query(name, settings=SETTINGS), use_default_graph_as_union=True)
    names = [v.value for v in solutions.variables]
    return [{n: (s[n].value if s[n] is not None else None) for n in names} for s in solutions]


@pytest.fixture(scope="module")
def base(request) -> str:
    return live_server(request)


def test_sparql_cli_and_rest_give_the_same_figures(base, built_dataset, store, tmp_path):
    sparql = {(r["obs"], Decimal(r["value"])) for r in _rows(store, "figures")}
    out = tmp_path / "f.json"
    result = CliRunner().invoke(main, ["figures", "--data", str(built_dataset), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith(f"{len(sparql)} figure(s)")
    cli = {(f["iri"], Decimal(str(f["value"]))) for f in json.loads(out.read_text(encoding="utf-8"))}
    r = httpx.get(f"{base}/api/figures", timeout=60)
    assert r.status_code == 200, r.text
    rest = {(f["iri"], Decimal(str(f["value"]))) for f in r.json()["figures"]}
    endpoint = httpx.post(f"{base}/sparql", data={"query": load_query("figures", settings=SETTINGS)},
                          headers={"Accept": "application/sparql-results+json"}, timeout=60).json()
    over_http = {(b["obs"]["value"], Decimal(b["value"]["value"])) for b in endpoint["results"]["bindings"]}
    assert sparql == cli == rest == over_http
    assert len(sparql) == r.json()["count"] > 150


def test_rest_filters_by_indicator_area_and_period(base, store):
    r = httpx.get(f"{base}/api/figures", params={"indicator": "remittance-inflows", "area": "developing-countries",
                                                   "from": "2006-01-01", "to": "2006-12-31"}, timeout=60)
    assert r.status_code == 200
    values = sorted(f["value"] for f in r.json()["figures"])
    assert values == [167e9, 206e9, 226e9]
    assert {f["document"] for f in r.json()["figures"]} == {"south-centre-2006", "gfmd-csd-2007"}
    rows = F.figures(store, "remittance-inflows", "developing-countries", settings=SETTINGS)
    assert values == sorted(float(f.value) for f in rows)
    mex = httpx.get(f"{base}/api/figures", params={"area": "MEX"}, timeout=60).json()
    assert [(f["indicator"], f["value"]) for f in mex["figures"]] == [("remittance-inflows", 20e9)]
    early = httpx.get(f"{base}/api/figures", params={"to": "1990-12-31"}, timeout=60).json()["figures"]
    assert early and all(f["period_start"] <= "1990-12-31" for f in early)
    csv_text = httpx.get(f"{base}/api/figures", params={"indicator": "migrant-stock", "format": "csv"},
                         timeout=60).text
    assert csv_text.count("\r\n") == 3 and "185000000" in csv_text and "191000000" in csv_text
    assert httpx.get(f"{base}/api/figures", params={"indicator": "nope"}, timeout=60).status_code == 404
    assert httpx.get(f"{base}/api/figures", params={"from": "2005-13-01"}, timeout=60).status_code == 422


def test_rest_and_cli_give_the_same_comparisons_and_record_checks(base, built_dataset, tmp_path):
    out = tmp_path / "c.json"
    assert CliRunner().invoke(main, ["figures", "--data", str(built_dataset), "--compare", "--json",
                                     str(out)]).exit_code == 0
    rest = httpx.get(f"{base}/api/figures/comparisons", timeout=60).json()
    assert rest == json.loads(out.read_text(encoding="utf-8"))
    assert sum(c["verdict"] == "disagrees" for c in rest) == 3
    assert CliRunner().invoke(main, ["figures", "--data", str(built_dataset), "--check-record", "--json",
                                     str(out)]).exit_code == 0
    assert httpx.get(f"{base}/api/figures/record-checks", timeout=60).json() == \
        json.loads(out.read_text(encoding="utf-8"))


def test_figures_page_entity_section_and_dataset_iri(base):
    html = httpx.get(f"{base}/figures", timeout=60).text
    assert html.count("<svg") >= 20 and 'id="comparisons"' in html and "disagrees" in html
    assert "Roughly 191 million people" in html
    one = httpx.get(f"{base}/figures", params={"indicator": "states-parties"}, timeout=60).text
    assert 'id="indicator-states-parties"' in one and 'id="indicator-migrant-stock"' not in one
    assert httpx.get(f"{base}/figures", params={"area": "x>y"}, timeout=60).status_code == 422
    mex = httpx.get(f"{base}/id/state/MEX", headers={"Accept": "text/html"}, timeout=60).text
    assert 'id="figures"' in mex and "remittance inflows" in mex
    doc = httpx.get(f"{base}/id/doc/gfmd-csd-2007", headers={"Accept": "text/html"}, timeout=60).text
    assert doc.count("/figures?indicator=") == 8  # the eight figures of the Civil Society Day report
    ind = httpx.get(f"{base}/id/indicator/migrant-stock", headers={"Accept": "text/html"}, timeout=60).text
    assert 'id="figures"' in ind and "191000000" in ind
    ttl = httpx.get(f"{base}/id/dataset/figures", headers={"Accept": "text/turtle"}, timeout=60)
    assert ttl.status_code == 200 and "figuresStructure" in ttl.text
    dsd = httpx.get(f"{base}/ontology", headers={"Accept": "text/turtle"}, timeout=60).text
    assert "figuresStructure" in dsd and "DataStructureDefinition" in dsd


class CountingStore:
    def __init__(self, store: ox.Store):
        self.store, self.queries = store, 0

    def query(self, text: str, **kwargs):
        self.queries += 1
        return self.store.query(text, **kwargs)


def test_an_entity_page_asks_for_figures_only_where_an_observation_points(store):
    # the page passes the predicates pointing at the entity: the same figures, and no query where none can be
    areas = {r["a"].value for r in store.query(
        "SELECT DISTINCT ?a WHERE { ?o <http://purl.org/linked-data/sdmx/2009/dimension#refArea> ?a }",
        use_default_graph_as_union=True)}
    some = sorted(areas)[:5] + [SETTINGS.ns.ID + "doc/iom-idm-2005", SETTINGS.ns.ID + "iom", SETTINGS.ns.ID + "ilo"]
    for iri in map(str, some):
        pointed_by = E.describe(store, iri, SETTINGS).inverse_counts
        counting = CountingStore(store)
        assert F.about(counting, iri, SETTINGS, pointed_by=pointed_by) == F.about(store, iri, SETTINGS), iri
        assert counting.queries == (1 if (iri in areas or "/doc/" in iri) else 0), iri
    assert any(F.about(store, str(a), SETTINGS) for a in areas)
