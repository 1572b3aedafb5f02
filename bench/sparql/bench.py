"""Side-by-side SPARQL endpoint benchmark: mdkg serve vs rdflib-endpoint (PyPI) vs `oxigraph serve`, on the
same data file and the same queries, over HTTP on loopback.

Reports, per query, the median latency of sequential requests on each server (the servers asked in turn, one
request each, so that load from other jobs falls on all of them alike) and the factor mdkg is slower by, checks
that the servers agree on the number of results, then the throughput (requests/s) of each server under N
concurrent clients. Not run in CI.

    python bench/sparql/generate.py --triples 1e5 --out /tmp/mdkg-1e5.nq
    python bench/sparql/bench.py --data /tmp/mdkg-1e5.nq \
        --rdflib-endpoint /path/to/venv/bin/rdflib-endpoint      # pip install rdflib-endpoint[cli]==0.6.3

rdflib-endpoint is best installed in a venv of its own (it is not a dependency of mdkg); without
--rdflib-endpoint the script looks for it on PATH and skips it if absent (or with --skip rdflib-endpoint,
e.g. at 10^7 triples, where it needs hours to load).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]

PREFIXES = """PREFIX mdkg: <https://w3id.org/mdkg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX ak: <https://w3id.org/mdkg/id/action-kind/>
"""
QUERIES = {
    "lookup": "SELECT ?p ?o WHERE { <https://w3id.org/mdkg/id/state/BAN> ?p ?o }",
    "count": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "states": "SELECT ?s ?label WHERE { ?s a mdkg:State ; rdfs:label ?label } ORDER BY ?label",
    "partnerships": """SELECT ?x (COUNT(?partner) AS ?partners) (SAMPLE(?label) AS ?name) WHERE {
        ?x a mdkg:Partnership ; mdkg:partner ?partner . OPTIONAL { ?partner rdfs:label ?label }
      } GROUP BY ?x ORDER BY DESC(?partners) ?x LIMIT 100""",
    "centrality": """SELECT ?s (COUNT(DISTINCT ?o) AS ?degree) WHERE { ?s mdkg:partnerOf ?o }
      GROUP BY ?s ORDER BY DESC(?degree) ?s LIMIT 50""",
    "gaps": """SELECT ?state (COUNT(DISTINCT ?x) AS ?partnerships) WHERE {
        ?state a mdkg:State . ?x a mdkg:Partnership ; mdkg:partner ?state .
        FILTER NOT EXISTS { ?a mdkg:state ?state ; mdkg:instrument <https://w3id.org/mdkg/id/icrmw> ;
                                 mdkg:actionKind ak:ratification }
      } GROUP BY ?state ORDER BY DESC(?partnerships) ?state""",
    "construct": """CONSTRUCT { ?x mdkg:partner ?p } WHERE { ?x a mdkg:Partnership ; mdkg:partner ?p }
      LIMIT 2000""",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, name: str, cmd: list[str], endpoint: str, log: Path, env: dict | None = None):
        self.name, self.endpoint = name, endpoint
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )

    def wait(self, timeout: float) -> float:
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text(errors='replace')[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                r = httpx.get(
                    self.endpoint,
                    params={"query": "ASK {}"},
                    timeout=5,
                    headers={"Accept": "application/sparql-results+json"},
                )
                if r.status_code == 200:
                    return time.monotonic() - t0
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} did not start within {timeout} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


@contextlib.contextmanager
def bench_folder():
    """A temporary folder for the servers' stores and logs, and the list of servers started in it: however the
    run ends, they are stopped and the folder removed."""
    work = Path(tempfile.mkdtemp(prefix="mdkg-bench-"))
    servers: list[Server] = []
    try:
        yield work, servers
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(work, ignore_errors=True)


def start_servers(args, work: Path, servers: list[Server]) -> None:
    """mdkg, oxigraph (its store at `work / "oxigraph"`) and rdflib-endpoint, as `args` say; each is added to
    `servers` as soon as it runs (so that it is stopped if a later one fails), then waited for."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    servers.append(
        Server(
            "mdkg",
            [
                sys.executable,
                "-m",
                "mdkg.cli",
                "serve",
                "--data",
                str(args.data),
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--timeout",
                "300",
                "--max-rows",
                "10000000",
                "--log-level",
                "warning",
            ],
            f"http://127.0.0.1:{port}/sparql",
            work / "mdkg.log",
            env,
        )
    )
    if "oxigraph" not in args.skip:
        oxi = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
        location = work / "oxigraph"
        t0 = time.monotonic()
        subprocess.run(
            [oxi, "load", "--location", str(location), "--file", str(args.data)],
            check=True,
            capture_output=True,
        )
        print(f"oxigraph load: {time.monotonic() - t0:.1f} s", file=sys.stderr)
        port = free_port()
        servers.append(
            Server(
                "oxigraph",
                [
                    oxi,
                    "serve-read-only",
                    "--location",
                    str(location),
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--union-default-graph",
                ],
                f"http://127.0.0.1:{port}/query",
                work / "oxigraph.log",
            )
        )
    rdflib_endpoint = args.rdflib_endpoint or shutil.which("rdflib-endpoint")
    if "rdflib-endpoint" not in args.skip and rdflib_endpoint:
        port = free_port()
        servers.append(
            Server(
                "rdflib-endpoint",
                [rdflib_endpoint, "serve", str(args.data), "--host", "127.0.0.1", "--port", str(port)],
                f"http://127.0.0.1:{port}/",
                work / "rdflib-endpoint.log",
            )
        )
    elif "rdflib-endpoint" not in args.skip:
        print("rdflib-endpoint not found: skipped (pip install 'rdflib-endpoint[cli]')", file=sys.stderr)
    for s in servers:
        print(f"{s.name}: up after {s.wait(args.start_timeout):.1f} s", file=sys.stderr)


def run_query(client: httpx.Client, endpoint: str, query: str, timeout: float) -> tuple[float, int | None]:
    accept = "text/turtle" if "CONSTRUCT" in query else "application/sparql-results+json"
    t0 = time.perf_counter()
    try:
        r = client.post(
            endpoint, data={"query": PREFIXES + query}, headers={"Accept": accept}, timeout=timeout
        )
    except httpx.TimeoutException:
        return float("inf"), None
    elapsed = time.perf_counter() - t0
    if r.status_code != 200:
        return float("inf"), None
    if accept == "text/turtle":
        from rdflib import Graph

        return elapsed, len(Graph().parse(data=r.text, format="turtle"))
    return elapsed, len(r.json()["results"]["bindings"])


def latency(servers: list[Server], args) -> dict[str, dict[str, float]]:
    medians: dict[str, dict[str, float]] = {}
    sizes: dict[str, dict[str, int | None]] = {}
    with httpx.Client() as client:
        for name, query in QUERIES.items():
            sizes[name] = {s.name: run_query(client, s.endpoint, query, args.query_timeout)[1] for s in servers}
            times: dict[str, list[float]] = {s.name: [] for s in servers}
            for _ in range(args.runs):  # the servers in turn, so that each sees the same load from other jobs
                for s in servers:
                    times[s.name].append(run_query(client, s.endpoint, query, args.query_timeout)[0])
            medians[name] = {n: statistics.median(t) for n, t in times.items()}
    names = [s.name for s in servers]
    print(f"\n## Median latency over {args.runs} sequential requests (ms; ratio: the factor mdkg is slower by)\n")
    header = (
        "| query | rows | " + " | ".join(names) + " | " + " | ".join(f"mdkg/{n}" for n in names[1:]) + " |"
    )
    print(header)
    print("|" + "---|" * (2 + 2 * len(names) - 1))
    for q in QUERIES:
        m = medians[q]
        agreed = {v for v in sizes[q].values() if v is not None}
        rows = str(agreed.pop()) if len(agreed) == 1 else "DIFFER " + str(sizes[q])
        cells = [fmt_ms(m[n]) for n in names]
        ratios = [f"{m['mdkg'] / m[n]:.2f}" if m[n] not in (0, float("inf")) else "-" for n in names[1:]]
        print(f"| {q} | {rows} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    return medians


def fmt_ms(t: float) -> str:
    return "timeout/error" if t == float("inf") else f"{t * 1000:.{2 if t < 0.01 else 1}f}"


def throughput(servers: list[Server], args) -> None:
    where = "from one address" if args.one_address else "each from its own address"
    print(
        f"\n## Throughput: {args.clients} concurrent clients ({where}) for {args.seconds:g} s per server "
        "(requests/s)\n"
    )
    mix = [q for q in ("lookup", "states", "centrality") if q in QUERIES]
    print("| server | " + " | ".join(mix) + " |")
    print("|---|" + "---|" * len(mix))
    for s in servers:
        cells = []
        for q in mix:
            done, errors = [0], [0]
            stop = time.monotonic() + args.seconds

            def client_loop(address, q=q, done=done, errors=errors, stop=stop, s=s):
                with httpx.Client(transport=httpx.HTTPTransport(local_address=address)) as c:
                    while time.monotonic() < stop:
                        t, _ = run_query(c, s.endpoint, QUERIES[q], args.query_timeout)
                        if t == float("inf"):
                            errors[0] += 1
                        else:
                            done[0] += 1

            # each client from an address of its own, as separate users are: mdkg gives one address at most the
            # workers less the reserved ones at a time (fair scheduling), which `--one-address` shows
            addresses = ["127.0.0.1" if args.one_address else f"127.0.0.{2 + i}" for i in range(args.clients)]
            threads = [threading.Thread(target=client_loop, args=(a,)) for a in addresses]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            cells.append(f"{done[0] / args.seconds:.1f}" + (f" ({errors[0]} errors)" if errors[0] else ""))
        print(f"| {s.name} | " + " | ".join(cells) + " |")


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="N-Quads file (bench/sparql/generate.py)")
    ap.add_argument("--rdflib-endpoint", help="the rdflib-endpoint executable (default: on PATH)")
    ap.add_argument("--skip", action="append", default=[], choices=["oxigraph", "rdflib-endpoint"])
    ap.add_argument("--queries", help=f"comma-separated subset of {','.join(QUERIES)} (default: all)")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--workers", type=int, default=4, help="mdkg query workers (mdkg serve's default: 4)")
    ap.add_argument("--one-address", action="store_true", help="all throughput clients from 127.0.0.1")
    ap.add_argument("--query-timeout", type=float, default=120)
    ap.add_argument("--start-timeout", type=float, default=3600)
    args = ap.parse_args(argv)
    if args.queries:
        for name in set(QUERIES) - set(args.queries.split(",")):
            del QUERIES[name]
    lines = sum(1 for _ in args.data.open("rb"))
    print(f"# SPARQL endpoints on {args.data.name}: {lines} quads, {os.cpu_count()} cores\n", file=sys.stderr)
    with bench_folder() as (work, servers):
        start_servers(args, work, servers)
        print(f"# {args.data.name}: {lines} quads; {os.cpu_count()} cores; mdkg workers: {args.workers}")
        print(f"# load average before: {load_average()}")
        latency(servers, args)
        throughput(servers, args)
        print(f"\n# load average after: {load_average()} (the machine is shared: ratios are steadier than times)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
