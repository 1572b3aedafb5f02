"""Statehood (seeds/states/, ingest/statehood.py) on the built graph: a gap list holds only the states that existed
on its date, former states appear for the dates they existed, with their own treaty record and their successors,
and partial records give "no data", never gaps."""

from __future__ import annotations

import csv
import datetime as dt
import warnings

import pytest
from treaty_data import ROOT, SETTINGS, statehood_periods, states_on, store

from graph import gaps
from ingest import statehood

D = dt.date.fromisoformat
COW = ROOT / "seeds" / "states" / "cow-states2016.csv"


@pytest.fixture(scope="module")
def st():
    return store()


def _cow_rows() -> list[dict]:
    with COW.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _rows(st, instrument, on):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gaps.RecordIncompleteWarning)
        return {s.iso3: s for s in gaps.status(st, instrument, D(on), settings=SETTINGS)}


def test_the_cow_copy_is_whole():
    rows = _cow_rows()
    assert len(rows) == 243 and {r["version"] for r in rows} == {"2016"}
    assert ("MNG", "341", "Montenegro", "2006", "6", "12") in {
        (r["stateabb"], r["ccode"], r["statenme"], r["styear"], r["stmonth"], r["stday"]) for r in rows}


def test_every_date_is_a_cow_date_or_names_its_authority():
    cow_dates = set()
    for r in _cow_rows():
        cow_dates.add(dt.date(int(r["styear"]), int(r["stmonth"]), int(r["stday"])))
        cow_dates.add(dt.date(int(r["endyear"]), int(r["endmonth"]), int(r["endday"])))
    for iso3, periods in statehood_periods().items():
        for p in periods:
            if p.authority == statehood.FROM_FIRST_ACTION:
                assert iso3 in {"VAT", "PSE", "COK", "NIU"}
                continue
            assert p.start in cow_dates or p.basis, (iso3, p)
            # an end is a COW end date, or the day before the next part of a divided member starts
            assert p.end is None or p.end in cow_dates or any(
                q.start == p.end + dt.timedelta(days=1) for qs in statehood_periods().values() for q in qs), (iso3, p)


@pytest.mark.parametrize("on, absent, present", [
    ("2005-10-01", {"MNE", "SSD", "SRB", "SUN", "YUG", "CSK", "DDR"}, {"SCG", "TLS", "RUS", "DEU", "CZE"}),
    ("2012-01-01", {"SCG", "YUG"}, {"MNE", "SSD", "SRB"}),
    ("1985-01-01", {"RUS", "UKR", "CZE", "SVK", "SRB", "HRV", "BIH", "TLS", "NAM", "ERI"},
     {"SUN", "CSK", "DDR", "YUG", "DEU", "YMD"}),
    ("1950-01-01", {"DEU", "DDR", "JPN", "GHA"}, {"SUN", "YUG", "CSK", "IND", "USA"}),
])
def test_only_states_that_existed_on_the_date(st, on, absent, present):
    rows = _rows(st, "icrmw", on)
    assert present <= set(rows) and not absent & set(rows)
    assert set(rows) == set(states_on(D(on)))
    report = gaps.gaps(st, "icerd", D(on), by="region", settings=SETTINGS)
    listed = {c for g in report.regions for c in g.non_party_codes} | {r.iso3 for r in report.rows}
    assert not absent & listed


def test_the_issue_examples(st):
    report = gaps.gaps(st, "icrmw", D("2005-10-01"), settings=SETTINGS)
    listed = {r.iso3: r for r in report.rows}
    assert "MNE" not in listed and "SSD" not in listed  # independent 2006, 2011
    assert listed["SCG"].status == "signatory"  # Serbia and Montenegro signed on 11 Nov 2004 (UNTC: Serbia's row)
    assert (report.parties, report.states) == (33, 194) and "Correlates of War" in report.statehood
    with pytest.warns(gaps.RecordIncompleteWarning, match="before icrmw was adopted"):
        old = gaps.gaps(st, "icrmw", D("1850-01-01"), settings=SETTINGS)
    assert old.states == len(states_on(D("1850-01-01"))) < 40 and not old.complete


def test_former_states_have_their_own_record_and_successors(st):
    icerd_1985 = _rows(st, "icerd", "1985-01-01")
    # the USSR: UNTC prints its ratification (4 Feb 1969) in the Russian Federation's row
    assert icerd_1985["SUN"].status == "party" and icerd_1985["SUN"].name == "USSR"
    # Czechoslovakia, the GDR, the SFRY: UNTC gives their actions in footnotes only -> no data, not a gap
    assert {icerd_1985[c].status for c in ("CSK", "DDR", "YUG")} == {"no-data"}
    gap = gaps.gaps(st, "icerd", D("1985-01-01"), settings=SETTINGS)
    assert not {"CSK", "DDR", "YUG"} & {r.iso3 for r in gap.rows} and {"CSK", "DDR", "YUG"} <= set(gap.no_data)
    # present-day lists: no former state
    now = _rows(st, "icerd", "2015-01-01")
    assert not {"SUN", "CSK", "DDR", "YUG", "SCG", "YMD"} & set(now)
    # successors in the graph
    M = SETTINGS.ns.MDKG
    q = f"SELECT ?s WHERE {{ <{SETTINGS.ns.state('CSK')}> <{M['successor']}> ?s }}"
    assert {r["s"].value.rsplit("/", 1)[1] for r in st.query(q, use_default_graph_as_union=True)} == {"CZE", "SVK"}


def test_partial_record_is_no_data_not_a_gap(st):
    report = gaps.gaps(st, "ilo-c97", D("2010-01-01"), settings=SETTINGS)
    listed = {r.iso3 for r in report.rows}
    # parties NORMLEX lists after Kyrgyzstan: not in the record, so not gaps
    assert not {"GBR", "NLD", "PRT", "PHL"} & listed and {"GBR", "NLD", "PRT", "PHL"} <= set(report.no_data)
    assert report.rows == [] and report.parties == 29 and len(report.no_data) == report.states - 29
    empty = gaps.gaps(st, "ilo-c143", D("2010-01-01"), by="region", settings=SETTINGS)
    assert empty.rows == [] and sum(g.no_data for g in empty.regions) == empty.states
    assert all(g.non_parties == 0 for g in empty.regions)
    # C189: complete as at 2020-10-05, so its non-parties are gaps
    c189 = gaps.gaps(st, "ilo-c189", D("2020-10-05"), settings=SETTINGS)
    assert c189.parties == 30 and c189.no_data == [] and c189.complete
    assert "GBR" in {r.iso3 for r in c189.rows} and "URY" not in {r.iso3 for r in c189.rows}


def test_bad_cow_row_names_file_and_line(tmp_path):
    bad = tmp_path / "cow.csv"
    bad.write_text(COW.read_text(encoding="utf-8").replace("MEX,70,Mexico,1831,1,1", "MEX,70,Mexico,1831,13,1"),
                   encoding="utf-8")
    with pytest.raises(statehood.StatehoodError, match=r"cow\.csv:\d+: styear\.\.endday: bad date"):
        statehood.read_cow(bad)


def test_state_record_for_entity_pages(st):
    gbr = gaps.state_treaties(st, "GBR", D("2010-01-01"), settings=SETTINGS)
    lines = {info.id: (row.status if row else None, why) for info, row, why in gbr.lines}
    assert lines["icerd"][0] == "party"
    status, why = lines["ilo-c97"]
    assert status == "no-data" and "partial" in why  # the UK ratified C97; NORMLEX's copy ends before it
    assert lines["ilo-c143"][0] == "no-data" and "none" in lines["ilo-c143"][1]
    assert lines["ilo-c189"] == ("no-action", "adopted only on 2011-06-16")
    sun = gaps.state_treaties(st, "SUN", settings=SETTINGS)
    assert sun.as_of == D("1991-12-25") and "RUS" in sun.successors and "UKR" in sun.successors
    assert sun.periods[-1].actions_under == "RUS"
    assert gaps.state_treaties(st, "CZE", settings=SETTINGS).predecessors == ["CSK"]


@pytest.mark.parametrize("on", ["2010-01-01", "1991-06-01"])
def test_a_state_record_is_its_rows_of_the_all_states_answer(st, on):
    # state_treaties reads only the rows the state's actions are recorded under (the query's ?row): the same
    # statuses as the query over every state, for every state that existed then (USSR's under RUS's row included)
    infos = gaps.instruments(st, settings=SETTINGS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gaps.RecordIncompleteWarning)
        everyone = gaps.status(st, sorted(infos), D(on), settings=SETTINGS)
    expected: dict[str, dict] = {}
    for s in everyone:
        expected.setdefault(s.iso3, {})[s.instrument] = s
    assert len(expected) > 150 and ("SUN" in expected) == (on < "1991-12-25")
    for iso3, by_instrument in expected.items():
        record = gaps.state_treaties(st, iso3, D(on), infos, settings=SETTINGS)
        assert {info.id: row for info, row, _ in record.lines} == by_instrument, iso3


def test_entity_pages_name_missing_records(request):
    import httpx
    from test_pages import live_server

    base = live_server(request)
    html = httpx.get(f"{base}/id/state/GBR", headers={"Accept": "text/html"}, timeout=60).text
    row = html[html.index('data-instrument="ilo-c97"'):]
    row = row[:row.index("</tr>")]
    assert "no data" in row and "partial" in row  # not "no-action": the UK's C97 ratification is not in the copy
    sun = httpx.get(f"{base}/id/state/SUN", headers={"Accept": "text/html"}, timeout=60).text
    assert 'id="treaty-record"' in sun and "on 1991-12-25" in sun and 'href="/id/state/UKR"' in sun


def test_api_and_cli_region_filter(request, tmp_path):
    import json

    import httpx
    from click.testing import CliRunner
    from sparql_server import dataset_for_tests
    from test_pages import live_server

    from mdkg.cli import main

    base = live_server(request)
    api = httpx.get(f"{base}/api/gaps", params={"instrument": "icrmw", "as_of": "2005-10-01", "region": "035",
                                                "by": "subregion"}, timeout=60)
    assert api.status_code == 200
    report = api.json()["reports"][0]
    assert report["region"] == "South-eastern Asia" and report["states"] == 11 and report["parties"] == 2
    assert {g["iso3"] for g in report["gaps"]} >= {"SGP", "THA", "MYS"} and len(report["gaps"]) == 9
    assert [r["region"] for r in report["regions"]] == ["South-eastern Asia"]
    bad = httpx.get(f"{base}/api/gaps", params={"instrument": "icrmw", "region": "Atlantis"}, timeout=60)
    assert bad.status_code == 422 and "Western Asia" in bad.json()["detail"]
    regions = httpx.get(f"{base}/api/regions", timeout=60).json()
    assert {"code": "142", "name": "Asia", "parent": None, "level": "region"} in regions
    status = httpx.get(f"{base}/api/instruments/icrmw/status", params={"as_of": "2005-10-01", "region": "Asia"},
                       timeout=60).json()
    assert len(status["states"]) == 47 and status["counts"]["party"] == 8 and "Correlates" in status["statehood"]
    # the CLI: the same numbers; --by keeps the rows and names the states
    out = tmp_path / "sea.json"
    result = CliRunner().invoke(main, ["gaps", "-i", "icrmw", "--as-of", "2005-10-01", "--region", "035",
                                       "--by", "subregion", "--data", str(dataset_for_tests(request)),
                                       "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 of 11 states party; 9 not party" in result.output and "Singapore (SGP)" in result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert {r["iso3"] for r in doc["rows"]} == {g["iso3"] for g in report["gaps"]}
    assert doc["region"] == "South-eastern Asia" and doc["regions"][0]["non_parties"] == 9
    bad = CliRunner().invoke(main, ["gaps", "-i", "icrmw", "--region", "Atlantis",
                                    "--data", str(dataset_for_tests(request))])
    assert bad.exit_code == 2 and "unknown region 'Atlantis'" in bad.output


def test_party_to_x_not_y_uses_statehood(st):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gaps.RecordIncompleteWarning)
        report = gaps.party_to_x_not_y(st, "icerd", "icrmw", D("2005-10-01"), settings=SETTINGS)
    listed = {r.iso3: r.status for r in report.rows}
    assert listed["SCG"] == "signatory" and not {"SRB", "MNE", "SSD"} & set(listed)
    assert set(listed) <= set(states_on(D("2005-10-01")))
