"""The shape of api/: layers that import only downwards, routers that never import each other (the import-linter
contracts in pyproject.toml), no import hidden inside a function, and an entity page served in at most two trips
to the query workers (counted on a real server in this process, on the fresh build)."""

from __future__ import annotations

import ast
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sparql_server import dataset_for_tests

from api import store as S
from api.app import ServerConfig, create_app
from api.render import env
from graph import gaps as G
from graph.in_worker import with_store
from graph.store import RemoteError

ROOT = Path(__file__).resolve().parents[1]


def test_the_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "2 kept, 0 broken" in r.stdout


def imports_inside_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            found += [
                f"{path.name}:{n.lineno}: {ast.unparse(n)}"
                for n in ast.walk(fn)
                if isinstance(n, ast.Import | ast.ImportFrom)
            ]
    return found


def test_no_module_of_api_imports_inside_a_function(tmp_path):
    found = [
        f
        for p in sorted((ROOT / "api").rglob("*.py"))
        for f in imports_inside_functions(p)
    ]
    assert found == []
    hidden = tmp_path / "hidden.py"  # the check sees one
    hidden.write_text("def f():\n    from api import pages\n", encoding="utf-8")
    assert imports_inside_functions(hidden) == ["hidden.py:2: from api import pages"]


HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def served(request):
    """The app in this process (a real worker pool on the fresh build) and the list of trips to its workers."""
    app = create_app(ServerConfig(data=dataset_for_tests(request), workers=2, spare_workers=1, timeout=60))
    with TestClient(app) as client:
        pool = app.state.mdkg.pool
        trips: list = []
        run = pool.run

        async def counted(job, *args, **kwargs):
            trips.append(job)
            return await run(job, *args, **kwargs)

        pool.run = counted
        yield client, trips


@pytest.mark.parametrize(
    "path, shows",
    [
        ("/id/iom", 'class="egosvg"'),  # facts, evidence, incoming links, figures, ego network
        ("/id/state/MEX", "ICRMW"),  # a state: its treaties too
        ("/id/doc/iom-idm-2005/p287", 'id="passage-text"'),  # a passage: its text too
    ],
)
def test_an_entity_page_takes_at_most_two_trips_to_the_workers(served, path, shows):
    client, trips = served
    trips.clear()
    r = client.get(path, headers=HTML)
    assert r.status_code == 200 and shows in r.text
    assert 1 <= len(trips) <= 2, [getattr(t, "target", t) for t in trips]
    trips.clear()
    assert client.get(path, headers=HTML).status_code == 200
    assert trips == []  # the second time from memory


def test_the_home_page_takes_no_trip_to_the_workers(served):
    client, trips = served
    trips.clear()
    r = client.get("/", headers=HTML)  # the first time too: the graph's statistics are computed at startup
    assert r.status_code == 200 and "triples in all" in r.text
    assert trips == []


def test_every_template_is_compiled_when_the_server_starts(served):
    compiled = {name for _, name in env.cache}  # Jinja2 keys its cache by (loader, name)
    assert {"entity.html", "home.html", "gaps.html", "search.html"} <= compiled
    assert compiled >= set(env.list_templates(filter_func=lambda n: n.endswith(".html")))


def test_one_health_route_under_two_paths(served):
    client, _ = served
    plain, documented = client.get("/health").json(), client.get("/api/health").json()
    assert plain["status"] == documented["status"] == "ok"
    assert {"workers", "idle", "fast_lane", "slow_lane"} <= set(plain) & set(documented)


class _Backend:
    def query(self, text: str):
        if text == "down":
            raise RemoteError("the remote SPARQL server cannot be reached", 502)
        warnings.warn(f"incomplete: {text}", UserWarning, stacklevel=2)
        return [text]


def _ask(store, text: str, settings=None):
    if text == "bad":
        raise G.UnknownArea("unknown region 'bad'")
    return store.query(text)


def test_a_call_in_a_worker_returns_warnings_errors_and_failures_as_data():
    target = S.target_of(_ask)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing escapes as a warning of this process
        answer = with_store(_Backend(), target, ("gaps",), {})
    assert answer.value == ["gaps"] and answer.warnings == ["incomplete: gaps"]
    assert isinstance(with_store(_Backend(), target, ("bad",), {}).error, G.UnknownArea)
    down = with_store(_Backend(), target, ("down",), {})
    assert down.failure == (502, "the remote SPARQL server cannot be reached")


LOOKUP = "SELECT ?p ?o WHERE { <https://w3id.org/mdkg/id/iom> ?p ?o } ORDER BY ?p ?o"


@pytest.mark.parametrize(
    "method, kwargs",
    [
        ("GET", {"params": {"query": LOOKUP}}),
        ("GET", {"params": {"query": LOOKUP, "format": "csv"}, "headers": {"Origin": "https://example.org"}}),
        ("HEAD", {"params": {"query": LOOKUP}}),
        ("POST", {"data": {"query": "ASK { ?s ?p ?o }"}}),
        ("POST", {"content": LOOKUP, "headers": {"Content-Type": "application/sparql-query"}}),
        ("POST", {"content": LOOKUP, "headers": {"Content-Type": "text/plain"}}),  # 415
        ("POST", {"data": {"update": "DROP ALL"}}),  # 403
        ("GET", {"params": {"query": "SELECT ?s WHERE { ?s"}}),  # 400, a syntax error
        ("GET", {"params": {"query": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 3"}, "headers": {"Accept": "text/csv"}}),
        ("GET", {"headers": {"Accept": "text/turtle"}}),  # no query: the service description
    ],
)
def test_the_protocols_direct_path_answers_as_the_framework_route_does(served, method, kwargs):
    """`Facade` sends /sparql straight to its endpoint under the same guards; the framework's route to the same
    endpoint (what any other method, or a client of the bare FastAPI app, reaches) must answer alike."""
    client, _ = served

    async def through_the_framework(scope, receive, send):
        await FastAPI.__call__(client.app, scope, receive, send)

    framework = TestClient(through_the_framework)
    direct, routed = (c.request(method, "/sparql", **kwargs) for c in (client, framework))
    assert direct.status_code == routed.status_code
    assert direct.content == routed.content
    varying = {"date", "server-timing"}
    assert {k: v for k, v in direct.headers.items() if k not in varying} == {
        k: v for k, v in routed.headers.items() if k not in varying
    }
    assert "content-security-policy" in direct.headers and direct.headers["x-content-type-options"] == "nosniff"
