"""Cheap queries under a flood of heavy ones (issue 11): start a real mdkg server (4 workers, 30 s deadline), let
N clients send cross-product queries back to back from another loopback address, and measure `ASK {}` and an
entity lookup from this process meanwhile. Prints p50/p99 of each, the heavy answers by status, and the pool's
counters (workers killed and respawned, queries moved to the slow lane).

  python bench/load/flood.py                      # 20 heavy clients, 40 s
  python bench/load/flood.py --heavy 40 --vary    # each heavy query a new text (defeats the heavy-query memory)
  python bench/load/flood.py --vary --addresses 20  # ... from 20 addresses (127.0.0.10-29)
  python bench/load/flood.py --url http://127.0.0.1:8000

Target on a 2-core machine: p99 of both cheap kinds under 100 ms with 20 heavy clients.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import start_server  # noqa: E402

HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
CHEAP = {
    "ask": "ASK {}",
    "lookup": "SELECT ?p ?o WHERE { <https://w3id.org/mdkg/id/iom> ?p ?o }",
}


def flood(url: str, seconds: float, vary: bool, index: int, addresses: int, out) -> None:
    """One heavy client, from 127.0.0.2 (or one of `addresses` addresses from 127.0.0.10 on), so that the server
    sees it as another client than the one measuring."""
    address = "127.0.0.2" if addresses <= 1 else f"127.0.0.{10 + index % addresses}"
    transport = httpx.HTTPTransport(local_address=address)
    statuses: Counter = Counter()
    end = time.monotonic() + seconds
    n = 0
    with httpx.Client(base_url=url, timeout=60, transport=transport) as client:
        while time.monotonic() < end:
            n += 1
            query = HEAVY + (f" # {index}-{n}" if vary else "")
            try:
                r = client.post("/sparql", data={"query": query})
                statuses[r.status_code] += 1
                if r.status_code != 200:
                    time.sleep(float(r.headers.get("retry-after", "1")) / 10)
            except httpx.HTTPError as e:
                statuses[type(e).__name__] += 1
    out.put(dict(statuses))


def measure(url: str, seconds: float) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {k: [] for k in CHEAP}
    errors: Counter = Counter()
    end = time.monotonic() + seconds
    with httpx.Client(base_url=url, timeout=60) as client:
        while time.monotonic() < end:
            for kind, query in CHEAP.items():
                t = time.perf_counter()
                r = client.get("/sparql", params={"query": query})
                times[kind].append(time.perf_counter() - t)
                if r.status_code != 200:
                    errors[f"{kind} {r.status_code}"] += 1
            time.sleep(0.05)
    if errors:
        print("cheap errors:", dict(errors))
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="a server already running (default: start one on the last build)")
    ap.add_argument("--data", type=Path, help="dataset file for the server started here")
    ap.add_argument("--heavy", type=int, default=20, help="heavy clients")
    ap.add_argument("--time", type=float, default=40.0, help="seconds of flood")
    ap.add_argument("--timeout", type=float, default=30.0, help="the server's query deadline")
    ap.add_argument("--vary", action="store_true", help="a new query text for every heavy request")
    ap.add_argument("--addresses", type=int, default=1, help="spread the heavy clients over this many addresses")
    args = ap.parse_args()
    proc = None
    url = args.url
    if not url:
        proc, url = start_server(args.data, args.timeout)
    try:
        before = httpx.get(f"{url}/health").json()
        out: mp.Queue = mp.Queue()
        clients = [
            mp.Process(target=flood, args=(url, args.time, args.vary, i, args.addresses, out))
            for i in range(args.heavy)
        ]
        for c in clients:
            c.start()
        time.sleep(2)  # let the flood build up
        times = measure(url, args.time - 4)
        heavy: Counter = Counter()
        for _ in clients:
            heavy.update(out.get())
        for c in clients:
            c.join()
        after = httpx.get(f"{url}/health").json()
    finally:
        if proc:
            proc.terminate()
            proc.wait(30)
    print(f"{args.heavy} heavy clients from {args.addresses} address(es) for {args.time:g} s"
          f"{' (a new text each time)' if args.vary else ''}")
    for kind, ts in times.items():
        q = statistics.quantiles(ts, n=100)
        print(f"  {kind:7} n={len(ts):5}  p50 {statistics.median(ts) * 1000:6.1f} ms  p99 {q[98] * 1000:6.1f} ms"
              f"  max {max(ts) * 1000:6.1f} ms")
    print("  heavy answers:", dict(sorted(heavy.items(), key=str)))
    for k in ("replaced", "respawned", "moved_to_slow_lane", "memory_kills", "refused", "served"):
        print(f"  {k}: {after[k] - before.get(k, 0)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
