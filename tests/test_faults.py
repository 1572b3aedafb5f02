"""Faults around the server (issue 7): the remote store going away, hanging and coming back; dataset files that
cannot be served; a build that fails.

(a) `mdkg serve --remote` in front of a real `oxigraph serve`: the store is killed (SIGKILL, also in the middle
of a query), stopped (SIGSTOP: it accepts connections and never answers) and restarted on the same port with the
same data. Meanwhile every request answers 502/503 with a message that says so (no trace, no 500), /health
says what is wrong, the facade stays up; once the store is back the same facade process answers again.
(b) `mdkg serve --data` on a missing, empty, garbage, truncated or mis-encoded file: one `error:` line, exit 1,
within seconds. (c) a build that fails on a bad seed leaves build/current alone, so `mdkg serve` (its default
dataset) serves the last good build; after a good rebuild a newly started server serves the new data."""

from __future__ import annotations

import contextlib
import gzip
import random
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
from sparql_server import (
    ROOT,
    dataset_for_tests,
    free_port,
    mdkg,
    mdkg_server,
    oxigraph_binary,
    stop,
    wait_until_up,
)

STATE = "https://w3id.org/mdkg/ontology#State"
COUNT_STATES = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s a <{STATE}> }}"
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
DEADLINE = 3
DOWN = (502, 503)


# ---------------------------------------------------------------------------------------------- (a) remote


class Oxigraph:
    """`oxigraph serve` on a fixed port and store folder, which the test kills, pauses and restarts."""

    def __init__(self, location: Path):
        self.location, self.port = location, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        log = self.location.parent / f"oxigraph-{self.starts}.log"
        for _ in range(50):  # the port may take a moment to be free again after a kill
            with log.open("wb") as out:
                self.proc = subprocess.Popen(
                    [
                        oxigraph_binary(),
                        "serve",
                        "--location",
                        str(self.location),
                        "--bind",
                        f"127.0.0.1:{self.port}",
                        "--union-default-graph",
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            time.sleep(0.3)
            if self.proc.poll() is None:
                break
        self.starts += 1
        wait_until_up(f"{self.base}/query?query=ASK%7B%7D", self.proc, log)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def close(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(Exception):
                self.proc.send_signal(signal.SIGCONT)
            stop(self.proc)


@pytest.fixture(scope="module")
def remote(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("faults-remote")
    oxi = Oxigraph(tmp / "oxigraph")
    oxi.start()
    try:
        loaded = mdkg("load", "--to", f"{oxi.base}/store", "--data", str(dataset_for_tests(request)))
        assert loaded.returncode == 0, loaded.stderr
        with mdkg_server(tmp, "--remote", f"{oxi.base}/query", "--workers", "2", "--timeout", str(DEADLINE)) as (
            facade,
            proc,
        ):
            yield oxi, facade, proc
    finally:
        oxi.close()


def states(client: httpx.Client) -> int:
    r = client.get("/sparql", params={"query": COUNT_STATES})
    assert r.status_code == 200, r.text
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


def assert_clean_failure(r: httpx.Response, statuses=DOWN) -> None:
    where = f"{r.request.method} {r.request.url.path} -> {r.status_code}"
    assert r.status_code in statuses, (where, r.text[:500])
    assert "Traceback" not in r.text and 'File "' not in r.text, where
    assert "remote" in r.text or "deadline" in r.text or "busy" in r.text, (where, r.text[:500])


def wait_healthy(client: httpx.Client, timeout: float = 30) -> dict:
    end = time.monotonic() + timeout
    body = {}
    while time.monotonic() < end:
        body = client.get("/health").json()
        if body["status"] == "ok" and body["idle"] == body["workers"] == body["processes"]:
            return body
        time.sleep(0.2)
    raise AssertionError(f"the facade did not become healthy: {body}")


def test_remote_store_killed_hung_and_restarted(remote):
    oxi, facade, proc = remote
    faults = 0
    with httpx.Client(base_url=facade, timeout=60) as client:
        wait_healthy(client)
        expected = states(client)
        assert expected > 150
        assert client.get("/id/iom").status_code == 200

        # 1. the store is killed: every kind of request fails cleanly, and fast (no deadline to wait for)
        oxi.kill()
        faults += 1
        for path in ("/sparql?query=ASK%7B%7D", "/id/state/MEX", "/api/entities/state/FRA", "/search?q=mexico"):
            started = time.monotonic()
            r = client.get(path, headers={"Accept": "text/html"} if path.startswith(("/id", "/search")) else {})
            assert_clean_failure(r)
            assert time.monotonic() - started < DEADLINE, path
        r = client.post("/sparql", data={"query": COUNT_STATES})
        assert_clean_failure(r, (502,))
        assert "cannot be reached" in r.text and r.headers["content-type"].startswith("text/plain")
        health = client.get("/health")
        assert health.status_code == 200 and health.json()["status"] == "degraded"
        assert "cannot be reached" in health.json()["problem"]
        assert client.get("/api/health").json()["status"] == "degraded"
        assert proc.poll() is None

        # 2. back on the same port with the same data: the same facade process answers, nothing restarted
        oxi.start()
        wait_healthy(client)
        assert states(client) == expected
        assert client.get("/id/state/MEX", headers={"Accept": "text/html"}).status_code == 200
        assert client.get("/api/entities/state/FRA").status_code == 200

        # 3. killed in the middle of a long query: that query fails at once, not at its deadline
        slow: dict = {}

        def run_slow():
            t0 = time.monotonic()
            r = httpx.post(f"{facade}/sparql", data={"query": ENDLESS}, timeout=60)
            slow.update(status=r.status_code, text=r.text, seconds=time.monotonic() - t0)

        thread = threading.Thread(target=run_slow)
        thread.start()
        time.sleep(0.4)
        oxi.kill()
        faults += 1
        thread.join(60)
        assert slow["status"] in DOWN and "Traceback" not in slow["text"], slow
        oxi.start()
        wait_healthy(client)
        assert states(client) == expected

        # 4. the store hangs (SIGSTOP: connections are accepted, nothing answers): the deadline answers 503,
        # the workers stuck on it are replaced; SIGCONT and it answers again
        oxi.proc.send_signal(signal.SIGSTOP)
        faults += 1
        try:
            started = time.monotonic()
            r = client.post("/sparql", data={"query": COUNT_STATES})
            assert_clean_failure(r, (503,))
            assert "deadline" in r.text and time.monotonic() - started < DEADLINE + 5
            health = client.get("/health")
            assert health.json()["status"] == "degraded", health.text
        finally:
            oxi.proc.send_signal(signal.SIGCONT)
        wait_healthy(client)
        assert states(client) == expected
        assert proc.poll() is None
    print(f"remote faults injected: {faults} (kill, kill during a query, hang)")


# ---------------------------------------------------------------------------------------------- (b) bad files


def _garbage(path: Path) -> None:
    path.write_bytes(random.Random(7).randbytes(20_000))


def _truncated(source: Path, path: Path) -> None:
    data = source.read_bytes()[:300_000]
    path.write_bytes(data[: data.rfind(b"\n") - 17])  # cut in the middle of a statement


def _truncated_gz(source: Path, path: Path) -> None:
    path.write_bytes(gzip.compress(source.read_bytes()[:200_000])[:30_000])


BAD_FILES = {
    "missing.nq": (None, "no such dataset file"),
    "empty.nq": (lambda src, p: p.write_bytes(b""), "contains no RDF statements"),
    "comments-only.nq": (lambda src, p: p.write_text("# nothing\n\n"), "contains no RDF statements"),
    "garbage.nq": (lambda src, p: _garbage(p), "not valid N-Quads"),
    "garbage.ttl": (lambda src, p: _garbage(p), "not valid Turtle"),
    "nul-bytes.nq": (lambda src, p: p.write_bytes(b"\x00" * 4096), "not valid N-Quads"),
    "truncated.nq": (_truncated, "not valid N-Quads"),
    "truncated.nq.gz": (_truncated_gz, "not valid N-Quads"),
    "not-gzip.nq.gz": (lambda src, p: _garbage(p), "cannot be loaded"),
    "utf16.nq": (
        lambda src, p: p.write_bytes(src.read_bytes()[:2000].decode("utf-8", "ignore").encode("utf-16")),
        "not valid N-Quads",
    ),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_serve_refuses_a_bad_dataset_file_in_one_line(request, tmp_path, name):
    make, message = BAD_FILES[name]
    path = tmp_path / name
    if make is not None:
        make(dataset_for_tests(request), path)
    started = time.monotonic()
    r = mdkg("serve", "--data", str(path), "--port", str(free_port()), timeout=60)
    seconds = time.monotonic() - started
    assert r.returncode == 1, (r.returncode, r.stderr[-2000:])
    assert seconds < 15, seconds
    assert "Traceback" not in r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], r.stderr
    assert str(path) in errors[0]
    assert len(r.stderr.splitlines()) <= 2, r.stderr  # "loading ...", then the error


def test_serve_without_any_build(tmp_path):
    r = mdkg("serve", "--port", str(free_port()), env={"MDKG_BUILD_DIR": str(tmp_path / "build")}, timeout=60)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "no such dataset file" in r.stderr and "mdkg build" in r.stderr


# ---------------------------------------------------------------------------------------------- (c) builds

NEW_ENTITY = """- id: fault-injection-test-organisation
  kind: CivilSocietyOrganisation
  name: Fault Injection Test Organisation
  state: FRA
  note: Added by tests/test_faults.py to tell one build from the next.
"""
NEW_IRI = "https://w3id.org/mdkg/id/fault-injection-test-organisation"
BAD_SEEDS = {
    "invalid YAML": "- id: broken\n  kind: [unclosed\n",
    "unknown reference": (
        "- id: dangling\n  kind: CivilSocietyOrganisation\n  name: Dangling\n  part_of: no-such-entity\n"
    ),
}


def served_facts(base: str) -> tuple[int, bool]:
    r = httpx.get(f"{base}/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}, timeout=30)
    n = int(r.json()["results"]["bindings"][0]["n"]["value"])
    r = httpx.get(f"{base}/sparql", params={"query": f"ASK {{ <{NEW_IRI}> ?p ?o }}"}, timeout=30)
    return n, r.json()["boolean"]


def test_failed_build_never_replaces_what_serve_serves(request, tmp_path, monkeypatch):
    root = tmp_path / "project"
    for name in ("ontology", "shapes", "seeds"):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("curation"))
    build_dir = root / "build"
    env = {"MDKG_ROOT": str(root), "MDKG_BUILD_DIR": str(build_dir)}
    for name, value in env.items():  # for the `mdkg serve` processes started below (mdkg_server)
        monkeypatch.setenv(name, value)
    # the last good build: the session's fresh build, published the way `mdkg build` publishes a run
    good = build_dir / "runs" / "good"
    shutil.copytree(Path(dataset_for_tests(request)).parent, good)
    (build_dir / "current").symlink_to(Path("runs") / "good")
    good_bytes = (good / "mdkg.nq").read_bytes()

    entities = root / "seeds" / "registry" / "entities.yaml"
    pristine = entities.read_text(encoding="utf-8")
    for what, bad in BAD_SEEDS.items():
        entities.write_text(pristine + NEW_ENTITY + bad, encoding="utf-8")
        r = mdkg("build", "--quiet", env=env)
        assert r.returncode != 0, what
        assert "previous build is unchanged" in r.stderr and "Traceback" not in r.stderr, (what, r.stderr)
        assert (build_dir / "current").resolve() == good.resolve(), what
        assert (good / "mdkg.nq").read_bytes() == good_bytes, what

    # a server started now serves the last good build, without the entity of the failed ones
    with mdkg_server(tmp_path, "--workers", "1") as (base, _):
        old_count, has_new = served_facts(base)
    assert not has_new and old_count > 10_000

    # a good rebuild is published, and a server started after it serves the new data
    entities.write_text(pristine + NEW_ENTITY, encoding="utf-8")
    r = mdkg("build", "--quiet", env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    new = (build_dir / "current").resolve()
    assert new != good.resolve() and (new / "mdkg.nq").is_file()
    with mdkg_server(tmp_path, "--workers", "1") as (base, _):
        new_count, has_new = served_facts(base)
    assert has_new and new_count > old_count
