"""Start a real mdkg server on loopback, run the mixed locust workload against it, and report per request kind:
requests, failures, throughput, p50 and p99 latency. Exit status 1 if any request failed.

  python bench/load/run.py                       # CI size: 12 users, 20 s
  python bench/load/run.py --users 50 --time 120 # a larger manual run
  python bench/load/run.py --url http://127.0.0.1:8000   # against a server already running
  python bench/load/run.py --one-address         # every locust user from 127.0.0.1 (one client to the server)

Each locust user connects from a loopback address of its own (bench/load/locustfile.py says why).

A server it starts is asked first for a few entity pages, one at a time, to time their first (uncached) load.
"""

from __future__ import annotations

import argparse
import csv
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
CHEAP = ("sparql-cheap", "rest-stakeholders", "rest-entity", "page-entity", "page-home")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data: Path | None, timeout: float) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-m", "mdkg.cli", "serve", "--port", str(port), "--timeout", str(timeout),
           "--log-level", "warning"]
    if data:
        cmd += ["--data", str(data)]
    proc = subprocess.Popen(cmd, cwd=HERE.parents[1])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise SystemExit("server did not answer /health within 120 s")


FIRST_PAGES = ("iom", "state/MEX", "icrmw", "gfmd")  # the first is the server's first page of all


def first_loads(url: str) -> list[tuple[str, float]]:
    """Seconds to each entity page's first (uncached) load, before any other page has been asked for."""
    times = []
    with httpx.Client(base_url=url, timeout=60, headers={"Accept": "text/html"}) as client:
        for entity in FIRST_PAGES:
            t = time.perf_counter()
            r = client.get(f"/id/{entity}")
            r.raise_for_status()
            times.append((entity, time.perf_counter() - t))
    return times


def run_locust(url: str, users: int, seconds: int, out: Path, one_address: bool) -> None:
    cmd = [sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py"), "--headless", "--host", url,
           "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--csv", str(out / "load"),
           "--only-summary", "--stop-timeout", "10", "--exit-code-on-error", "0"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "MDKG_LOAD_ONE_ADDRESS": "1" if one_address else "0"}
    subprocess.run(cmd, check=True, env=env)


def read_stats(out: Path) -> list[dict]:
    with (out / "load_stats.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def report(rows: list[dict], seconds: int) -> int:
    print(f"\n{'request kind':<20}{'requests':>9}{'failures':>9}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}")
    failures = 0
    for r in rows:
        n, bad = int(r["Request Count"]), int(r["Failure Count"])
        name = r["Name"] if r["Name"] != "Aggregated" else "ALL"
        print(f"{name:<20}{n:>9}{bad:>9}{float(r['Requests/s']):>8.1f}{r['50%']:>8}{r['99%']:>8}")
        if name != "ALL":
            failures += bad
    cheap = [r for r in rows if r["Name"] in CHEAP and int(r["Request Count"])]
    if cheap:
        worst = max(float(r["99%"]) for r in cheap)
        print(f"\nworst p99 of cheap requests: {worst:.0f} ms (target < 100 ms) over {seconds} s")
    print(f"failures: {failures}")
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running server; default: start one on a free loopback port")
    parser.add_argument("--data", type=Path, help="dataset to serve (default: the last build)")
    parser.add_argument("--users", type=int, default=12)
    parser.add_argument("--time", type=int, default=20, help="seconds of load")
    parser.add_argument("--deadline", type=float, default=2.0, help="query deadline of the started server (s)")
    parser.add_argument("--one-address", action="store_true", help="every locust user from 127.0.0.1")
    args = parser.parse_args()
    proc = None
    url = args.url
    if not url:
        proc, url = start_server(args.data, args.deadline)
    try:
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if proc:  # a fresh server: nothing cached yet
            for entity, seconds in first_loads(url):
                print(f"first load of /id/{entity}: {seconds * 1000:.0f} ms (target < 200 ms)")
        with tempfile.TemporaryDirectory() as tmp:
            run_locust(url, args.users, args.time, Path(tmp), args.one_address)
            return report(read_stats(Path(tmp)), args.time)
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
