"""A killed `mdkg build` never damages the last good build (issue 7).

One good build of a copy of the project, then real `mdkg build` subprocesses killed with SIGKILL (no clean-up
code runs) at random points: one while the stages run in memory, one while the output is being written (found
by polling for the `runs/.<stamp>.partial` folder and the files in it). After each kill `build/current` still
points at the good run, whose mdkg.nq has the same bytes and parses; then a last build succeeds and removes the
partial folders the killed builds left. The test costs about three builds. MDKG_KILL_SEED=<n> replays a run's
kill points."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from mdkg.settings import ROOT

TIMEOUT = 900  # seconds for one build: generous on a loaded 2-core machine, only a guard against hangs
POLL = 0.02
# Kill points in the output phase: the partial folder just created, N-Quads being written, TriG being written.
WRITING_MILESTONES = ["created", "mdkg.nq", "mdkg.trig"]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("atomic")
    for name in ("ontology", "shapes", "seeds"):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("curation"))
    env = {**os.environ, "MDKG_ROOT": str(root), "MDKG_BUILD_DIR": str(root / "build")}
    return root / "build", env


def _start(env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mdkg.cli", "build", "--quiet", "--force"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _partials(build: Path) -> list[Path]:
    runs = build / "runs"
    return sorted(runs.glob(".*.partial")) if runs.is_dir() else []


def _wait_for_partial(proc: subprocess.Popen, build: Path, before: set[Path], timeout: float) -> float | None:
    """Poll until the build creates its partial folder: the time it appeared; None if the build ended first or
    `timeout` passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if set(_partials(build)) - before:
            return time.monotonic()
        if proc.poll() is not None:
            return None
        time.sleep(POLL)
    return None


def _kill(proc: subprocess.Popen) -> int:
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    return proc.returncode


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _quads(path: Path) -> int:
    return sum(1 for _ in ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS))


def _complete(run: Path) -> bool:
    return all((run / name).is_file() for name in ("mdkg.nq", "mdkg.trig", "report/summary.json"))


def test_a_killed_build_leaves_the_last_good_build_intact(project):
    build, env = project
    seed = int(os.environ.get("MDKG_KILL_SEED", random.randrange(10**6)))
    rng = random.Random(seed)
    print(f"MDKG_KILL_SEED={seed}")

    # 1. a good build; its stage phase (until the partial folder appears) is timed
    t0 = time.monotonic()
    proc = _start(env)
    t_partial = _wait_for_partial(proc, build, set(), TIMEOUT)
    if t_partial is None:
        proc.kill()
        pytest.fail("the good build wrote no partial folder: " + proc.communicate()[1])
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, err
    stages = t_partial - t0
    print(f"good build: stages {stages:.1f} s, all {time.monotonic() - t0:.1f} s")
    good = (build / "current").resolve()
    assert _complete(good) and not _partials(build)
    nq = good / "mdkg.nq"
    digest, quads = _digest(nq), _quads(nq)
    assert quads > 10_000

    # 2. the kills. Load on the machine makes the phases' lengths vary from build to build, so the point in
    # the writing phase is a milestone (a file appearing in the partial folder) plus a short random delay.
    kills = [("stages", rng.uniform(0.05, 0.8) * stages),
             (rng.choice(WRITING_MILESTONES), rng.uniform(0.0, 0.3))]
    for point, delay in kills:
        before = set(_partials(build))
        proc = _start(env)
        if point == "stages":
            # sleep, but kill at once if the build reaches its output phase first (a loaded machine)
            seen = _wait_for_partial(proc, build, before, delay)
            assert proc.poll() is None, "the build ended before the kill"
            point = "stages" if seen is None else "writing (reached before the delay)"
        else:
            if _wait_for_partial(proc, build, before, TIMEOUT) is None:
                proc.kill()
                pytest.fail("the build wrote no partial folder: " + proc.communicate()[1])
            (partial,) = set(_partials(build)) - before
            while point != "created" and not (partial / point).exists() and proc.poll() is None:
                time.sleep(POLL)
            time.sleep(delay)
        assert proc.poll() is None, f"the build ended before the kill ({point}, {delay:.2f} s)"
        assert _kill(proc) == -signal.SIGKILL
        left = set(_partials(build)) - before
        print(f"killed at {point} + {delay:.2f} s: left {sorted(p.name for p in left)}")
        if point in WRITING_MILESTONES and not left:
            # killed in the instant between renaming its folder and switching build/current: a finished run
            # that was never published, which is as harmless as a partial one
            runs = {p for p in (build / "runs").iterdir() if not p.name.startswith(".")}
            assert runs - {good}, "a build killed while writing left nothing behind (was it killed at all?)"
        # the last good build: the same folder, the same bytes, still parses (same bytes, so checked once)
        assert good.is_dir() and _complete(good), f"{point}: the previous run was damaged"
        assert _digest(nq) == digest, f"{point}: mdkg.nq of the previous run changed"
        current = (build / "current").resolve()
        if current != good:
            # the writing finished within the delay and the kill came after the switch: the new run must then
            # be complete (never a half-written current), and it becomes the last good build
            assert point in WRITING_MILESTONES and _complete(current), f"{point}: build/current was switched"
            assert _quads(current / "mdkg.nq") == quads
            good, nq = current, current / "mdkg.nq"
            digest = _digest(nq)
    assert _partials(build) or len(list((build / "runs").iterdir())) > 1, \
        "no kill happened while the output was being written"
    assert _quads(nq) == quads

    # 3. the next build succeeds, publishes a new run and removes what the killed builds left
    proc = _start(env)
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    new = (build / "current").resolve()
    assert new != good and _complete(new)
    assert not _partials(build), "partial folders of killed builds were not cleaned up"
    assert not (build / ".current.new").exists()
    assert _quads(new / "mdkg.nq") == quads  # the same seeds give the same graph
    assert _digest(nq) == digest  # the previous run is kept (KEEP_RUNS) and untouched
