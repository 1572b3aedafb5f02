"""The regional gap question on /gaps in headless Chromium: "Which states in Asia had not ratified the ICRMW on
2005-10-01?", asked through the form, answered the same way by the page, /api/gaps and `mdkg gaps`; the map draws
every state of the date (small states as dots, Serbia and Montenegro on its successors' shapes); a screenshot at
desktop and at phone width is checked for overlapping controls and legend entries.

Needs Debian's /usr/bin/chromium (skipped, saying so, when it is absent), like tests/test_browser.py."""

from __future__ import annotations

import json

import httpx
import pytest
from click.testing import CliRunner
from sparql_server import dataset_for_tests
from test_browser import CHROMIUM, browser, page, wait_for  # noqa: F401  (fixtures)
from test_pages import live_server

from mdkg.cli import main

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent: install Debian's chromium package (apt-get install chromium)"
)


@pytest.fixture(scope="module")
def base(request) -> str:
    return live_server(request)


def boxes_overlap(a: dict, b: dict) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


def no_overlaps(pg, selector: str) -> int:
    """The bounding boxes of the visible elements matching `selector` do not intersect; returns how many."""
    boxes = [b for b in (pg.locator(selector).nth(i).bounding_box() for i in range(pg.locator(selector).count()))
             if b and b["width"] > 0]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not boxes_overlap(a, b), (selector, a, b)
    return len(boxes)


def within_mapbox(pg) -> None:
    """The map's heading and its instrument selector (a long title) neither overlap nor stick out of the box."""
    assert no_overlaps(pg, ".maphead h2, #map-instrument") == 2
    box = pg.locator(".mapbox").bounding_box()
    sel = pg.locator("#map-instrument").bounding_box()
    assert box["x"] <= sel["x"] and sel["x"] + sel["width"] <= box["x"] + box["width"] + 0.5, (box, sel)


def test_regional_question_on_the_page_agrees_with_api_and_cli(page, base, request, tmp_path):  # noqa: F811
    page.goto("/gaps")
    page.fill("#as-of", "2005-10-01")
    page.select_option("#region", label="Asia")
    page.select_option("#by", "subregion")
    page.select_option("#sort", "name")
    page.click("text=Show")
    page.wait_for_url("**/gaps?*region=142*")
    report = page.locator("section.report[data-instrument=icrmw]")
    parties, states = int(report.locator("b.partycount").inner_text()), int(report.locator(".statecount").inner_text())
    gaps = int(report.locator("b.gapcount").inner_text())
    assert (parties, states, gaps) == (8, 47, 39)
    page_rows = page.locator("section.report[data-instrument=icrmw] table.gaptable tbody tr")
    listed = {page_rows.nth(i).get_attribute("data-iso3") for i in range(page_rows.count())}
    assert len(listed) == page_rows.count() == 39
    # grouped by sub-region: one summary per sub-region with gaps, the counts add up
    summaries = report.locator("details.group summary")
    assert summaries.count() == 5 and "Western Asia" in summaries.last.inner_text()
    # Montenegro (2006) and South Sudan (2011) did not exist; Singapore and Bahrain, small states, are there
    assert {"SGP", "BHR", "MDV"} <= listed and not {"SSD", "MNE", "SRB"} & listed
    assert {"PHL", "LKA", "TLS"}.isdisjoint(listed)  # parties by then

    # the API and the CLI answer the same question the same way
    api = httpx.get(f"{base}/api/gaps", params={"instrument": "icrmw", "as_of": "2005-10-01", "region": "Asia"},
                    timeout=60).json()["reports"][0]
    assert (api["parties"], api["states"], {g["iso3"] for g in api["gaps"]}) == (parties, states, listed)
    out = tmp_path / "asia.json"
    result = CliRunner().invoke(main, ["gaps", "-i", "icrmw", "--as-of", "2005-10-01", "--region", "Asia",
                                       "--data", str(dataset_for_tests(request)), "--json", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert (doc["parties"], doc["states"], {r["iso3"] for r in doc["rows"]}) == (parties, states, listed)

    # the map: every state of the date is drawn; the region's states stand out
    page.wait_for_selector("#map path[data-status]")
    assert page.get_attribute("#map", "data-missing") == ""
    assert int(page.get_attribute("#map", "data-dots")) >= 25
    singapore = page.locator("#map circle[data-iso3=SGP]")
    assert singapore.count() == 1 and singapore.get_attribute("data-status") == "no-action"
    assert "out" not in singapore.get_attribute("class")
    assert "out" in page.get_attribute("#map circle[data-iso3=MLT]", "class")  # Malta: Europe
    assert page.locator("#map path[data-iso3=SCG]").count() == 2  # Serbia's and Montenegro's shapes
    assert page.locator("#map [data-iso3=MNE]").count() == 0
    summary = page.inner_text("#map-summary")
    assert "in Asia: 47 states" in summary and "8 parties" in summary
    # instruments are named by title, not slug
    assert "Migrant Workers" in page.inner_text("#map-instrument")
    page.wait_for_selector("#timeline ul.serieslegend li")

    # nothing overlaps: the form's controls, the legend entries, the timeline legend
    page.screenshot(path=str(tmp_path / "gaps-desktop.png"), full_page=True)
    assert no_overlaps(page, ".gapform > label, .gapform > button, .gapform > a") >= 7
    assert no_overlaps(page, ".legend span") == 7
    assert no_overlaps(page, "#timeline ul.serieslegend li") >= 1
    within_mapbox(page)
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    page.screenshot(path=str(tmp_path / "gaps-phone.png"), full_page=True)
    no_overlaps(page, ".gapform > label, .gapform > button, .gapform > a")
    no_overlaps(page, ".legend span")
    within_mapbox(page)
    assert page.locator("#map svg").bounding_box()["width"] >= 300
    assert page.evaluate("document.documentElement.scrollWidth") <= 400  # no sideways scrolling of the page


def test_partial_and_empty_records_are_no_data_on_the_map(page):  # noqa: F811
    page.goto("/gaps?instrument=ilo-c143&as_of=2010-01-01")
    page.wait_for_selector("#map path[data-status]")
    assert page.locator("#map [data-status=no-action]").count() == 0
    assert page.locator("#map path.s-no-data").count() > 150
    assert "no data" in page.inner_text("#map-summary")
    report = page.locator("section.report[data-instrument=ilo-c143]")
    assert int(report.locator("b.gapcount").inner_text()) == 0
    assert int(report.locator("b.nodatacount").inner_text()) == int(report.locator(".statecount").inner_text())
