"""Hostile input reflected by the web interface, the REST API and the SPARQL endpoint (issue 7): script-injection
strings in every place a request can carry text (search terms, entity ids, gap and network parameters, SPARQL
queries) never come back as markup. An HTML answer escapes them; every other answer is not HTML (JSON, problem
details, text/plain with `nosniff`, so no browser renders it as a page). And the security headers: nosniff,
Referrer-Policy, no framing, a Content-Security-Policy that allows this origin only, which the pages obey (no
inline script, style or event handler)."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

import httpx
import pytest
from test_pages import live_server

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg/onload=alert(1)>",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.domain)//",
    "</textarea></title><script>alert(1)</script>",
    "\u202e<script>alert(1)</script>",  # right-to-left override before the tag
    "<scr\u200bipt>alert(1)</scr\u200bipt>",  # zero-width space inside the tag name
    "\uff1cscript\uff1ealert(1)\uff1c/script\uff1e",  # fullwidth angle brackets
    '<a href="javascript:alert(1)">x</a>',
    "{{7*7}}<b>{% raw %}",  # template syntax
    "</script><script>alert(1)</script>",  # closing a script data block
]
# What must never reach an HTML page as markup, whatever the payload: these pieces, unescaped (escaped, as
# text, `onerror=alert(1)` is harmless: no tag or attribute can start without a raw < or quote).
DANGEROUS = re.compile(
    r"<script>alert|<img src=x|<svg/onload|\"><img|'><svg|<a href=\"javascript:|<scr\u200bipt|<b>\{%",
    re.IGNORECASE,
)
HTML_ACCEPT = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(scope="module")
def base(request) -> str:
    return live_server(request)


@pytest.fixture(scope="module")
def client(base):
    with httpx.Client(base_url=base, timeout=60, headers=HTML_ACCEPT) as c:
        yield c


def q(text: str) -> str:
    return quote(text, safe="")


def targets(p: str) -> list[tuple[str, str]]:
    """(method, path with the payload) for every place a request carries text."""
    e = q(p)
    return [
        ("GET", f"/search?q={e}"),
        ("GET", f"/search?q={e}&kind={e}"),
        ("GET", f"/api/stakeholders?q={e}"),
        ("GET", f"/api/stakeholders?theme={e}&state={e}"),
        ("GET", f"/id/{e}"),
        ("GET", f"/id/{e}.ttl"),
        ("GET", f"/id/{e}.html"),
        ("GET", f"/id/iom?inverse={e}"),
        ("GET", f"/id/iom?format={e}"),
        ("GET", f"/id/state/{e}"),
        ("GET", f"/api/entities/{e}"),
        ("GET", f"/api/entities/iom?neighbours={e}"),
        ("GET", f"/gaps?instrument={e}"),
        ("GET", f"/gaps?instrument=icrmw&as_of={e}"),
        ("GET", f"/gaps?scope={e}"),
        ("GET", f"/api/gaps?instrument={e}"),
        ("GET", f"/api/gaps?instrument=icrmw&by={e}"),
        ("GET", f"/api/instruments/{e}/status"),
        ("GET", f"/api/instruments/{e}/timeline"),
        ("GET", f"/network?focus={e}"),
        ("GET", f"/api/network?layer={e}"),
        ("GET", f"/api/network?kind={e}&measure={e}"),
        ("GET", f"/api/network/export?format={e}"),
        ("GET", f"/api/documents/{e}/passages/1"),
        ("GET", f"/ontology.{e}"),
        ("GET", f"/shapes?format={e}"),
        ("GET", f"/dumps/{e}"),
        ("GET", f"/nowhere/{e}"),
        ("GET", f"/sparql?query={e}"),
        ("GET", f"/sparql?query={q('SELECT * WHERE { ?s ?p ' + p + ' }')}"),
        ("GET", f"/sparql?query={q('ASK {}')}&format={e}"),
        ("GET", f"/sparql?query={q('ASK {}')}&default-graph-uri={e}"),
        ("POST", f"/sparql?query={q('SELECT ?x WHERE { BIND(' + p + ' AS ?x) }')}"),
    ]


def check(r: httpx.Response, payload: str) -> None:
    where = f"{r.request.method} {r.request.url} -> {r.status_code}"
    assert r.status_code < 500, (where, r.text[:500])
    ctype = r.headers.get("content-type", "")
    assert ctype or not r.content, f"{where}: no Content-Type"
    if r.is_redirect:  # e.g. Starlette's trailing-slash redirect: never to another origin or scheme
        location = r.headers["location"]
        assert location.startswith(("/", str(r.request.url.copy_with(path="/", query=None)))), (where, location)
    assert r.headers.get("x-content-type-options") == "nosniff", where
    assert "Traceback" not in r.text, where
    if ctype.startswith("text/html"):
        body = r.text
        assert payload not in body or payload == html.escape(payload), (where, "payload reflected unescaped")
        m = DANGEROUS.search(body)
        assert m is None, (where, body[max(0, m.start() - 200) : m.end() + 200])
        assert not re.search(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", body, re.IGNORECASE), where
        # a payload inside a <script> data block must not close it
        for block in re.findall(r"<script[^>]*>(.*?)</script>", body, re.DOTALL):
            assert "alert(1)" not in block, (where, block[:300])


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_reflected_input_is_never_markup(client, payload):
    for method, path in targets(payload):
        check(client.request(method, path), payload)


def test_sparql_errors_are_plain_text_even_for_browsers(client):
    payload = "<script>alert(1)</script>"
    for method, kwargs in (
        ("GET", {"params": {"query": payload}}),
        ("GET", {"params": {"query": f"SELECT * WHERE {{ {payload} }}"}}),
        ("POST", {"data": {"query": f"ASK {{ <{payload}> ?p ?o }}"}}),
        ("POST", {"content": payload, "headers": {**HTML_ACCEPT, "Content-Type": "application/sparql-query"}}),
    ):
        r = client.request(method, "/sparql", **kwargs)
        assert 400 <= r.status_code < 500, (r.status_code, r.text)
        assert r.headers["content-type"].startswith("text/plain"), r.headers["content-type"]
        assert r.headers["x-content-type-options"] == "nosniff"
    # a syntax error names the place and quotes the query: as text, never as a page
    r = client.get("/sparql", params={"query": f"SELECT * WHERE {{ ?s ?p {payload} }}", "format": "html"})
    assert r.status_code in (400, 406) and not r.headers["content-type"].startswith("text/html")


def test_invalid_utf8_and_control_characters_are_4xx(client):
    for path in (
        "/search?q=%C0%BCscript%C0%BE",
        "/id/%FF%FE",
        "/id/a%00b",
        "/api/entities/a%0D%0ASet-Cookie:x=1",
        "/id/a%0D%0ASet-Cookie:%20x=1.ttl",
        "/sparql?query=%FF",
        "/api/stakeholders?q=%00",
    ):
        r = client.get(path)
        assert 200 <= r.status_code < 500, (path, r.status_code, r.text[:300])
        assert "set-cookie" not in r.headers, path
        assert "Traceback" not in r.text


# ---------------------------------------------------------------------------------------------- headers

PAGES = [
    "/",
    "/search?q=iom",
    "/id/iom",
    "/id/iom?inverse=https%3A%2F%2Fw3id.org%2Fmdkg%2Fontology%23partner",
    "/gaps?instrument=icrmw",
    "/network",
    "/ontology",
    "/shapes",
    "/api/docs",
    "/query",
    "/id/nothing-here",
]


def csp(r: httpx.Response) -> dict[str, list[str]]:
    out = {}
    for part in r.headers["content-security-policy"].split(";"):
        name, *values = part.split()
        out[name] = values
    return out


@pytest.mark.parametrize("path", PAGES)
def test_html_pages_have_a_strict_policy_they_obey(client, path):
    r = client.get(path)
    assert r.headers["content-type"].startswith("text/html"), path
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")
    assert r.headers["x-frame-options"] == "DENY"
    policy = csp(r)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no inline script, no eval, no other origin
    assert policy["style-src"][0] == "'self'"
    assert all(v.startswith("'sha256-") for v in policy["style-src"][1:])  # only exact, hashed style texts
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"] and policy["form-action"] == ["'self'"]
    for name, values in policy.items():
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:"} & set(values), (name, values)
    # ...and the page needs nothing more: every script is a file of this origin or an inert JSON data block,
    # no inline style element or attribute, no event-handler attribute, no javascript: link
    for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", r.text, re.DOTALL):
        assert 'src="/' in attrs or ('type="application/json"' in attrs), (path, attrs, body[:200])
        assert not body.strip() or 'type="application/json"' in attrs, (path, attrs)
    assert "<style" not in r.text, path
    assert not re.search(r"""\sstyle\s*=\s*["']""", r.text), path
    assert not re.search(r"""<[^>]+\son[a-z]+\s*=""", r.text), path
    assert "javascript:" not in r.text.lower(), path


@pytest.mark.parametrize(
    "path,method,kwargs",
    [
        ("/api/stakeholders?q=iom", "GET", {}),
        ("/sparql?query=ASK%7B%7D", "GET", {}),
        ("/sparql", "POST", {"content": b"x" * 2_000_000, "headers": {"Content-Type": "application/sparql-query"}}),
        ("/id/iom.ttl", "GET", {}),
        ("/health", "GET", {}),
        ("/ui/app.css", "GET", {}),
        ("/static/yasgui.min.js", "GET", {}),
        ("/nowhere", "GET", {}),
    ],
)
def test_every_response_has_the_basic_headers(base, path, method, kwargs):
    r = httpx.request(method, base + path, timeout=60, **kwargs)
    assert r.headers["x-content-type-options"] == "nosniff", (path, r.status_code)
    assert r.headers["x-frame-options"] == "DENY"
    assert "referrer-policy" in r.headers
    policy = csp(r)
    assert policy["default-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
