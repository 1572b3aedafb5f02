"""The reference set of states (ingest/states.py): built from pycountry and country_converter, not typed
in."""

from __future__ import annotations

from importlib.metadata import version

import pycountry
from rdflib import DCTERMS, RDF, RDFS, SKOS, Literal, URIRef
from treaty_data import SETTINGS, dataset, source_rows

from ingest.states import FORMER, StateRecord, emit, reference_states

NS = SETTINGS.ns
FORMER_STATES = {"CSK", "DDR", "SCG", "SUN", "YMD", "YUG"}
M = NS.MDKG


def test_members_observers_and_treaty_participants():
    states = reference_states(settings=SETTINGS)
    by_status: dict[str, set[str]] = {}
    for rec in states.values():
        by_status.setdefault(rec.un_status, set()).add(rec.iso3)
    assert len(by_status["member"]) == 193
    assert by_status["observer"] == {"VAT", "PSE"}
    assert by_status["non-member"] == {"COK", "NIU"}
    assert by_status["former"] == FORMER_STATES  # brought in by seeds/states/statehood.yaml
    assert len(states) == 197 + 6
    assert {"MEX", "PHL", "IND", "USA", "CHE", "SSD", "MNE"} <= by_status["member"]
    # neither UN members nor observers nor UNTC participants
    assert "TWN" not in states and "XKX" not in states


def test_codes_come_from_pycountry():
    for rec in reference_states(settings=SETTINGS).values():
        if rec.un_status == FORMER:
            assert pycountry.historic_countries.get(alpha_3=rec.iso3) is not None, rec.iso3
            continue
        country = pycountry.countries.get(alpha_3=rec.iso3)
        assert country is not None, rec.iso3
        assert (rec.iso2, rec.numeric) == (country.alpha_2, country.numeric)


def test_record_fields():
    mex = reference_states(settings=SETTINGS)["MEX"]
    assert isinstance(mex, StateRecord)
    assert (mex.iso2, mex.numeric, mex.name, mex.un_status, mex.un_member_since) == ("MX", "484", "Mexico",
                                                                                     "member", 1945)
    assert (mex.region, mex.region_code, mex.subregion, mex.subregion_code) == ("Americas", "019",
                                                                                "Central America", "013")
    assert "United Mexican States" in mex.names
    che = reference_states(settings=SETTINGS)["CHE"]
    assert che.un_member_since == 2002 and che.region == "Europe" and che.subregion == "Western Europe"
    assert reference_states(settings=SETTINGS)["VAT"].un_member_since is None


def test_name_variants_for_labels_and_mentions():
    s = reference_states(settings=SETTINGS)
    assert "Republic of Korea" in s["KOR"].names and "South Korea" in s["KOR"].names
    assert "Plurinational State of Bolivia" in s["BOL"].names and s["BOL"].name == "Bolivia"
    assert s["VAT"].name == "Holy See" and "Vatican" in s["VAT"].names
    assert s["PSE"].name == "State of Palestine"
    assert s["COD"].name == "Democratic Republic of the Congo" and "Congo" not in s["COD"].names
    assert s["COG"].name == "Congo"
    for rec in s.values():
        assert rec.name == rec.names[0] and len(set(rec.names)) == len(rec.names)


def test_every_region_and_the_nauru_correction():
    s = reference_states(settings=SETTINGS)
    assert all(rec.region in {"Africa", "Americas", "Asia", "Europe", "Oceania"} for rec in s.values())
    counts = {r: sum(rec.region == r for rec in s.values()) for r in ("Africa", "Americas", "Asia", "Europe",
                                                                       "Oceania")}
    present = {r: sum(rec.region == r and rec.un_status != FORMER for rec in s.values())
               for r in ("Africa", "Americas", "Asia", "Europe", "Oceania")}
    assert present == {"Africa": 54, "Americas": 35, "Asia": 48, "Europe": 44, "Oceania": 16}
    assert counts == {"Africa": 54, "Americas": 35, "Asia": 49, "Europe": 49, "Oceania": 16}
    # former states: their successors' sub-region where they share one (statehood.yaml, successors)
    assert (s["SCG"].subregion, s["CSK"].subregion, s["YMD"].subregion) == ("Southern Europe", "Eastern Europe",
                                                                            "Western Asia")
    assert s["NRU"].subregion == "Micronesia"  # country_converter 1.3.2 says Polynesia; M49 says Micronesia
    assert s["KEN"].subregion == "Eastern Africa" and s["KEN"].region == "Africa"


def test_every_iso3_of_the_treaty_record_resolves():
    states = reference_states(settings=SETTINGS)
    missing = {(r["state_name"], r["iso3"]) for r in source_rows() if r["iso3"] and r["iso3"] not in states}
    assert not missing
    non_state = {r["state_name"] for r in source_rows() if not r["iso3"]}
    assert non_state == {"European Union"}  # handled as the registry entity `eu` (tests/test_treaties.py)


def test_former_states_are_added_when_the_record_has_them(tmp_path):
    (tmp_path / "x.csv").write_text("instrument,state_name,iso3\nICRMW,Yugoslavia,YUG\nICRMW,Mexico,MEX\n",
                                    encoding="utf-8")
    states = reference_states(SETTINGS, tmp_path)
    yug = states["YUG"]
    assert yug.un_status == FORMER and yug.name == "Yugoslavia" and yug.iso2 is None
    assert "CSK" in states  # from seeds/states/statehood.yaml, not from the treaty data
    assert len(states) == 197 + 6


def test_emit_into_the_reference_graph():
    ds = dataset()
    g = ds.graph(NS.graph("reference"))
    mex = NS.state("MEX")
    assert (mex, RDF.type, M.State) in g and (mex, RDF.type, M.Stakeholder) in g
    assert (mex, RDFS.label, Literal("Mexico", lang="en")) in g
    assert (mex, SKOS.prefLabel, Literal("Mexico", lang="en")) in g
    assert (mex, SKOS.altLabel, Literal("United Mexican States", lang="en")) in g
    assert (mex, M.iso3166Alpha2, Literal("MX")) in g and (mex, M.iso3166Alpha3, Literal("MEX")) in g
    assert (mex, M.iso3166Numeric, Literal("484")) in g
    assert (mex, M.unStatus, Literal("member")) in g
    assert (mex, M.region, NS.region("019")) in g and (mex, M.subregion, NS.region("013")) in g
    assert (NS.region("013"), SKOS.broader, NS.region("419")) in g
    assert (NS.region("419"), SKOS.broader, NS.region("019")) in g
    assert (NS.region("019"), RDFS.label, Literal("Americas", lang="en")) in g
    sources = {str(o) for o in g.objects(mex, DCTERMS.source)}
    assert f"pycountry {version('pycountry')}, ISO 3166-1" in sources
    assert any(s.startswith(f"country_converter {version('country_converter')}") for s in sources)
    assert (mex, URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"),
            URIRef(f"https://pypi.org/project/pycountry/{version('pycountry')}/")) in g
    assert len(set(g.subjects(RDF.type, M.State))) == 197 + 6


def test_emit_counts():
    from rdflib import Dataset

    counts = emit(Dataset(), SETTINGS)
    assert counts["states"] == 203 and counts["member"] == 193 and counts["observer"] == 2
    assert counts["non-member"] == 2 and counts["former"] == 6
    # every state has statehood periods; VAT, PSE, COK, NIU (not in the COW list) from their first action
    assert counts["states_with_statehood"] == 203 and counts["states_without_statehood"] == 0
