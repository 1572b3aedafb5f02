"""Where a lookup's time goes: mdkg serve against `oxigraph serve-read-only` and three bare ASGI apps on the same
uvicorn (httptools, uvloop) that each add one part of mdkg's design, so that the facade's fixed cost splits into
what the design costs and what mdkg adds to it. Not run in CI.

- `inproc`: the query answered in the server process (pyoxigraph, Oxigraph's JSON writer): HTTP in Python;
- `hop`: answered by a worker process, the query and the answer as bytes over a pipe read by the event loop:
  + the isolation of queries in killable processes;
- `checks`: the hop carrying mdkg's `Job`, answered by `api.workers.execute` (the query checks, the row and size
  caps, Oxigraph's writers), pickled both ways as mdkg does: + what a worker does for every query;
- `mdkg`: `mdkg serve` (connection guards, security headers, CORS, fair scheduling, deadlines).

Sequential lookups, the servers asked in turn; per server the median latency, the factor over Oxigraph, and the
CPU time per request of the server process and of its children (the workers), read from /proc.

    python bench/sparql/generate.py --triples 1e5 --out /tmp/mdkg-1e5.nq
    python bench/sparql/floor.py --data /tmp/mdkg-1e5.nq
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import pickle
import statistics
import sys
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
import uvicorn

from bench import QUERIES, ROOT, Server, bench_folder, free_port, load_average, start_servers

sys.path.insert(0, str(ROOT))
from api.workers import Job, execute  # noqa: E402
from graph.store import LocalBackend  # noqa: E402

KINDS = ("inproc", "hop", "checks")
BLOCK = 50  # requests to one server before the next


def answer(store: ox.Store, query: str) -> bytes:
    return store.query(query, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.JSON)


def worker(conn, store_dir: str, kind: str) -> None:
    """A worker process: reads a request off the pipe, writes the answer back."""
    if kind == "checks":
        backend = LocalBackend(Path(store_dir))
        while True:
            conn.send(execute(backend, conn.recv()))
    store = ox.Store.read_only(store_dir)
    while True:
        conn.send_bytes(answer(store, conn.recv_bytes().decode()))


def app_for(kind: str, store_dir: str):
    """The bare ASGI app of `kind`: GET ?query=... answered as SPARQL JSON, nothing else."""
    store = ox.Store.read_only(store_dir) if kind == "inproc" else None
    conn = None
    if kind != "inproc":
        conn, child = mp.Pipe()
        mp.get_context("fork").Process(target=worker, args=(child, store_dir, kind), daemon=True).start()

    async def through_the_pipe(query: str) -> bytes:
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        if kind == "checks":
            conn.send_bytes(pickle.dumps(Job(query=query), protocol=pickle.HIGHEST_PROTOCOL))
        else:
            conn.send_bytes(query.encode())

        def readable():
            loop.remove_reader(conn.fileno())
            message = conn.recv_bytes()
            done.set_result(pickle.loads(message).body if kind == "checks" else message)

        loop.add_reader(conn.fileno(), readable)
        return await done

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            return await send({"type": "lifespan.shutdown.complete"})
        query = dict(httpx.QueryParams(scope["query_string"].decode("latin-1")))["query"]
        body = answer(store, query) if store is not None else await through_the_pipe(query)
        headers = [(b"content-type", b"application/sparql-results+json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def serve(kind: str, store_dir: str, port: int) -> None:
    uvicorn.run(app_for(kind, store_dir), host="127.0.0.1", port=port, http="httptools", loop="uvloop",
                log_level="warning", access_log=False)


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU time (user + system) of a process and of all its descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
            times[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    family, grew = {pid}, True
    while grew:
        more = {p for p, parent in parents.items() if parent in family} - family
        family |= more
        grew = bool(more)
    return times.get(pid, 0.0), sum(times.get(p, 0.0) for p in family - {pid})


def measure(servers: list[Server], query: str, requests: int) -> None:
    times: dict[str, list[float]] = {s.name: [] for s in servers}
    with httpx.Client() as client:
        def ask(s: Server) -> float:
            t = time.perf_counter()
            r = client.get(s.endpoint, params={"query": query}, headers={"Accept": "application/sparql-results+json"})
            r.raise_for_status()
            return time.perf_counter() - t

        for s in servers:
            for _ in range(200):
                ask(s)
        before = {s.name: cpu_seconds(s.proc.pid) for s in servers}
        for _ in range(requests // BLOCK):  # in turn, so that load from other jobs falls on all alike; in blocks,
            for s in servers:  # so that each finds its caches as a client asking it alone would
                times[s.name] += [ask(s) for _ in range(BLOCK)]
        after = {s.name: cpu_seconds(s.proc.pid) for s in servers}
    oxigraph = statistics.median(times["oxigraph"])
    print("| server | median ms | x oxigraph | server CPU ms/request | workers CPU ms/request |")
    print("|---|---|---|---|---|")
    for s in servers:
        median = statistics.median(times[s.name])
        own, workers = ((after[s.name][i] - before[s.name][i]) / len(times[s.name]) * 1000 for i in (0, 1))
        print(f"| {s.name} | {median * 1000:.2f} | {median / oxigraph:.2f} | {own:.3f} | {workers:.3f} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, help="N-Quads file (bench/sparql/generate.py)")
    ap.add_argument("--requests", type=int, default=2000, help="lookups per server")
    ap.add_argument("--workers", type=int, default=4, help="mdkg query workers (mdkg serve's default: 4)")
    ap.add_argument("--serve", choices=KINDS, help=argparse.SUPPRESS)  # one bare app (run by this script)
    ap.add_argument("--store", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        serve(args.serve, args.store, args.port)
        return 0
    if args.data is None:
        ap.error("--data is required")
    args.skip, args.rdflib_endpoint, args.start_timeout = ["rdflib-endpoint"], None, 600
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with bench_folder() as (work, servers):
        start_servers(args, work, servers)  # mdkg and oxigraph, as bench.py runs them
        store = work / "oxigraph"  # the store oxigraph serves, opened read-only by the bare apps too
        for kind in KINDS:
            port = free_port()
            servers.append(Server(kind, [sys.executable, __file__, "--serve", kind, "--store", str(store), "--port",
                                         str(port)], f"http://127.0.0.1:{port}/", work / f"{kind}.log", env))
            servers[-1].wait(600)
        order = ["oxigraph", *KINDS, "mdkg"]
        servers.sort(key=lambda s: order.index(s.name))
        print(f"# {args.data.name}; {os.cpu_count()} cores; load average before: {load_average()}\n")
        measure(servers, QUERIES["lookup"], args.requests)
        print(f"\n# load average after: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
