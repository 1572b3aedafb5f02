"""Helpers for the SPARQL endpoint tests: run `mdkg serve` (or `oxigraph serve`) on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def dataset_for_tests(request) -> Path:
    """The N-Quads file of a fresh build (the `built_dataset` fixture); MDKG_TEST_DATASET=FILE reuses a build
    when iterating on the endpoint alone."""
    override = os.environ.get("MDKG_TEST_DATASET")
    return Path(override) if override else request.getfixturevalue("built_dataset")


def mdkg(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """`mdkg ARGS` in a subprocess on this checkout, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "mdkg.cli", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code < 500:
                return
        time.sleep(0.2)
    raise RuntimeError(f"server did not start in {timeout} s:\n{log.read_text(errors='replace')}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@contextlib.contextmanager
def mdkg_server(tmp: Path, *args: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """`mdkg serve ARGS` on a free port; yields (base URL, process)."""
    port = free_port()
    log = tmp / f"serve-{port}.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mdkg.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
                *args,
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/health", proc, log)
        yield base, proc
    finally:
        stop(proc)


def oxigraph_binary() -> str:
    exe = Path(sys.executable).parent / "oxigraph"
    found = str(exe) if exe.exists() else shutil.which("oxigraph")
    if not found:
        raise RuntimeError("the oxigraph server binary is missing: pip install -r requirements.lock")
    return found


@contextlib.contextmanager
def oxigraph_server(location: Path, *args: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """`oxigraph serve` (the PyPI `oxigraph` package) on a free loopback port; yields (base URL, process)."""
    port = free_port()
    log = location.parent / f"oxigraph-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [oxigraph_binary(), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/query?query=ASK%7B%7D", proc, log)
        yield base, proc
    finally:
        stop(proc)


def children(pid: int) -> set[int]:
    """The live child processes of `pid` (Linux /proc)."""
    kids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                kids.add(int(entry.name))
    return kids


def query_workers(pid: int) -> set[int]:
    """The query worker processes of the server `pid`: children of its multiprocessing forkserver."""
    workers = set()
    for child in children(pid):
        with contextlib.suppress(OSError):
            if b"forkserver" in Path(f"/proc/{child}/cmdline").read_bytes():
                workers |= children(child)
    return workers
