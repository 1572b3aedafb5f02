"""The network explorer and the ego network as a reader sees them, in headless Chromium (as tests/test_browser.py):
labels are many and never overlap (checked on the label boxes of screenshots taken at a desktop and a phone
width), the legend names the colouring that is shown, "find" puts exact and prefix matches first, the picture
keeps its size on a narrow screen, and the survey relation is off unless ticked.

Screenshots go to $MDKG_SCREENSHOTS if set (to look at them), else to the test's temporary folder."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest
from test_browser import CHROMIUM, base, browser, wait_for  # noqa: F401  (fixtures)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent: install Debian's chromium package (apt-get install chromium)"
)

LABEL_BOXES = """[...document.querySelectorAll('#net-labels .nlabel')].map(e => {
  const r = e.getBoundingClientRect();
  return {node: e.dataset.node, text: e.textContent, x: r.x, y: r.y, w: r.width, h: r.height}; })"""


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("MDKG_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_page(browser, base, width: int, height: int, path: str):  # noqa: F811
    context = browser.new_context(base_url=base, viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_default_timeout(30_000)
    page.goto(path)
    return context, page, errors


def ready(page) -> None:
    page.wait_for_selector("#sigma[data-ready=true]")
    wait_for(page, "document.getElementById('net-labels').dataset.count !== undefined")
    page.wait_for_timeout(500)  # the camera's animation to a focused node, then the labels of its last frame


def intersect(a: dict, b: dict) -> bool:
    apart_x = a["x"] + a["w"] <= b["x"] or b["x"] + b["w"] <= a["x"]
    apart_y = a["y"] + a["h"] <= b["y"] or b["y"] + b["h"] <= a["y"]
    return not (apart_x or apart_y)


def assert_no_overlap(boxes: list[dict]) -> None:
    for a, b in itertools.combinations(boxes, 2):
        assert not intersect(a, b), f"labels overlap: {a['text']!r} and {b['text']!r}"


def screenshot_boxes(page, path: Path) -> list[dict]:
    """A screenshot, and the label boxes as they are in it (page coordinates of the same frame)."""
    boxes = page.evaluate(LABEL_BOXES)
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    assert page.evaluate(LABEL_BOXES) == boxes  # nothing moved while the picture was taken
    return boxes


def test_labels_are_many_and_never_overlap_at_desktop_and_phone_width(browser, base, shots):  # noqa: F811
    for width, height, least in ((1400, 950, 0.6), (390, 844, 0.25)):
        context, page, errors = open_page(browser, base, width, height, "/network")
        ready(page)
        nodes = int(page.get_attribute("#sigma", "data-nodes"))
        view = page.locator("#sigma").bounding_box()
        # the picture keeps a usable size on a phone (it was a 60 px strip at 390 px)
        assert view["width"] >= min(0.8 * width, 600) and view["height"] >= 300, view
        boxes = screenshot_boxes(page, shots / f"network-{width}.png")
        assert len(boxes) >= least * nodes, (len(boxes), nodes)  # it was 2 of 35 before
        assert_no_overlap(boxes)
        for b in boxes:  # every label is inside the picture
            assert view["x"] - 1 <= b["x"] and b["x"] + b["w"] <= view["x"] + view["width"] + 1, b
            assert view["y"] - 1 <= b["y"] and b["y"] + b["h"] <= view["y"] + view["height"] + 1, b
        texts = {b["text"] for b in boxes}
        assert {"IOM", "UNHCR"} <= texts  # the two labels that used to overlap, both shown, apart
        # each label sits next to its own node
        centres = page.evaluate(
            """() => { const r = window.mdkgNetwork.renderer;
            const box = document.getElementById('sigma').getBoundingClientRect();
            const out = {}; window.mdkgNetwork.graph.forEachNode(n => { const d = r.getNodeDisplayData(n);
              const p = r.framedGraphToViewport(d); out[n] = [box.x + p.x, box.y + p.y, r.scaleSize(d.size)]; });
            return out; }"""
        )
        for b in boxes:
            x, y, r = centres[b["node"]]
            dx = max(b["x"] - x, 0, x - (b["x"] + b["w"]))
            dy = max(b["y"] - y, 0, y - (b["y"] + b["h"]))
            assert (dx * dx + dy * dy) ** 0.5 <= r + 4, b
        context.close()
        assert not errors, errors


def test_focused_node_and_its_neighbours_are_labelled_without_overlap(browser, base, shots):  # noqa: F811
    context, page, errors = open_page(browser, base, 1400, 950, "/network?focus=iom")
    ready(page)
    boxes = screenshot_boxes(page, shots / "network-focus-iom.png")
    assert_no_overlap(boxes)
    labelled = {b["node"] for b in boxes}
    neighbours = set(page.evaluate("window.mdkgNetwork.graph.neighbors('iom')"))
    assert "iom" in labelled and labelled <= neighbours | {"iom"}  # only the highlighted part is named
    assert len(labelled & neighbours) >= 0.7 * len(neighbours)
    assert page.locator("#net-labels .nlabel.active").inner_text() == "IOM"
    context.close()
    assert not errors, errors


def test_find_ranks_exact_and_prefix_matches_first(browser, base):  # noqa: F811
    context, page, errors = open_page(browser, base, 1400, 950, "/network")
    ready(page)
    for typed, first, node in (
        ("philipp", "Philippines", "state/PHL"),  # not Philippine Migrants' Rights Watch
        ("Philippines", "Philippines", "state/PHL"),
        ("phl", "Philippines", "state/PHL"),  # the ISO code
        ("iom", "International Organization for Migration", "iom"),  # the acronym / id
        ("unhcr", "Office of the United Nations High Commissioner for Refugees", "unhcr"),
        ("mexic", "Mexico", "state/MEX"),
    ):
        page.fill("#net-find", typed)
        wait_for(
            page,
            f"document.querySelector('#net-results li') && net_find.value === {typed!r}".replace(
                "net_find", "document.getElementById('net-find')"
            ),
        )
        results = page.locator("#net-results li")
        assert results.first.inner_text() == first, (typed, results.all_inner_texts())
        assert results.first.get_attribute("data-node") == node
        assert first in page.inner_text("#net-tip")
    # the other matches are listed, and one can be chosen
    page.fill("#net-find", "philipp")
    texts = page.locator("#net-results li").all_inner_texts()
    assert texts[0] == "Philippines" and "Philippine Migrants' Rights Watch" in texts
    page.click('#net-results button:text-is("Philippine Migrants\' Rights Watch")')
    assert "Philippine Migrants' Rights Watch" in page.inner_text("#net-tip")
    assert page.locator("#net-results li.sel").inner_text() == "Philippine Migrants' Rights Watch"
    context.close()
    assert not errors, errors


def test_legend_matches_the_colouring(browser, base):  # noqa: F811
    context, page, errors = open_page(browser, base, 1400, 950, "/network")
    ready(page)
    colours = """() => { const r = window.mdkgNetwork.renderer, g = window.mdkgNetwork.graph, out = {};
      const byKind = document.getElementById('colour').value === 'kind';
      g.forEachNode((n, a) => { const key = byKind ? a.kind : String(a.community);
        (out[key] = out[key] || new Set()).add(r.getNodeDisplayData(n).color); });
      return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, [...v]])); }"""
    swatches = """[...document.querySelectorAll('#net-legend li[data-key]')].map(li =>
      [li.dataset.key, getComputedStyle(li.querySelector('i.sw')).backgroundColor])"""
    to_rgb = (
        "c => { const e = document.createElement('i'); e.style.color = c; document.body.appendChild(e);"
        " const v = getComputedStyle(e).color; e.remove(); return v; }"
    )
    for mode, legend_title in (("community", "community"), ("kind", "stakeholder kind")):
        page.select_option("#colour", mode)
        page.wait_for_timeout(200)
        assert legend_title in page.inner_text("#net-legend")
        by_key = page.evaluate(colours)
        items = page.evaluate(swatches)
        assert items
        for key, swatch in items:
            node_colours = {page.evaluate(f"({to_rgb})({c!r})") for c in by_key[key]}
            assert node_colours == {swatch}, (mode, key, node_colours, swatch)
        # the dots beside the kind filters are colours too: shown only when nodes are coloured by kind
        dot_shown = page.locator("input[name=kind][value=State] + i.dot").is_visible()
        assert dot_shown == (mode == "kind")
    page.select_option("#colour", "community")
    legend = page.inner_text("#net-legend")
    assert "Stakeholder kind" not in legend and "State (" not in legend
    context.close()
    assert not errors, errors


def test_survey_answers_are_not_ties_unless_asked_for(browser, base):  # noqa: F811
    context, page, errors = open_page(browser, base, 1400, 950, "/network")
    ready(page)
    survey = page.locator("input[name=relation][value=survey]")
    assert not survey.is_checked()
    assert "1/(n-1)" in page.inner_text("#net-weighting") and "Newman 2001" in page.inner_text("#net-weighting")
    assert "survey" not in page.inner_text("#net-weighting").split("Relations:")[1]
    before = int(page.get_attribute("#sigma", "data-nodes"))
    assert not page.evaluate("window.mdkgNetwork.graph.hasNode('state/AZE')")  # only answered the questionnaire
    survey.check()
    wait_for(page, "window.mdkgNetwork.data.relations.includes('survey')")
    wait_for(page, "window.mdkgNetwork.graph.hasNode('state/AZE')")
    assert int(page.evaluate("window.mdkgNetwork.graph.order")) > before
    assert "survey" in page.inner_text("#net-weighting")
    context.close()
    assert not errors, errors


def test_ego_network_labels_do_not_overlap(browser, base, shots):  # noqa: F811
    for entity in ("iom", "state/NLD", "unhcr"):
        context, page, errors = open_page(browser, base, 1400, 950, f"/id/{entity}")
        svg = page.locator(".egosvg")
        svg.wait_for()
        svg.screenshot(path=str(shots / f"ego-{entity.replace('/', '-')}.png"))
        boxes = page.evaluate(
            """[...document.querySelectorAll('.egosvg text')].map(t => { const r = t.getBoundingClientRect();
            return {text: t.textContent, x: r.x, y: r.y, w: r.width, h: r.height}; })"""
        )
        assert len(boxes) >= 3, entity
        assert_no_overlap(boxes)
        frame = svg.bounding_box()
        for b in boxes:  # and none is cut off by the picture's edge
            assert frame["x"] - 1 <= b["x"] and b["x"] + b["w"] <= frame["x"] + frame["width"] + 1, (entity, b)
        context.close()
        assert not errors, errors
