"""The first (uncached) load of entity pages on a freshly started server, per kind (the most specific class,
graph.schema): every entity of a kind, or a random sample of `--sample` where there are more, each asked for once,
one at a time, in a random order (`/id/iom`, the server's first page of all, first). Prints per kind the count,
median, p90 and worst, and the ten slowest pages.

  python bench/load/first_pages.py                # starts a server on the last build
  python bench/load/first_pages.py --sample 1000  # more of the large kinds (passages, mentions, treaty actions)
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

import httpx
from run import start_server

from graph.schema import schema

ID = "https://w3id.org/mdkg/id/"
MDKG = "https://w3id.org/mdkg/ontology#"


def entities_by_kind(url: str) -> dict[str, list[str]]:
    """Every entity of the graph (an id under /id/) by its most specific class."""
    query = (
        "SELECT ?s (GROUP_CONCAT(STR(?c); separator=' ') AS ?classes) WHERE { ?s a ?c "
        f"FILTER(STRSTARTS(STR(?s), '{ID}') && STRSTARTS(STR(?c), '{MDKG}')) }} GROUP BY ?s"
    )
    r = httpx.post(
        f"{url}/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"}, timeout=60
    )
    r.raise_for_status()
    out: dict[str, list[str]] = {}
    for b in r.json()["results"]["bindings"]:
        kind = schema().most_specific({c.removeprefix(MDKG) for c in b["classes"]["value"].split()})
        out.setdefault(kind or "(none)", []).append(b["s"]["value"].removeprefix(ID))
    return {k: sorted(v) for k, v in sorted(out.items())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help="dataset to serve (default: the last build)")
    parser.add_argument("--sample", type=int, default=250, help="pages asked for of a kind that has more (every state)")
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    proc, url = start_server(args.data, 2.0)
    try:
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        times: dict[str, list[tuple[float, str]]] = {}
        with httpx.Client(base_url=url, timeout=60, headers={"Accept": "text/html"}) as client:
            t = time.perf_counter()
            client.get("/id/iom").raise_for_status()
            times["first page (iom)"] = [(time.perf_counter() - t, "iom")]
            pages = []
            for kind, ids in entities_by_kind(url).items():
                ids = [i for i in ids if i != "iom"]
                pages += [(kind, i) for i in rng.sample(ids, min(args.sample, len(ids)))]
            rng.shuffle(pages)
            for kind, entity in pages:
                t = time.perf_counter()
                client.get(f"/id/{entity}").raise_for_status()
                times.setdefault(kind, []).append((time.perf_counter() - t, entity))
        print(f"\n{'kind':<26}{'pages':>6}{'p50 ms':>8}{'p90 ms':>8}{'worst ms':>10}  worst page")
        for kind, ts in times.items():
            ms = sorted(x * 1000 for x, _ in ts)
            worst = max(ts)
            p90 = ms[min(len(ms) - 1, int(0.9 * len(ms)))]
            row = f"{kind:<26}{len(ms):>6}{statistics.median(ms):>8.0f}{p90:>8.0f}{worst[0] * 1000:>10.0f}"
            print(f"{row}  /id/{worst[1]}")
        slowest = sorted(((x, e) for ts in times.values() for x, e in ts), reverse=True)[:10]
        print("\nslowest: " + ", ".join(f"/id/{e} {x * 1000:.0f} ms" for x, e in slowest))
        return 0
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
