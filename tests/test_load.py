"""The mixed load of bench/load (entity pages, REST, cheap and expensive SPARQL, gaps, network) against a live
server on the built graph, at CI size: no request kind may fail, while expensive queries run into the deadline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mixed_load_has_no_errors(built_dataset):
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "load" / "run.py"), "--data", str(built_dataset),
                          "--users", "10", "--time", "20", "--deadline", "2"],
                         capture_output=True, text=True, cwd=ROOT, timeout=400)
    report = run.stdout[run.stdout.find("request kind"):]
    assert run.returncode == 0, report + run.stderr[-3000:]
    rows = {line.split()[0]: line.split()[1:] for line in report.splitlines()[1:] if line and line[0].isalpha()}
    for kind in ("page-entity", "rest-stakeholders", "sparql-cheap", "sparql-expensive"):
        assert int(rows[kind][0]) > 0 and rows[kind][1] == "0", (kind, report)
