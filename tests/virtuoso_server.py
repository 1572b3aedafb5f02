"""Virtuoso Open Source (Debian's `virtuoso-opensource-7-bin`) for tests and benchmarks: a private server with
its own ini file and database in a folder of ours, on free loopback ports (never the system service).

Its SPARQL endpoint is `/sparql`; its Graph Store Protocol endpoint `/sparql-graph-crud-auth` (Digest
authentication as `dba`); its bulk loader is reached through `isql-vt` on the SQL port."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

INSTALL_HINT = "apt-get install virtuoso-opensource-7-bin (.ci/run does)"

INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
MaxClientConnections = 10
CheckpointInterval = 60
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
DirsAllowed = ., {d}, {dirs_allowed}
ThreadsPerQuery = 2
AsyncQueueMaxThreads = 4
VADInstallDir = {d}

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {d}
MaxClientConnections = 10
ServerThreads = 10
EnabledDavVSP = 0

[SPARQL]
ResultSetMaxRows = 100000000
MaxQueryExecutionTime = {query_seconds}
MaxQueryCostEstimationTime = 0
"""


def virtuoso_binaries() -> tuple[str, str] | None:
    """(virtuoso-t, isql) when Virtuoso is installed, else None."""
    server = shutil.which("virtuoso-t")
    isql = shutil.which("isql-vt") or shutil.which("isql-v")
    return (server, isql) if server and isql else None


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Virtuoso:
    base: str
    sql_port: int
    isql_binary: str
    folder: Path
    proc: subprocess.Popen

    @property
    def sparql(self) -> str:
        return f"{self.base}/sparql"

    @property
    def gsp(self) -> str:
        return f"{self.base}/sparql-graph-crud-auth"

    def isql(self, sql: str, timeout: float = 3600) -> str:
        """Run SQL statements through isql as dba; raises with Virtuoso's message on an error."""
        run = subprocess.run(
            [self.isql_binary, f"127.0.0.1:{self.sql_port}", "dba", "dba", "VERBOSE=OFF", "BANNER=OFF"],
            input=sql if sql.rstrip().endswith(";") else sql + ";",
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if run.returncode != 0 or "*** Error" in run.stdout or "*** Error" in run.stderr:
            raise RuntimeError(f"isql failed: {run.stdout[-2000:]}{run.stderr[-2000:]}")
        return run.stdout

    def bulk_load(self, data_file: Path, graph: str = "urn:mdkg:default") -> None:
        """Virtuoso's bulk loader (ld_dir + rdf_loader_run), the fast path for large N-Quads files: each quad goes
        into its own graph; `graph` is only for triples without one."""
        folder, name = data_file.resolve().parent, data_file.name
        self.isql(f"ld_dir('{folder}', '{name}', '{graph}');\nrdf_loader_run();\ncheckpoint;\n")
        errors = self.isql(
            f"SELECT ll_file, ll_error FROM DB.DBA.LOAD_LIST WHERE ll_file LIKE '%{name}' AND ll_error IS NOT NULL;"
        )
        if "0 Rows" not in errors and name in errors:
            raise RuntimeError(f"bulk load of {data_file} failed: {errors}")


def wait_for(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"virtuoso exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, params={"query": "ASK {}"}, timeout=5).status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"virtuoso did not start in {timeout} s:\n{log.read_text(errors='replace')[-3000:]}")


@contextlib.contextmanager
def virtuoso_server(
    folder: Path,
    buffers: int = 20_000,
    query_seconds: int = 120,
    dirs_allowed: tuple[Path, ...] = (),
    start_timeout: float = 180.0,
) -> Iterator[Virtuoso]:
    """A fresh Virtuoso in `folder` (8 KiB per buffer: 20,000 = 160 MB of cache; 1.5 GB per 10^7 triples to
    keep a large graph in memory); stopped, with its children, when the block ends."""
    found = virtuoso_binaries()
    if not found:
        raise RuntimeError(f"Virtuoso is not installed: {INSTALL_HINT}")
    server, isql = found
    folder.mkdir(parents=True, exist_ok=True)
    sql_port, http_port = _free_port(), _free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(
        INI.format(
            d=folder,
            sql_port=sql_port,
            http_port=http_port,
            buffers=buffers,
            dirty=buffers * 3 // 4,
            dirs_allowed=", ".join(str(p) for p in dirs_allowed) or str(folder),
            query_seconds=query_seconds,
        )
    )
    log = folder / "stdout.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [server, "+foreground", "+configfile", str(ini)],
            cwd=folder,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{http_port}"
    try:
        wait_for(f"{base}/sparql", proc, log, start_timeout)
        yield Virtuoso(base, sql_port, isql, folder, proc)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
