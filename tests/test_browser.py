"""A person's path through the web interface, in headless Chromium (Debian's /usr/bin/chromium driven by
Playwright): search -> entity page -> network explorer -> gaps map, asserting on what is shown.

Needs the `chromium` Debian package (CI: `apt-get install -y chromium`); skipped, saying so, only when
/usr/bin/chromium is absent. Playwright's own browser download is never used (executable_path)."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from test_pages import live_server

from graph.schema import schema

CHROMIUM = Path(os.environ.get("MDKG_CHROMIUM", "/usr/bin/chromium"))

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent: install Debian's chromium package (apt-get install chromium)"
)


@pytest.fixture(scope="module")
def base(request) -> str:
    return live_server(request)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--use-angle=swiftshader",
                "--enable-unsafe-swiftshader",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser, base):
    context = browser.new_context(base_url=base, viewport={"width": 1400, "height": 950})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.set_default_timeout(30_000)
    yield pg
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def wait_for(page, expression: str, timeout: float = 30.0) -> None:
    """Poll `expression` until truthy. Not page.wait_for_function: it evaluates its string with eval() inside the
    page, which the pages' Content-Security-Policy forbids (no 'unsafe-eval'); page.evaluate is not subject to it."""
    end = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(100)


def test_search_entity_network_gaps(page, base):
    # search from the home page
    page.goto("/")
    page.fill("#home-q", "organization for migration")
    page.press("#home-q", "Enter")
    page.wait_for_url(re.compile(r"/search\?q=organization"))
    assert "result" in page.inner_text("#result-count")
    first = page.locator("a.hit").first
    assert first.inner_text() == "International Organization for Migration"

    # the entity page: facts grouped by relation, with the evidence quote linked to its passage
    first.click()
    page.wait_for_url(re.compile(r"/id/iom$"))
    assert page.inner_text("#entity-label") == "International Organization for Migration"
    rels = page.locator("#relationships")
    assert rels.locator("h3", has_text="Partnership").count() == 1
    quote = rels.locator("blockquote.quote", has_text="Integrated Migration Information System").first
    assert quote.is_visible()
    assert quote.locator("a.cite").get_attribute("href") == "/id/doc/iom-idm-2005/p287"
    assert page.locator(".egosvg circle").count() > 5

    # the ego network leads to the explorer, focused on this node
    page.click("text=Open in the network explorer")
    page.wait_for_url(re.compile(r"/network\?focus=iom"))
    page.wait_for_selector("#sigma[data-ready=true]")
    n = int(page.get_attribute("#sigma", "data-nodes"))
    assert n > 50
    assert page.evaluate("window.mdkgNetwork.graph.order") == n
    assert "stakeholders" in page.inner_text("#net-status")
    assert page.locator("#sigma canvas").count() >= 2  # sigma's WebGL and label layers
    # the focused node is highlighted: its tooltip shows, and its neighbours are named
    assert "International Organization for Migration" in page.inner_text("#net-tip")
    # filter by kind: states only (the page has a checkbox for each stakeholder kind of the ontology)
    others = page.locator("input[name=kind]:not([value=State])")
    assert others.count() == len(schema().stakeholder_kinds) - 1
    for i in range(others.count()):
        others.nth(i).uncheck()
    wait_for(page, "window.mdkgNetwork && window.mdkgNetwork.data.nodes.every(n => n.kind === 'State')")
    states = page.evaluate("window.mdkgNetwork.graph.order")
    assert 0 < states < n
    # hover a node to highlight it, then click it to open its page
    page.evaluate("window.mdkgNetwork.renderer.getCamera().setState({x: 0.5, y: 0.5, ratio: 1, angle: 0})")
    box = page.locator("#sigma").bounding_box()
    node, xy = page.evaluate(
        """([w, h]) => { const r = window.mdkgNetwork.renderer, g = window.mdkgNetwork.graph;
        const inside = g.nodes().map(n => [n, r.framedGraphToViewport(r.getNodeDisplayData(n))])
          .filter(([n, p]) => p.x > 20 && p.y > 20 && p.x < w - 20 && p.y < h - 20);
        return inside.find(([n]) => n === "state/MEX") || inside[0]; }""",
        [box["width"], box["height"]],
    )
    page.mouse.move(box["x"] + xy["x"], box["y"] + xy["y"])
    wait_for(page, "!document.getElementById('net-tip').hidden")
    page.mouse.click(box["x"] + xy["x"], box["y"] + xy["y"])
    page.wait_for_url(re.compile(r"/id/state/"))
    assert page.inner_text("#entity-label")

    # the gaps map: ICRMW in 2010, Mexico a party, most of the world not
    page.goto("/gaps?instrument=icrmw&as_of=2010-01-01")
    page.wait_for_selector("#map path[data-status]")
    assert page.get_attribute("#map", "data-instrument") == "icrmw"
    assert int(page.get_attribute("#map", "data-states")) > 150
    assert page.get_attribute("#map path[data-iso3=MEX]", "data-status") == "party"
    assert page.get_attribute("#map path[data-iso3=USA]", "data-status") != "party"
    assert page.locator("#map path.s-party").count() > 30
    assert "parties" in page.inner_text("#map-summary")
    page.wait_for_selector("#timeline polyline.series")
    gaps = int(page.inner_text("b.gapcount"))
    assert page.locator("table.gaptable tbody tr").count() == gaps
    # the CSV download
    with page.expect_download() as dl:
        page.click("#csv-link")
    text = Path(dl.value.path()).read_text(encoding="utf-8")
    assert text.startswith("instrument,as_of,iso3") and text.count("\n") == gaps + 1
    # switch instrument on the form: the map follows
    page.check("input[name=instrument][value=ilo-c97]")
    page.click("text=Show")
    page.wait_for_selector("#map-instrument option[value=ilo-c97]", state="attached")
    page.select_option("#map-instrument", "ilo-c97")
    wait_for(page, "document.getElementById('map').dataset.instrument === 'ilo-c97'")


def test_query_page_runs_under_its_content_security_policy(page):
    """The vendored YASGUI under the page's strict CSP (api/security.py): the examples open as tabs, a query runs
    and its results table renders, and the browser reports no violation (a YASGUI update that inserts other
    inline styles shows here: add their hashes, or style them from query.css)."""
    violations: list[str] = []
    page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))
    page.goto("/query")
    page.wait_for_selector("#examples button")
    assert page.locator("#examples button").count() >= 3
    page.click(".yasqe_queryButton")
    page.wait_for_selector(".yasr table tbody tr")
    assert page.locator(".yasr table tbody tr").count() > 0
    assert not violations, violations
