"""What a hostile or careless query cannot do to the endpoint: run past its deadline (the worker is killed and
replaced while other clients are served), call out with SERVICE, update the data, send oversized requests,
get a stack trace back, or read unbounded results. Also CORS, and refusing to start on a bad dataset file."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sparql_server import ROOT, dataset_for_tests, mdkg_server, query_workers

LIMIT = 8192
ROWS = 1000
DEADLINE = 2
# Never finishes on the built graph: a three-way cross product of every triple.
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
FAST = "ASK { ?s a <https://w3id.org/mdkg/ontology#State> }"


@pytest.fixture(scope="module")
def served(request, tmp_path_factory):
    data = dataset_for_tests(request)
    args = (
        "--data",
        str(data),
        "--workers",
        "2",
        "--timeout",
        str(DEADLINE),
        "--max-rows",
        str(ROWS),
        "--max-request-bytes",
        str(LIMIT),
    )
    with mdkg_server(tmp_path_factory.mktemp("safety"), *args) as (base, proc):
        yield base, proc


@pytest.fixture(scope="module")
def server(served) -> str:
    return served[0]


def wait_for_pool(base: str, timeout: float = 60) -> dict:
    """Wait until every worker process (lane slots plus spares) is alive and idle again."""
    end = time.monotonic() + timeout
    status = {}
    while time.monotonic() < end:
        status = httpx.get(f"{base}/health").json()
        if status["idle"] == status["workers"] == status["processes"]:
            return status
        time.sleep(0.2)
    raise AssertionError(f"the pool did not recover: {status}")


# ---------------------------------------------------------------------------------------------- deadline


def test_deadline_kills_the_query_and_others_are_served(served):
    base, proc = served
    wait_for_pool(base)
    before = query_workers(proc.pid)
    replaced_before = httpx.get(f"{base}/health").json()["replaced"]
    slow: dict = {}

    def run_slow():
        r = httpx.post(f"{base}/sparql", data={"query": ENDLESS}, timeout=60)
        slow["status"], slow["text"] = r.status_code, r.text

    thread = threading.Thread(target=run_slow)
    thread.start()
    fast = []
    # another client: the one running a long query takes turns with itself for a while (api/workers.py)
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(base_url=base, timeout=30, transport=transport) as client:
        while thread.is_alive():
            r = client.get("/sparql", params={"query": FAST})
            fast.append((r.status_code, r.json().get("boolean")))
    thread.join()
    assert slow["status"] == 503, slow
    assert "deadline" in slow["text"] and f"{DEADLINE} s" in slow["text"]
    assert "Traceback" not in slow["text"]
    # the other worker kept answering while the endless query ran
    assert len(fast) >= 3
    assert set(fast) == {(200, True)}
    # the worker that ran it was really killed (its process is gone), and a fresh one took its place
    status = wait_for_pool(base)
    assert status["replaced"] == replaced_before + 1
    after = query_workers(proc.pid)
    gone = before - after
    assert len(gone) == 1
    assert not Path(f"/proc/{gone.pop()}").exists()
    assert len(after - before) == 1
    assert httpx.get(f"{base}/sparql", params={"query": FAST}).json()["boolean"] is True


def test_client_may_ask_for_a_shorter_deadline(server):
    r = httpx.get(f"{server}/sparql", params={"query": ENDLESS, "timeout": "0.5"}, timeout=30)
    assert r.status_code == 503
    assert "0.5 s deadline" in r.text
    # and not for a longer one than the server's
    r = httpx.get(f"{server}/sparql", params={"query": ENDLESS, "timeout": "500"}, timeout=30)
    assert r.status_code == 503 and f"{DEADLINE} s deadline" in r.text
    wait_for_pool(server)


# ---------------------------------------------------------------------------------------------- SERVICE


@pytest.fixture
def listener():
    """A loopback TCP port that records every connection made to it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.2)
    hits = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            hits.append(1)
            conn.close()

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield sock.getsockname()[1], hits
    stop.set()
    t.join()
    sock.close()


@pytest.mark.parametrize(
    "template",
    [
        "SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        "SELECT * WHERE {{ service silent <{url}> {{ ?s ?p ?o }} }}",
        "PREFIX ep: <{base}> SELECT * WHERE {{ SERVICE ep:sparql {{ ?s ?p ?o }} }}",
        "SELECT * WHERE {{ VALUES ?ep {{ <{url}> }} SERVICE ?ep {{ ?s ?p ?o }} }}",
        "# a comment\nASK {{ {{ ?s ?p ?o }} UNION {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
    ],
)
def test_service_is_refused_without_any_connection(server, listener, template):
    port, hits = listener
    query = template.format(url=f"http://127.0.0.1:{port}/sparql", base=f"http://127.0.0.1:{port}/")
    r = httpx.post(f"{server}/sparql", data={"query": query})
    assert r.status_code == 403, r.text
    assert "SERVICE" in r.text
    time.sleep(0.3)
    assert hits == []


def test_from_iris_are_graph_names_never_fetched(server, listener):
    port, hits = listener
    url = f"http://127.0.0.1:{port}/data.ttl"
    queries = (
        f"SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}",
        f"ASK FROM NAMED <{url}> {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    )
    for query in queries:
        r = httpx.post(f"{server}/sparql", data={"query": query})
        assert r.status_code == 200, r.text
    r = httpx.get(f"{server}/sparql", params={"query": "ASK { ?s ?p ?o }", "default-graph-uri": url})
    assert r.json()["boolean"] is False  # an unknown graph is empty, not something to download
    time.sleep(0.3)
    assert hits == []


def test_service_inside_strings_and_iris_is_not_a_service_call(server):
    query = 'SELECT ?x WHERE { BIND("SERVICE <http://example.org/>" AS ?x) FILTER(?x != <urn:SERVICE>) }'
    r = httpx.post(f"{server}/sparql", data={"query": query})
    assert r.status_code == 200, r.text


# ---------------------------------------------------------------------------------------------- update


COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def count(server: str) -> int:
    return int(
        httpx.get(f"{server}/sparql", params={"query": COUNT}).json()["results"]["bindings"][0]["n"]["value"]
    )


@pytest.mark.parametrize("how", ["get", "form", "direct", "as-query", "drop-as-query", "using-graph"])
def test_update_is_refused(server, how):
    before = count(server)
    update = "DELETE WHERE { ?s ?p ?o }"
    url = f"{server}/sparql"
    if how == "get":
        r = httpx.get(url, params={"update": update})
    elif how == "form":
        r = httpx.post(url, data={"update": update})
    elif how == "direct":
        r = httpx.post(url, content=update, headers={"Content-Type": "application/sparql-update"})
    elif how == "as-query":
        r = httpx.post(url, content=update, headers={"Content-Type": "application/sparql-query"})
    elif how == "drop-as-query":
        r = httpx.get(url, params={"query": "PREFIX ex: <http://example.org/>\nDROP ALL"})
    else:
        r = httpx.post(url, params={"using-graph-uri": "http://example.org/g"}, data={"query": "ASK {}"})
    assert r.status_code == 403, r.text
    assert "read-only" in r.text
    assert count(server) == before


# ---------------------------------------------------------------------------------------------- sizes


def test_oversized_body_is_refused(server):
    query = "ASK { ?s ?p ?o }" + " " * LIMIT
    r = httpx.post(f"{server}/sparql", content=query, headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 413 and "too large" in r.text
    r = httpx.post(f"{server}/sparql", data={"query": query})
    assert r.status_code == 413


def test_oversized_chunked_body_is_refused(server):
    def chunks():
        yield b"ASK { ?s ?p ?o }"
        for _ in range(LIMIT // 1024 + 2):
            yield b" " * 1024

    r = httpx.post(f"{server}/sparql", content=chunks(), headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 413


def test_oversized_query_string_is_refused(server):
    query = "ASK { ?s ?p ?o }" + " " * LIMIT
    r = httpx.get(f"{server}/sparql", params={"query": query})
    assert r.status_code == 414 and "POST" in r.text


def test_row_cap(server):
    r = httpx.get(f"{server}/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert r.status_code == 200
    assert len(r.json()["results"]["bindings"]) == ROWS
    assert r.headers["mdkg-result-truncated"].startswith("true")
    r = httpx.get(f"{server}/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }", "format": "nt"})
    assert len(r.text.splitlines()) == ROWS
    assert "mdkg-result-truncated" in r.headers
    r = httpx.get(f"{server}/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 10"})
    assert "mdkg-result-truncated" not in r.headers


def _rows(r: httpx.Response, fmt: str) -> int:
    if fmt == "json":
        return len(r.json()["results"]["bindings"])
    if fmt == "xml":
        return r.text.count("<result>")
    return len(r.text.splitlines()) - 1  # csv, tsv: a header line (the rows hold IRIs only: no line breaks)


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
@pytest.mark.parametrize("select", ["SELECT ?s ?p WHERE { ?s ?p ?o } LIMIT ", "SELECT ?x WHERE { ?s ?p ?o } LIMIT "])
def test_row_cap_is_exact_in_every_results_format(server, fmt, select):
    """Oxigraph's writers write the answer; one that may hold more than the cap is counted and cut to exactly
    ROWS rows, and one of exactly ROWS rows is whole, whatever the format; also with rows that bind nothing (the
    smallest a format can write, which the size bound below which answers are not counted rests on)."""
    whole = httpx.get(f"{server}/sparql", params={"query": select + str(ROWS), "format": fmt})
    assert whole.status_code == 200 and "mdkg-result-truncated" not in whole.headers
    assert _rows(whole, fmt) == ROWS
    cut = httpx.get(f"{server}/sparql", params={"query": select + str(ROWS + 1), "format": fmt})
    assert cut.status_code == 200 and cut.headers["mdkg-result-truncated"] == f"true; limit={ROWS}"
    assert _rows(cut, fmt) == ROWS


# ---------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "query,position",
    [
        ("SELECT * WHERE { ?s ?p }", "1:"),
        ("PREFIX ex: <http://example.org/>\nSELECT * WHERE {\n  ?s ex:p ?o .\n  FILTER(\n}", "5:"),
        ("SELECT * WHERE { ?s nope:p ?o }", "1:"),
    ],
)
def test_syntax_errors_say_where(server, query, position):
    r = httpx.post(f"{server}/sparql", data={"query": query})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/plain")
    assert r.text.startswith("SPARQL syntax error")
    assert position in r.text
    assert "Traceback" not in r.text and 'File "' not in r.text


def test_malformed_requests_get_4xx_without_traces(server):
    url = f"{server}/sparql"
    responses = [
        httpx.post(
            url, content=b"query=\xff\xfe", headers={"Content-Type": "application/x-www-form-urlencoded"}
        ),
        httpx.post(
            url, content="ASK {}".encode("utf-16"), headers={"Content-Type": "application/sparql-query"}
        ),
        httpx.post(url, content=b"ASK {}", headers={"Content-Type": "application/json"}),
        httpx.get(url, params={"query": ""}),
        httpx.get(url, params=[("query", "ASK {}"), ("query", "ASK {}")]),
        httpx.get(url, params={"query": "ASK {}", "default-graph-uri": "not an iri"}),
        httpx.request("DELETE", url),
        httpx.get(f"{server}/nowhere"),
    ]
    for r in responses:
        assert 400 <= r.status_code < 500, (r.request.url, r.status_code, r.text)
        assert "Traceback" not in r.text


# ---------------------------------------------------------------------------------------------- CORS


def test_cors_for_reading_without_credentials(server):
    origin = {"Origin": "https://example.org"}
    r = httpx.get(f"{server}/sparql", params={"query": FAST}, headers=origin)
    assert r.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in r.headers
    r = httpx.options(
        f"{server}/sparql",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    assert "POST" in r.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in r.headers


# ---------------------------------------------------------------------------------------------- start-up


@pytest.mark.parametrize(
    "content,name,message",
    [
        (None, "missing.nq", "no such dataset file"),
        ("<a> <b> .\nthis is not n-quads\n", "broken.nq", "not valid N-Quads"),
        ("@prefix : <http://example.org/> .\n:a :b ", "broken.ttl", "not valid Turtle"),
        ("<a> <b> <c> .\n", "data.unknown", "cannot tell the RDF format"),
    ],
)
def test_serve_refuses_a_missing_or_corrupt_file(tmp_path, content, name, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run(
        [sys.executable, "-m", "mdkg.cli", "serve", "--data", str(path), "--port", "9"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1
    assert message in r.stderr
    assert "Traceback" not in r.stderr


def test_worker_memory_limit(request, tmp_path):
    """With --worker-memory-mb, a query that would eat the machine's memory kills only its worker: 503, a
    clear message, and a fresh worker."""
    data = dataset_for_tests(request)
    args = ("--data", str(data), "--workers", "1", "--timeout", "60", "--worker-memory-mb", "300")
    with mdkg_server(tmp_path, *args) as (base, _):
        greedy = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f"
        r = httpx.post(f"{base}/sparql", data={"query": greedy}, headers={"Accept": "text/csv"}, timeout=90)
        assert r.status_code == 503
        assert "too much memory" in r.text and "Traceback" not in r.text
        assert "retry-after" in r.headers
        status = wait_for_pool(base)
        assert status["replaced"] == 1 and status["memory_kills"] == 1
        assert httpx.get(f"{base}/sparql", params={"query": FAST}).json()["boolean"] is True
