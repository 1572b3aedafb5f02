"""Two SPARQL engines side by side on one large synthetic graph: Oxigraph (the `oxigraph` PyPI package: `oxigraph
load`, then `oxigraph serve-read-only --union-default-graph`) and Virtuoso Open Source 7 (Debian's
`virtuoso-opensource-7-bin`: its bulk loader, `ld_dir` + `rdf_loader_run`, then its /sparql endpoint).

Reports the load time of each, then per query (bench/sparql's QUERIES) the first (cold) and the median of
`--runs` further sequential requests over HTTP on loopback, and whether the engines agree on the number of results.
A query past `--query-timeout` is reported as such (Virtuoso is given the same limit as its
MaxQueryExecutionTime, and a partial "anytime" answer is reported as a timeout, not as a result). Not run in CI.

    python bench/sparql/generate.py --triples 1e7 --out /tmp/mdkg-1e7.nq
    python bench/engines/compare.py --data /tmp/mdkg-1e7.nq --work /tmp/engines
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "bench" / "sparql"), str(ROOT / "tests")]

from virtuoso_server import virtuoso_binaries, virtuoso_server  # noqa: E402  (tests/virtuoso_server.py)

from bench import PREFIXES, QUERIES, Server, free_port  # noqa: E402  (bench/sparql/bench.py)

TIMEOUT = float("inf")
# bench/sparql's `partnerships` written for Oxigraph: count first, then fetch the labels of the 100 kept only (the
# same ?x and ?partners: every partner has at most one label; ?name is a SAMPLE either way).
QUERIES["partnerships-counted-first"] = """SELECT ?x ?partners (SAMPLE(?label) AS ?name) WHERE {
        { SELECT ?x (COUNT(?partner) AS ?partners) WHERE { ?x a mdkg:Partnership ; mdkg:partner ?partner }
          GROUP BY ?x ORDER BY DESC(?partners) ?x LIMIT 100 }
        ?x mdkg:partner ?partner . OPTIONAL { ?partner rdfs:label ?label }
      } GROUP BY ?x ?partners ORDER BY DESC(?partners) ?x"""
SAME_ANSWER = ("partnerships", "partnerships-counted-first")  # checked row by row on each engine


def rows(client: httpx.Client, endpoint: str, query: str, timeout: float) -> list[tuple[str, str]] | None:
    """The (?x, ?partners) rows of a partnerships query, in order; None when it did not answer."""
    try:
        r = client.post(
            endpoint,
            data={"query": PREFIXES + query},
            headers={"Accept": "application/sparql-results+json"},
            timeout=timeout,
        )
    except httpx.TimeoutException:
        return None
    if r.status_code != 200 or r.headers.get("x-sql-state"):
        return None
    return [(b["x"]["value"], b["partners"]["value"]) for b in r.json()["results"]["bindings"]]


def ask(client: httpx.Client, endpoint: str, query: str, timeout: float) -> tuple[float, int | None]:
    """(seconds, number of results) of one request; (inf, None) on a timeout, an error or a partial answer."""
    construct = query.lstrip().upper().startswith("CONSTRUCT")
    accept = "application/n-triples" if construct else "application/sparql-results+json"
    t0 = time.perf_counter()
    try:
        r = client.post(endpoint, data={"query": PREFIXES + query}, headers={"Accept": accept}, timeout=timeout)
    except httpx.TimeoutException:
        return TIMEOUT, None
    elapsed = time.perf_counter() - t0
    if r.status_code != 200 or r.headers.get("x-sql-state"):  # Virtuoso's anytime answer: incomplete
        return TIMEOUT, None
    if construct:
        return elapsed, sum(1 for line in r.text.splitlines() if line.strip() and not line.startswith("#"))
    return elapsed, len(r.json()["results"]["bindings"])


OUR_QUADS = """SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o }
  FILTER (STRSTARTS(STR(?g), "https://w3id.org/mdkg/")) }"""  # leaves out Virtuoso's own system graphs


def count_quads(endpoint: str, timeout: float) -> int | None:
    """The quads the engine holds in the data's graphs: the load is checked, not assumed."""
    r = httpx.post(
        endpoint,
        data={"query": OUR_QUADS},
        headers={"Accept": "application/sparql-results+json"},
        timeout=max(timeout, 600),
    )
    return int(r.json()["results"]["bindings"][0]["n"]["value"]) if r.status_code == 200 else None


def measure(endpoint: str, args) -> dict[str, tuple[float, float, int | None]]:
    """Per query: (first, median of the next runs, results); "quads": the quads loaded."""
    out: dict = {"quads": count_quads(endpoint, args.query_timeout)}
    print(f"  quads in the data's graphs: {out['quads']}", file=sys.stderr)
    with httpx.Client() as client:
        for name, query in QUERIES.items():
            first, size = ask(client, endpoint, query, args.query_timeout)
            runs = (
                []
                if first == TIMEOUT
                else [ask(client, endpoint, query, args.query_timeout)[0] for _ in range(args.runs)]
            )
            out[name] = (first, statistics.median(runs) if runs else TIMEOUT, size)
            print(f"  {name}: first {ms(first)}, median {ms(out[name][1])} ms, {size} results", file=sys.stderr)
        if all(q in QUERIES and out[q][0] != TIMEOUT for q in SAME_ANSWER):
            answers = [rows(client, endpoint, QUERIES[q], args.query_timeout) for q in SAME_ANSWER]
            out["same answer"] = answers[0] is not None and answers[0] == answers[1]
            print(f"  {' and '.join(SAME_ANSWER)} give the same rows: {out['same answer']}", file=sys.stderr)
    return out


def ms(t: float) -> str:
    return "timeout" if t == TIMEOUT else f"{t * 1000:.0f}"


def oxigraph(args, work: Path) -> tuple[float, dict]:
    exe = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    location = work / "oxigraph"
    shutil.rmtree(location, ignore_errors=True)
    t0 = time.monotonic()
    subprocess.run(
        [exe, "load", "--location", str(location), "--file", str(args.data)], check=True, capture_output=True
    )
    load = time.monotonic() - t0
    print(f"oxigraph load: {load:.1f} s", file=sys.stderr)
    port = free_port()
    server = Server(
        "oxigraph",
        [exe, "serve-read-only", "--location", str(location), "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
        f"http://127.0.0.1:{port}/query",
        work / "oxigraph.log",
    )
    try:
        server.wait(600)
        return load, measure(server.endpoint, args)
    finally:
        server.stop()


def virtuoso(args, work: Path) -> tuple[float, dict]:
    folder = work / "virtuoso"
    shutil.rmtree(folder, ignore_errors=True)
    with virtuoso_server(
        folder, buffers=args.buffers, query_seconds=int(args.query_timeout), dirs_allowed=(args.data.resolve().parent,)
    ) as v:
        t0 = time.monotonic()
        v.bulk_load(args.data)
        load = time.monotonic() - t0
        print(f"virtuoso bulk load (with checkpoint): {load:.1f} s", file=sys.stderr)
        return load, measure(v.sparql, args)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="N-Quads file (bench/sparql/generate.py)")
    ap.add_argument("--work", type=Path, required=True, help="folder for the two databases (kept for reruns)")
    ap.add_argument("--queries", help=f"comma-separated subset of {','.join(QUERIES)} (default: all)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--query-timeout", type=float, default=300)
    ap.add_argument("--buffers", type=int, default=400_000, help="Virtuoso's NumberOfBuffers (8 KiB each)")
    ap.add_argument("--skip", action="append", default=[], choices=["oxigraph", "virtuoso"])
    args = ap.parse_args(argv)
    if args.queries:
        for name in set(QUERIES) - set(args.queries.split(",")):
            del QUERIES[name]
    if virtuoso_binaries() is None and "virtuoso" not in args.skip:
        ap.error("Virtuoso is not installed (apt-get install virtuoso-opensource-7-bin), or pass --skip virtuoso")
    args.work.mkdir(parents=True, exist_ok=True)
    quads = sum(1 for _ in args.data.open("rb"))
    results = {}
    for name, run in (("oxigraph", oxigraph), ("virtuoso", virtuoso)):
        if name not in args.skip:
            print(f"# {name}", file=sys.stderr)
            results[name] = run(args, args.work)
    names = list(results)
    print(
        f"# {args.data.name}: {quads} quads; {os.cpu_count()} cores; load average at the end {os.getloadavg()[0]:.1f}\n"
    )
    print("| load | " + " | ".join(names) + " |\n|---|" + "---|" * len(names))
    print("| seconds | " + " | ".join(f"{results[n][0]:.0f}" for n in names) + " |")
    print("| quads loaded (counted by a query) | " + " | ".join(str(results[n][1]["quads"]) for n in names) + " |\n")
    print("| query | results | " + " | ".join(f"{n} first ms | {n} median ms" for n in names) + " |")
    print("|---|---|" + "---|---|" * len(names))
    same = [f"{n}: {results[n][1].get('same answer', 'not checked')}" for n in names]
    print(f"{' and '.join(SAME_ANSWER)} give the same rows ({', '.join(same)})\n")
    for q in QUERIES:
        sizes = {results[n][1][q][2] for n in names} - {None}
        rows = str(sizes.pop()) if len(sizes) == 1 else " / ".join(str(results[n][1][q][2]) for n in names)
        cells = " | ".join(f"{ms(results[n][1][q][0])} | {ms(results[n][1][q][1])}" for n in names)
        print(f"| {q} | {rows} | {cells} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
