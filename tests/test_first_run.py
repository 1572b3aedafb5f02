"""A lean first run (issue 16): `mdkg build` is skipped when no input changed, `mdkg serve` says what to do on a
busy port before loading anything, and serving needs none of the test tools."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

from conftest import ROOT
from sparql_server import mdkg

from ingest.inputs import fingerprint, recorded, up_to_date
from mdkg.settings import Settings


def test_a_build_records_its_inputs_and_is_not_repeated(built):
    settings = Settings(build_dir=built.folder.parents[1])
    assert recorded(built.folder) == fingerprint(settings)
    assert up_to_date(settings)
    runs = sorted(p.name for p in (settings.build_dir / "runs").iterdir())
    started = time.monotonic()
    r = mdkg("build", env={"MDKG_BUILD_DIR": str(settings.build_dir)})
    assert r.returncode == 0, r.stderr
    assert "up to date" in r.stdout
    assert time.monotonic() - started < 15
    assert sorted(p.name for p in (settings.build_dir / "runs").iterdir()) == runs


def test_any_changed_input_changes_the_fingerprint(tmp_path):
    for name in ("seeds", "ontology", "shapes", "queries"):
        shutil.copytree(ROOT / name, tmp_path / name)
    settings = Settings(root=tmp_path, build_dir=tmp_path / "build", resources=tmp_path)
    before = fingerprint(settings)
    assert fingerprint(settings) == before  # stable
    registry = tmp_path / "seeds" / "registry" / "not-entities.txt"
    registry.write_text(registry.read_text() + "\nSomething New\n")
    assert fingerprint(settings) != before
    before = fingerprint(settings)
    query = tmp_path / "queries" / "instruments.rq"  # the build copies the queries: they are inputs too
    query.write_text(query.read_text() + "\n# changed\n")
    assert fingerprint(settings) != before
    assert fingerprint(Settings(root=tmp_path, build_dir=tmp_path / "build", base="https://example.org/")) != (
        fingerprint(settings)
    )


def test_serve_on_a_busy_port_says_what_to_do():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        started = time.monotonic()
        r = mdkg("serve", "--port", str(port), "--data", str(ROOT / "no-such-file.nq"))
    assert r.returncode == 1
    assert f"port {port}" in r.stderr and "already in use" in r.stderr and "--port" in r.stderr
    assert "Traceback" not in r.stderr
    assert time.monotonic() - started < 10


def test_serving_needs_no_test_tool():
    """The runtime lock holds everything `mdkg serve` imports; the test lock nothing it needs."""
    runtime = {line.split("==")[0].lower() for line in (ROOT / "requirements.lock").read_text().splitlines()
               if "==" in line}
    tests = {line.split("==")[0].lower() for line in (ROOT / "requirements-test.lock").read_text().splitlines()
             if "==" in line}
    assert not runtime & tests
    for tool in ("pytest", "playwright", "locust", "schemathesis", "hypothesis", "ruff"):
        assert tool not in runtime and tool in tests
    code = (
        "import sys, api.app, api.serve, ingest.build, graph.gaps, graph.network;"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('pytest', 'playwright', 'locust', 'schemathesis', 'hypothesis')]; print(bad)"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stderr
