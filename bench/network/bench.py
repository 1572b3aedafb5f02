"""Benchmark: each measure of graph/measures.py on synthetic networks of 10^3, 10^4 and 10^5 nodes, against
igraph on the same graph, with the ratio (NetworkX time / igraph time). Not run in CI.

    .venv/bin/python bench/network/bench.py                       # sizes 1000 10000 100000
    .venv/bin/python bench/network/bench.py --sizes 1000,10000 --measures degree,pagerank,betweenness
    .venv/bin/python bench/network/bench.py --budget 120 --json bench/network/results.json

The synthetic graph is a Holme-Kim power-law graph with clustering (`nx.powerlaw_cluster_graph(n, 3, 0.3)`,
about 3n ties, one component) with integer tie weights 1-3 (distance = 1/weight), like the stakeholder
network. Betweenness is exact up to `--exact-max` nodes; above, both libraries run the same `--k` sampled
sources (NetworkX: graph.measures.betweenness(k=...), igraph: Graph.betweenness(sources=...)), and the
stated error bound of the estimate is printed. Measures with no igraph counterpart (effective size,
Gould-Fernandez brokerage; Leiden has none in NetworkX without a backend) are timed on one side only. A
measure whose time at the next size is estimated (from the previous size and its complexity) to exceed
`--budget` seconds is skipped and marked so. igraph is optional: without it only the NetworkX times are shown.

Needs: igraph (pip install igraph), which is not a dependency of mdkg."""

from __future__ import annotations

import argparse
import json
import math
import platform
import random
import sys
import time
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from graph import measures as ms  # noqa: E402
from graph.schema import schema  # noqa: E402

try:
    import igraph as ig
except ImportError:  # pragma: no cover
    ig = None

# name -> exponent of the growth of its cost in n on these sparse graphs (for the budget estimate)
GROWTH = {
    "degree": 1.0,
    "pagerank": 1.1,
    "eigenvector": 1.1,
    "k_core": 1.1,
    "components": 1.0,
    "bridges": 1.0,
    "constraint": 1.2,
    "effective_size": 1.2,
    "brokerage": 1.2,
    "louvain": 1.2,
    "leiden": 1.2,
    "closeness": 2.0,
    "betweenness": 2.0,
}
DEFAULT = list(GROWTH)
KINDS = schema().stakeholder_kinds[:4]


def synthetic(n: int, seed: int = 0) -> nx.Graph:
    G = nx.powerlaw_cluster_graph(n, 3, 0.3, seed=seed)
    for i, (a, b) in enumerate(G.edges()):
        w = 1.0 + (i * 7919 + a) % 3
        G.edges[a, b]["weight"] = w
        G.edges[a, b]["distance"] = 1.0 / w
    for v in G:
        G.nodes[v]["kind"] = KINDS[v % len(KINDS)]
    return G


def to_igraph(G: nx.Graph):
    g = ig.Graph(n=G.number_of_nodes(), edges=list(G.edges()), directed=False)
    g.es["weight"] = [d["weight"] for _, _, d in G.edges(data=True)]
    g.es["distance"] = [d["distance"] for _, _, d in G.edges(data=True)]
    return g


def nx_runs(G: nx.Graph, k: int | None, seed: int, workers: int) -> dict:
    return {
        "degree": lambda: ms.degree(G),
        "betweenness": lambda: ms.betweenness(G, k=k, seed=seed, workers=workers),
        "closeness": lambda: ms.closeness(G),
        "eigenvector": lambda: ms.eigenvector(G),
        "pagerank": lambda: ms.pagerank(G),
        "constraint": lambda: ms.constraint(G),
        "effective_size": lambda: ms.effective_size(G),
        "k_core": lambda: ms.k_core(G),
        "louvain": lambda: ms.communities(G, "louvain", seed=seed),
        "leiden": (lambda: ms.communities(G, "leiden", seed=seed)) if ms.leiden_available() else None,
        "components": lambda: list(nx.connected_components(G)),
        "bridges": lambda: list(nx.bridges(G)),
        "brokerage": lambda: ms.brokerage(G),
    }


def ig_runs(g, sources: list[int] | None) -> dict:
    return {
        "degree": lambda: g.strength(weights="weight"),
        "betweenness": lambda: (
            g.betweenness(weights="distance", sources=sources)
            if sources is not None
            else g.betweenness(weights="distance")
        ),
        "closeness": lambda: g.closeness(weights="distance"),
        "eigenvector": lambda: g.eigenvector_centrality(weights="weight"),
        "pagerank": lambda: g.pagerank(weights="weight"),
        "constraint": lambda: g.constraint(weights="weight"),
        "effective_size": None,
        "k_core": lambda: g.coreness(),
        "louvain": lambda: g.community_multilevel(weights="weight"),
        "leiden": lambda: g.community_leiden(objective_function="modularity", weights="weight"),
        "components": lambda: g.connected_components(),
        "bridges": lambda: g.bridges(),
        "brokerage": None,
    }


def timed(fn, repeat: int) -> float:
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def markdown(results: list[dict], args: argparse.Namespace) -> str:
    def cell(v: object) -> str:
        return "-" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))

    lines = [
        "# Network measures: last benchmark run",
        "",
        f"`bench/network/bench.py --sizes {args.sizes} --budget {args.budget:g} --repeat {args.repeat} "
        f"--k {args.k} --workers {args.workers}`; python {platform.python_version()}, networkx "
        f"{nx.__version__}, igraph {ig.__version__ if ig else '-'}; {time.strftime('%Y-%m-%d')}.",
        "Seconds (best of --repeat); ratio = NetworkX / igraph. Betweenness above --exact-max nodes: the same "
        "k sampled sources on both sides.",
        "",
        "| n | ties | measure | networkx s | igraph s | ratio |",
        "| ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for r in results:
        name = r["measure"] + (f" (k={r['k']})" if r.get("k") else "")
        ratio = f"{r['ratio']:.3g}" if r.get("ratio") else "-"
        lines.append(f"| {r['n']} | {r['ties']} | {name} | {cell(r['networkx'])} | {cell(r['igraph'])} | {ratio} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000,100000", help="comma-separated node counts")
    ap.add_argument("--measures", default=",".join(DEFAULT), help=f"comma-separated, of {', '.join(DEFAULT)}")
    ap.add_argument("--k", type=int, default=100, help="sampled betweenness sources above --exact-max nodes")
    ap.add_argument("--exact-max", type=int, default=2000, help="exact betweenness up to this many nodes")
    ap.add_argument("--budget", type=float, default=300.0, help="skip a run estimated to take longer (s)")
    ap.add_argument("--repeat", type=int, default=1, help="best of this many runs")
    ap.add_argument("--workers", type=int, default=1, help="processes for NetworkX betweenness")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--markdown", type=Path, help="also write the results here as a Markdown table")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    names = [m.strip() for m in args.measures.split(",") if m.strip()]
    unknown = set(names) - set(GROWTH)
    if unknown:
        ap.error(f"unknown measures {sorted(unknown)}")
    print(
        f"python {platform.python_version()}, networkx {nx.__version__}, "
        f"igraph {ig.__version__ if ig else 'not installed'}, leiden in networkx: {ms.leiden_available()}, "
        f"betweenness workers {args.workers}",
        flush=True,
    )
    results, last = [], {}
    for n in sizes:
        t0 = time.perf_counter()
        G = synthetic(n, args.seed)
        build = time.perf_counter() - t0
        g, conv = None, None
        if ig:
            t0 = time.perf_counter()
            g = to_igraph(G)
            conv = time.perf_counter() - t0
        k = None if n <= args.exact_max else min(args.k, n)
        # the same sources as graph.measures.betweenness(k=k, seed=seed) samples
        sources = random.Random(args.seed).sample(list(G), k) if k is not None else None
        print(
            f"\nn = {n}: {G.number_of_edges()} ties (generated in {build:.1f} s"
            + (f", to igraph in {conv:.2f} s" if conv is not None else "")
            + ")"
            + (
                f"; betweenness from {k} sampled sources, error bound +/-{ms.betweenness_error(n, k):.4f} (95%)"
                if k
                else "; exact betweenness"
            ),
            flush=True,
        )
        print(f"  {'measure':<16}{'networkx s':>12}{'igraph s':>12}{'ratio':>10}", flush=True)
        nxr, igr = nx_runs(G, k, args.seed, args.workers), (ig_runs(g, sources) if g is not None else {})
        for name in names:
            row = {
                "n": n,
                "ties": G.number_of_edges(),
                "measure": name,
                "k": k if name == "betweenness" else None,
            }
            for side, runs in (("networkx", nxr), ("igraph", igr)):
                fn = runs.get(name)
                prev = last.get((side, name))
                estimate = None
                if prev is not None:
                    estimate = prev[1] * (n / prev[0]) ** GROWTH[name]
                    if name == "betweenness" and k is not None:  # k sources, each a search of the graph
                        per_source = prev[1] / (prev[2] or prev[0])
                        estimate = per_source * k * (n / prev[0]) ** 1.1
                if fn is None:
                    row[side] = None
                elif estimate is not None and estimate > args.budget:
                    row[side] = f"skipped (est. {estimate:.0f} s)"
                else:
                    try:
                        row[side] = timed(fn, args.repeat)
                        last[(side, name)] = (n, row[side], k if name == "betweenness" else None)
                    except (MemoryError, Exception) as e:  # e.g. numpy's _ArrayMemoryError
                        row[side] = f"failed ({type(e).__name__})"
            a, b = row["networkx"], row["igraph"]
            row["ratio"] = a / b if isinstance(a, float) and isinstance(b, float) and b > 0 else None
            results.append(row)

            def cell(v):
                return "-" if v is None else (f"{v:.3f}" if isinstance(v, float) else v.split(" ")[0])

            ratio = f"{row['ratio']:.3g}x" if row["ratio"] else "-"
            print(f"  {name:<16}{cell(a):>12}{cell(b):>12}{ratio:>10}", flush=True)
    if args.markdown:
        args.markdown.write_text(markdown(results, args), encoding="utf-8")
        print(f"wrote {args.markdown}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "python": platform.python_version(),
                    "networkx": nx.__version__,
                    "igraph": ig.__version__ if ig else None,
                    "results": results,
                },
                indent=1,
            )
            + "\n",
            encoding="utf-8",
        )
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
