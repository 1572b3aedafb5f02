"""The endpoint under hostile input (issue 11): no network from query evaluation whatever the query says, complexity
limits before the parser can overflow, cheap queries served under a flood of heavy ones, HTTP connection limits,
HEAD everywhere, clean shutdown. Every test runs a real `mdkg serve` on the built graph."""

from __future__ import annotations

import glob
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from sparql_server import ROOT, dataset_for_tests, free_port, mdkg_server, query_workers, wait_until_up

FAST = "ASK { ?s a <https://w3id.org/mdkg/ontology#State> }"
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
MARKER = "fake-endpoint-was-reached"


class FakeEndpoint:
    """A SPARQL endpoint on loopback that records every connection and answers one row holding MARKER."""

    def __init__(self):
        self.hits: list[str] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                hits.append(f"{self.command} {self.path}")
                body = json.dumps(
                    {"head": {"vars": ["s", "p", "o"]},
                     "results": {"bindings": [{v: {"type": "literal", "value": MARKER} for v in "spo"}]}}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/sparql"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def fake():
    endpoint = FakeEndpoint()
    yield endpoint
    endpoint.close()


@pytest.fixture(scope="module")
def served(request, tmp_path_factory):
    data = dataset_for_tests(request)
    with mdkg_server(tmp_path_factory.mktemp("hardening"), "--data", str(data), "--workers", "4",
                     "--timeout", "5") as (base, proc):
        yield base, proc


# ------------------------------------------------------------------------------------------ SSRF: trick family

# {url} is the fake endpoint's SPARQL URL, {host} its origin with a trailing slash. Each trick hides a SERVICE call
# from a lexical scan in a different way; the first is the one that got through before (issue 11).
TRICKS = [
    r"SELECT * WHERE {{ BIND(<http://a/\u0041#> AS ?a) SERVICE <{url}> {{ ?s ?p ?o }} }}",
    r"SELECT * WHERE {{ BIND(<http://a/\u0027> AS ?a) SERVICE <{url}> {{ ?s ?p ?o }} }}",
    r"SELECT * WHERE {{ BIND(<http://a/\u0022> AS ?a) SERVICE <{url}> {{ ?s ?p ?o }} }}",
    r"SELECT * WHERE {{ BIND('\u0027' AS ?a) SERVICE <{url}> {{ ?s ?p ?o }} }}",
    r'SELECT * WHERE {{ BIND("\u0022" AS ?a) SERVICE <{url}> {{ ?s ?p ?o }} }}',
    r"SELECT * WHERE {{ BIND('\'' AS ?a) SERVICE <{url}> {{ ?s ?p ?o }} }}",
    r"SELECT * WHERE {{ BIND('''a'b''' AS ?a) SERVICE <{url}> {{ ?s ?p ?o }} }}",
    r'SELECT * WHERE {{ BIND("#" AS ?a) SERVICE <{url}> {{ ?s ?p ?o }} }}',
    r"SELECT * WHERE {{ BIND(<urn:x#y> AS ?a) SERVICE <{url}> {{ ?s ?p ?o }} }}",
    r"SELECT * WHERE {{ SERVICE <{host}\u0073parql> {{ ?s ?p ?o }} }}",
    r"SELECT * WHERE {{ SERVICE <{host}\U00000073parql> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
    "select * where {{ service silent <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SeRvIcE <{url}> {{ ?s ?p ?o }} }}",
    "PREFIX e: <{host}> SELECT * WHERE {{ SERVICE e:sparql {{ ?s ?p ?o }} }}",
    r"PREFIX e: <{host}\u0073> SELECT * WHERE {{ SERVICE e:parql {{ ?s ?p ?o }} }}",
    "PREFIX : <{host}> SELECT * WHERE {{ SERVICE :sparql {{ ?s ?p ?o }} }}",
    "BASE <{host}> SELECT * WHERE {{ SERVICE <sparql> {{ ?s ?p ?o }} }}",
    r"PREFIX ex: <http://x/> SELECT * WHERE {{ ?s ex:a\#b ?o . SERVICE <{url}> {{ ?s ?p ?o }} }}",
    r"PREFIX ex: <http://x/> SELECT * WHERE {{ ?s ex:a\'b ?o . SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ VALUES ?e {{ <{url}> }} SERVICE ?e {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} }}",
    "ASK {{ FILTER EXISTS {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
    "ASK {{ FILTER NOT EXISTS {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }} }}",
    "SELECT * WHERE {{ OPTIONAL {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
    "SELECT * WHERE {{ {{ ?s ?p ?o }} UNION {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
    "SELECT * WHERE {{ ?x ?y ?z MINUS {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
    "SELECT * WHERE {{ GRAPH ?g {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
    "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "DESCRIBE ?s WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "# SERVICE in a comment first\nSELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ # comment ending with CR\r SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ ?s ?p 'unterminated\r SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE\t<{url}>{{?s ?p ?o}} }}",
    "SELECT * WHERE {{ SERVICE <{url}?query=ASK%7B%7D> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE <http://localhost:{port}/sparql> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE <http://[::ffff:127.0.0.1]:{port}/sparql> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE <http://2130706433:{port}/sparql> {{ ?s ?p ?o }} }}",
]


def trick_queries(fake: FakeEndpoint) -> list[str]:
    host = f"http://127.0.0.1:{fake.port}/"
    return [t.format(url=fake.url, host=host, port=fake.port) for t in TRICKS]


def test_no_trick_reaches_the_network(served, fake):
    base, _ = served
    tried = 0
    with httpx.Client(base_url=base, timeout=30) as client:
        for query in trick_queries(fake):
            for send in ("get", "form", "direct"):
                if send == "get":
                    r = client.get("/sparql", params={"query": query})
                elif send == "form":
                    r = client.post("/sparql", data={"query": query})
                else:
                    r = client.post("/sparql", content=query.encode(),
                                    headers={"Content-Type": "application/sparql-query"})
                tried += 1
                assert MARKER not in r.text, (query, r.status_code)
                assert r.status_code in (400, 403), (query, r.status_code, r.text)
                assert "Traceback" not in r.text
    time.sleep(0.3)
    assert tried == 3 * len(TRICKS)
    assert fake.hits == [], fake.hits


def test_workers_have_no_network_by_construction(served):
    """Whatever a query says, its worker cannot connect: the workers live in a network namespace of their own."""
    base, proc = served
    status = httpx.get(f"{base}/health").json()
    assert status["network_isolation"] in ("network namespace", "user and network namespace")
    server_ns = os.readlink(f"/proc/{proc.pid}/ns/net")
    workers = query_workers(proc.pid)
    assert len(workers) == status["processes"]
    for pid in workers:
        assert os.readlink(f"/proc/{pid}/ns/net") != server_ns


def test_refusal_names_service(served, fake):
    base, _ = served
    r = httpx.post(f"{base}/sparql", data={"query": f"SELECT * WHERE {{ SERVICE <{fake.url}> {{ ?s ?p ?o }} }}"})
    assert r.status_code == 403 and "SERVICE" in r.text


def test_allowlisted_service_works_and_others_do_not(request, tmp_path, fake):
    other = FakeEndpoint()
    try:
        data = dataset_for_tests(request)
        args = ("--data", str(data), "--workers", "2", "--allow-service", fake.url)
        with mdkg_server(tmp_path, *args) as (base, _):
            before = len(fake.hits)
            query = f"SELECT * WHERE {{ SERVICE <{fake.url}> {{ ?s ?p ?o }} }}"
            r = httpx.post(f"{base}/sparql", data={"query": query})
            assert r.status_code == 200 and MARKER in r.text
            assert len(fake.hits) == before + 1
            for query in trick_queries(other):
                r = httpx.post(f"{base}/sparql", data={"query": query})
                assert MARKER not in r.text and r.status_code in (400, 403), (query, r.status_code, r.text)
            time.sleep(0.3)
            assert other.hits == []
    finally:
        other.close()


# ------------------------------------------------------------------------------------------ complexity

DEEP = {
    "12,000 negations": "ASK { FILTER(" + "!" * 12_000 + "true) }",
    "12,000 unary minus": "ASK { FILTER(" + "-" * 12_000 + "1 < 0) }",
    "20,000-term && chain": "ASK { FILTER(" + " && ".join(["true"] * 20_000) + ") }",
    "30,000-step path": "ASK { ?s " + "/".join(["<http://p>"] * 30_000) + " ?o }",
    "20,000 OPTIONALs": "ASK { ?s ?p ?o "
    + " ".join(f"OPTIONAL {{ ?s <http://p{i}> ?x{i} }}" for i in range(20_000))
    + "}",
    "20,000 UNIONs": "ASK { " + " UNION ".join(f"{{ ?s <http://p{i}> ?o }}" for i in range(20_000)) + "}",
    "20,000 BINDs": "ASK { " + " ".join(f"BIND({i} AS ?x{i})" for i in range(20_000)) + "}",
    "10,000 nested brackets": "ASK { FILTER(" + "(" * 10_000 + "true" + ")" * 10_000 + ") }",
    "3,000 nested EXISTS": "ASK { " + "FILTER EXISTS { " * 3_000 + "?s ?p ?o" + " }" * 3_000 + "}",
    "5,000 nested sub-selects": "ASK { " + "{ SELECT * WHERE " * 5_000 + "{ ?s ?p ?o }" + " }" * 5_000 + "}",
}


@pytest.mark.parametrize("name", list(DEEP))
def test_deep_queries_are_refused_before_they_can_crash(served, name):
    base, _ = served
    before = httpx.get(f"{base}/health").json()
    r = httpx.post(f"{base}/sparql", content=DEEP[name].encode(),
                   headers={"Content-Type": "application/sparql-query"}, timeout=60)
    assert r.status_code == 400, (name, r.status_code, r.text[:300])
    assert "too complex" in r.text
    after = httpx.get(f"{base}/health").json()
    assert after["replaced"] == before["replaced"]  # no worker died
    assert httpx.get(f"{base}/sparql", params={"query": FAST}).json()["boolean"] is True


def test_real_queries_pass_the_limits(served):
    base, _ = served
    union = " UNION ".join(f"{{ ?s <http://example.org/p{i}> ?o }}" for i in range(200))
    values = "VALUES ?x { " + " ".join(str(i) for i in range(20_000)) + " }"
    for query in (f"SELECT * WHERE {{ {union} }}", f"SELECT (COUNT(*) AS ?n) WHERE {{ {values} }}"):
        r = httpx.post(f"{base}/sparql", data={"query": query}, timeout=30)
        assert r.status_code == 200, r.text[:300]


# ------------------------------------------------------------------------------------------ fair scheduling


def _latencies(base: str, queries: dict[str, str], seconds: float) -> tuple[dict[str, list[float]], set[int]]:
    times: dict[str, list[float]] = {k: [] for k in queries}
    statuses = set()
    end = time.monotonic() + seconds
    with httpx.Client(base_url=base, timeout=30) as client:
        while time.monotonic() < end:
            for kind, query in queries.items():
                t = time.perf_counter()
                r = client.get("/sparql", params={"query": query})
                times[kind].append(time.perf_counter() - t)
                statuses.add(r.status_code)
            time.sleep(0.02)
    return times, statuses


def test_cheap_queries_are_not_starved_by_heavy_ones(served):
    """Eight clients send ever-new cross products back to back (each runs into the deadline, or is stopped or
    refused); meanwhile another client's `ASK {}` and entity lookups are answered at once: no set of clients
    whose queries run long can hold the reserved worker. (Full figures: bench/load/flood.py.)"""
    base, _ = served
    stop = threading.Event()
    heavy_statuses: list[int] = []

    def flood(i: int):  # eight clients of their own (addresses), each query a new text
        transport = httpx.HTTPTransport(local_address=f"127.0.0.{10 + i}")
        n = 0
        with httpx.Client(base_url=base, timeout=30, transport=transport) as client:
            while not stop.is_set():
                n += 1
                r = client.post("/sparql", data={"query": HEAVY + f" # client {i} query {n}"})
                heavy_statuses.append(r.status_code)
                if r.status_code != 200:
                    time.sleep(0.2)  # as a client would on 503: keeps this process from eating the CPU

    threads = [threading.Thread(target=flood, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        cheap = {"ask": "ASK {}", "lookup": "SELECT ?p ?o WHERE { <https://w3id.org/mdkg/id/iom> ?p ?o }"}
        times, statuses = _latencies(base, cheap, 8)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert statuses == {200}
    assert heavy_statuses and all(s in (200, 503) for s in heavy_statuses)
    for kind, ts in times.items():
        assert statistics.median(ts) < 0.1, (kind, statistics.median(ts))
        # loose for a shared CI machine (it was 7 s before lanes); bench/load/flood.py holds the 100 ms target
        assert statistics.quantiles(ts, n=100)[98] < 1.0, (kind, sorted(ts)[-5:])


def test_network_views_run_in_workers_under_the_deadline(served):
    base, _ = served
    before = httpx.get(f"{base}/health").json()["served"]
    r = httpx.get(f"{base}/api/network", params={"layer": "comentions", "measure": "betweenness"}, timeout=60)
    assert r.status_code in (200, 422), r.text[:300]
    if r.status_code == 200:
        assert httpx.get(f"{base}/health").json()["served"] > before


# ------------------------------------------------------------------------------------------ HTTP limits


@pytest.fixture(scope="module")
def tight(request, tmp_path_factory):
    data = dataset_for_tests(request)
    args = ("--data", str(data), "--workers", "2", "--max-connections", "20", "--header-timeout", "1",
            "--max-request-bytes", "8192", "--max-connections-per-address", "12", "--max-answer-mb", "2")
    with mdkg_server(tmp_path_factory.mktemp("tight"), *args) as (base, proc):
        yield base, proc


def _port(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


def test_connection_cap_refuses_cleanly_and_recovers(tight):
    base, _ = tight
    port = _port(base)
    idle = []
    for _ in range(40):
        s = socket.create_connection(("127.0.0.1", port))
        idle.append(s)
    refused = 0
    for s in idle[25:]:
        s.settimeout(2)
        try:
            data = s.recv(4096)
        except TimeoutError:
            data = b"?"
        refused += data.startswith(b"HTTP/1.1 503")
    assert refused >= 10
    # the idle ones are closed by the header timeout, and the server answers again
    time.sleep(2.5)
    for s in idle:
        s.close()
    assert httpx.get(f"{base}/sparql", params={"query": "ASK {}"}).status_code == 200


def test_one_address_cannot_take_every_connection(tight):
    base, _ = tight
    port = _port(base)
    held = []
    for _ in range(14):
        s = socket.socket()
        s.bind(("127.0.0.3", 0))
        s.connect(("127.0.0.1", port))
        held.append(s)
    refused = 0
    for s in held[12:]:
        s.settimeout(2)
        refused += s.recv(100).startswith(b"HTTP/1.1 503")
    assert refused == 2
    assert httpx.get(f"{base}/sparql", params={"query": "ASK {}"}).status_code == 200  # others still get in
    for s in held:
        s.close()


def test_a_huge_answer_is_cut_to_what_fits(tight):
    base, _ = tight
    ten = lambda v: "CONCAT(" + ", ".join([v] * 10) + ")"  # noqa: E731
    query = ('SELECT ?x WHERE { ?s ?p ?o BIND("' + "x" * 1000 + f'" AS ?a) BIND({ten("?a")} AS ?b) '
             f"BIND({ten('?b')} AS ?x) }} LIMIT 50")  # 100 KB a row, 5 MB in all
    r = httpx.post(f"{base}/sparql", data={"query": query}, timeout=60)
    assert r.status_code == 200
    assert len(r.content) <= 2 * 2**20
    assert r.headers["mdkg-result-truncated"].startswith("true")
    assert 0 < len(r.json()["results"]["bindings"]) < 50


def test_idle_and_slow_header_connections_are_closed(tight):
    base, _ = tight
    port = _port(base)
    idle = socket.create_connection(("127.0.0.1", port))
    slow = socket.create_connection(("127.0.0.1", port))
    slow.sendall(b"GET /health HTTP/1.1\r\n")
    started = time.monotonic()
    closed_at = None
    for _ in range(8):
        time.sleep(0.4)
        try:
            slow.sendall(b"X-Slow: 1\r\n")
        except OSError:
            closed_at = time.monotonic() - started
            break
    idle.settimeout(5)
    assert idle.recv(100) == b""  # closed by the server
    slow.settimeout(5)
    rest = b""
    try:
        rest = slow.recv(4096)
    except OSError:
        pass
    assert closed_at is not None or rest.startswith(b"HTTP/1.1 408") or rest == b""
    idle.close()
    slow.close()


def raw_get(base: str, target: str) -> tuple[int, dict[str, str], bytes]:
    """GET with a request line of any length (HTTP clients refuse URLs past 64 KiB)."""
    with socket.create_connection(("127.0.0.1", _port(base)), timeout=30) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def test_long_request_lines_get_414_with_headers(tight):
    base, _ = tight
    for size in (200_000, 2_000_000):
        status, headers, body = raw_get(base, "/sparql?query=ASK%7B%7D" + "%20" * (size // 3))
        assert status == 414, (size, status, body[:200])
        assert b"POST" in body
        assert headers.get("x-content-type-options") == "nosniff"


def test_a_200_kb_get_query_is_served(served):
    base, _ = served
    status, _, body = raw_get(base, "/sparql?query=ASK%7B%7D" + "%20" * 66_000)
    assert status == 200 and json.loads(body)["boolean"] is True


@pytest.mark.parametrize("path", ["/", "/sparql", "/health", "/api/health", "/api/stakeholders", "/dumps/mdkg.nq",
                                  "/id/iom", "/gaps", "/.well-known/void"])
def test_head_is_answered_like_get(served, path):
    base, _ = served
    get = httpx.get(f"{base}{path}", timeout=60)
    head = httpx.head(f"{base}{path}", timeout=60)
    assert head.status_code == get.status_code == 200, (path, head.status_code)
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]


# ------------------------------------------------------------------------------------------ process hygiene


def test_sigterm_removes_the_loaded_store(request, tmp_path):
    data = dataset_for_tests(request)
    tmp = tmp_path / "tmp"  # the server's temporary folders, apart from other servers' on this machine
    tmp.mkdir()
    port = free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp)}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mdkg.cli", "serve", "--data", str(data), "--port", str(port), "--workers", "2"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", proc, log)
        ours = set(glob.glob(str(tmp / "mdkg-store-*")))
        assert ours, "the server keeps its store under $TMPDIR/mdkg-store-*"
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not any(Path(p).exists() for p in ours), log.read_text(errors="replace")[-2000:]


def test_killed_queries_leave_no_unretrieved_exceptions(request, tmp_path):
    data = dataset_for_tests(request)
    with mdkg_server(tmp_path, "--data", str(data), "--workers", "2", "--timeout", "1") as (base, _):
        for i in range(3):
            r = httpx.post(f"{base}/sparql", data={"query": HEAVY + f" # {i}"}, timeout=30)
            assert r.status_code == 503
        time.sleep(1.5)
    logs = "".join(p.read_text(errors="replace") for p in tmp_path.glob("serve-*.log"))
    assert "Future exception was never retrieved" not in logs
    assert "Traceback" not in logs


# ------------------------------------------------------------------------------------------ answers


def test_select_star_keeps_the_query_order(served):
    base, _ = served
    query = "SELECT * WHERE { ?zebra ?apple ?mango } LIMIT 1"
    r = httpx.get(f"{base}/sparql", params={"query": query})
    assert r.json()["head"]["vars"] == ["zebra", "apple", "mango"]
    r = httpx.get(f"{base}/sparql", params={"query": query, "format": "csv"})
    assert r.text.splitlines()[0] == "zebra,apple,mango"


def test_missing_prefix_gets_a_short_message(served):
    base, _ = served
    r = httpx.get(f"{base}/sparql", params={"query": "SELECT * WHERE { ?s nope:p ?o }"})
    assert r.status_code == 400
    assert len(r.text) < 600 and "nope" in r.text, r.text


def test_406_lists_the_formats_of_the_query_form(served):
    base, _ = served
    r = httpx.get(f"{base}/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"},
                  headers={"Accept": "image/png"})
    assert r.status_code == 406
    assert "application/sparql-results+json" in r.text and "text/turtle" not in r.text
    r = httpx.get(f"{base}/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1"},
                  headers={"Accept": "image/png"})
    assert r.status_code == 406 and "text/turtle" in r.text and "sparql-results+json" not in r.text


def test_evaluation_errors_are_4xx_without_traces(served):
    base, proc = served
    cases = {
        "SELECT (<urn:f>(1) AS ?v) {}": (400, "json"),  # an unknown function
        "CONSTRUCT { <urn:a> <urn:b> <<( <urn:a> <urn:b> <urn:c> )>> } {}": (406, "jsonld"),  # JSON-LD cannot
    }
    for query, (status, fmt) in cases.items():
        r = httpx.get(f"{base}/sparql", params={"query": query, "format": fmt})
        assert r.status_code == status, (query, r.status_code, r.text)
        assert "Traceback" not in r.text and "SERVICE" not in r.text
    deep = "SELECT * WHERE { ?s ?p " + "<< " * 400 + "<urn:a> <urn:b> <urn:c>" + " >>" * 400 + " }"
    r = httpx.post(f"{base}/sparql", data={"query": deep})
    assert r.status_code == 400 and "too complex" in r.text


def test_a_host_header_that_is_no_iri_is_harmless(served):
    base, _ = served
    for host in ("%", "%zz", "a%2"):
        r = httpx.get(f"{base}/sparql", params={"query": "ASK {}"}, headers={"Host": host})
        assert r.status_code == 200, (host, r.status_code, r.text)


def test_clients_leaving_mid_request_are_not_logged_as_errors(request, tmp_path):
    data = dataset_for_tests(request)
    with mdkg_server(tmp_path, "--data", str(data), "--workers", "2") as (base, _):
        for _ in range(20):
            with socket.create_connection(("127.0.0.1", _port(base))) as s:
                s.sendall(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                          b"Content-Length: 999999\r\n\r\nASK {")
        time.sleep(1)
        assert httpx.get(f"{base}/sparql", params={"query": "ASK {}"}).status_code == 200
    logs = "".join(p.read_text(errors="replace") for p in tmp_path.glob("serve-*.log"))
    assert "Traceback" not in logs and "internal error" not in logs, logs[-2000:]
