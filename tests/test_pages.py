"""The analyst's web interface, fetched from a live `mdkg serve`: home, search, entity pages, the gap view and the
network explorer, their vendored assets, and the rule that no page loads anything from another origin.

`live_server()` starts one server for every module of the web-interface tests (pages, REST, linked data,
browser, OpenAPI fuzzing) and stops it when the session ends."""

from __future__ import annotations

import re

import httpx
import pytest
from sparql_server import dataset_for_tests, mdkg_server

_LIVE: dict[str, str] = {}


def live_server(request: pytest.FixtureRequest) -> str:
    """The base URL of a `mdkg serve` on the fresh build, shared by the web-interface test modules."""
    if "url" not in _LIVE:
        data = dataset_for_tests(request)
        tmp = request.getfixturevalue("tmp_path_factory").mktemp("web")
        server = mdkg_server(tmp, "--data", str(data), "--workers", "2", "--timeout", "60")
        url, _proc = server.__enter__()
        request.config.add_cleanup(lambda: server.__exit__(None, None, None))
        _LIVE["url"] = url
    return _LIVE["url"]


@pytest.fixture(scope="module")
def base(request) -> str:
    return live_server(request)


HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}


def page(base: str, path: str) -> httpx.Response:
    r = httpx.get(base + path, headers=HTML, timeout=60)
    assert r.status_code == 200, (path, r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("text/html")
    return r


def test_home_shows_counts_sources_and_search(base):
    html = page(base, "/").text
    assert "The migration-and-development knowledge graph" in html
    # counts per class, with their labels, linked to a search of that kind
    m = re.search(r'href="/search\?kind=State">state</a></td><td class="num">(\d+)', html)
    assert m and int(m.group(1)) > 150
    for doc in ("iom-idm-2005", "south-centre-2006", "gfmd-csd-2007", "bakewell-bellagio", "delgado-wise-castles"):
        assert f'href="/id/doc/{doc}"' in html
    assert 'action="/search"' in html


@pytest.mark.parametrize(
    "path", ["/", "/search?q=iom", "/id/iom", "/gaps?instrument=icrmw", "/network", "/ontology", "/shapes", "/api/docs"]
)
def test_every_page_links_the_sparql_page_and_loads_nothing_from_elsewhere(base, path):
    html = page(base, path).text
    assert 'href="/sparql"' in html
    for attr in re.findall(r'(?:src|href)="([^"]+)"', html):
        if attr.startswith(("http:", "https:", "//")):
            # links to other sites are fine; loading scripts, styles or images from them is not
            assert not re.search(rf'<(?:script|link|img)[^>]+(?:src|href)="{re.escape(attr)}"', html), attr


def test_search_finds_names_aliases_and_acronyms(base):
    html = page(base, "/search?q=IOM").text
    first = re.search(r'<a class="hit" href="([^"]+)">([^<]+)</a>', html)
    assert first.group(1) == "/id/iom"
    assert first.group(2) == "International Organization for Migration"
    html = page(base, "/search?q=mexic&kind=State").text
    assert 'href="/id/state/MEX"' in html
    assert 'href="/id/ime"' not in html  # a government agency, not a state
    html = page(base, "/search?q=zzzz-no-such-name").text
    assert "Nothing matches" in html


def test_entity_page_groups_facts_with_evidence(base):
    html = page(base, "/id/iom").text
    assert '<h1 id="entity-label">International Organization for Migration</h1>' in html
    assert "<h3>Implementation" in html and "<h3>Partnership" in html
    # a quote, linked to the passage it comes from
    assert "the Integrated Migration Information System (IMIS), a project funded by the Italian government" in html
    assert 'class="cite" href="/id/doc/iom-idm-2005/p287"' in html
    # labels, not IRIs, as link text
    assert re.search(r'<a href="/id/state/EGY">Egypt</a>', html)
    assert not re.search(r">https://w3id.org/mdkg/id/[^<]*</a>", html)
    # an ego network
    assert 'class="egosvg"' in html and 'href="/id/state/ITA"' in html


def test_passage_page_shows_the_text_and_what_it_is_evidence_for(base):
    html = page(base, "/id/doc/iom-idm-2005/p287").text
    assert 'id="passage-text"' in html
    assert "Integrated Migration Information System" in html
    assert "Evidence for" in html
    assert 'href="/api/documents/iom-idm-2005/passages/287"' in html


def test_gaps_page_table_and_csv_link(base):
    html = page(base, "/gaps?instrument=icrmw&as_of=2005-10-01").text
    assert 'id="map"' in html and 'data-as-of="2005-10-01"' in html
    n = int(re.search(r'<b class="gapcount">(\d+)</b>', html).group(1))
    assert n > 100  # most states were not party to the ICRMW in 2005
    assert len(re.findall(r'<tr data-iso3="[A-Z]{3}"><td><a href="/id/state/', html)) == n
    csv_link = re.search(r'id="csv-link"', html)
    assert csv_link and "/api/gaps?instrument=icrmw&amp;as_of=2005-10-01" in html


def test_gaps_page_rejects_a_bad_date_clearly(base):
    r = httpx.get(base + "/gaps?as_of=2005-13-45", headers=HTML, timeout=30)
    assert r.status_code == 422
    assert "as_of" in r.text


def test_network_page_and_vendored_assets(base):
    html = page(base, "/network").text
    for asset in ("/ui/vendor/sigma.min.js", "/ui/vendor/graphology.umd.min.js", "/ui/network.js"):
        assert f'src="{asset}"' in html
        assert httpx.get(base + asset, timeout=30).status_code == 200
    for asset in ("/ui/vendor/topojson-client.min.js", "/ui/vendor/countries-110m.json", "/ui/gaps.js", "/ui/app.css"):
        assert httpx.get(base + asset, timeout=30).status_code == 200
    readme = httpx.get(base + "/ui/README.md", timeout=30).text
    for package in ("sigma", "graphology", "world-atlas", "topojson-client"):
        assert package in readme


def test_unknown_entity_page_is_404_html(base):
    r = httpx.get(base + "/id/no-such-entity", headers=HTML, timeout=30)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "Nothing is known" in r.text


def test_api_docs_page_lists_the_endpoints(base):
    html = page(base, "/api/docs").text
    for path in (
        "/api/stakeholders",
        "/api/entities/{id}",
        "/api/instruments/{id}/status",
        "/api/gaps",
        "/api/network",
        "/api/network/export",
        "/api/documents/{id}/passages/{n}",
        "/api/health",
    ):
        assert f"<code>{path}</code>" in html
