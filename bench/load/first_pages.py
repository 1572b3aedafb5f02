"""The first (uncached) load of entity pages on a freshly started server, per kind: every state, every
stakeholder, instrument and document, and a sample of passages, each asked for once, one at a time, in a random
order (`/id/iom`, the server's first page of all, first). Prints per kind the count, median, p90 and worst, and
the ten slowest pages.

  python bench/load/first_pages.py                  # starts a server on the last build
  python bench/load/first_pages.py --passages 300   # more passages
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

ID = "https://w3id.org/mdkg/id/"
MDKG = "https://w3id.org/mdkg/ontology#"
KINDS = ("State", "Stakeholder", "Instrument", "Document", "Passage")


def entities(url: str, kind: str) -> list[str]:
    query = f"SELECT DISTINCT ?s WHERE {{ ?s a <{MDKG}{kind}> FILTER(STRSTARTS(STR(?s), '{ID}')) }}"
    r = httpx.get(f"{url}/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
    r.raise_for_status()
    return sorted(b["s"]["value"].removeprefix(ID) for b in r.json()["results"]["bindings"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help="dataset to serve (default: the last build)")
    parser.add_argument("--passages", type=int, default=100, help="passages sampled (of about 1,400)")
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
            seen = {"iom"}
            pages = []
            for kind in KINDS:
                ids = [i for i in entities(url, kind) if i not in seen]
                ids = rng.sample(ids, min(args.passages, len(ids))) if kind == "Passage" else ids
                seen.update(ids)
                pages += [(kind, i) for i in ids]
            rng.shuffle(pages)
            for kind, entity in pages:
                t = time.perf_counter()
                client.get(f"/id/{entity}").raise_for_status()
                times.setdefault(kind, []).append((time.perf_counter() - t, entity))
        print(f"\n{'kind':<18}{'pages':>6}{'p50 ms':>8}{'p90 ms':>8}{'worst ms':>10}  worst page")
        for kind, ts in times.items():
            ms = sorted(x * 1000 for x, _ in ts)
            worst = max(ts)
            p90 = ms[min(len(ms) - 1, int(0.9 * len(ms)))]
            row = f"{kind:<18}{len(ms):>6}{statistics.median(ms):>8.0f}{p90:>8.0f}{worst[0] * 1000:>10.0f}"
            print(f"{row}  /id/{worst[1]}")
        slowest = sorted(((x, e) for ts in times.values() for x, e in ts), reverse=True)[:10]
        print("\nslowest: " + ", ".join(f"/id/{e} {x * 1000:.0f} ms" for x, e in slowest))
        return 0
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
