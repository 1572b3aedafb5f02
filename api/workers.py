"""Query isolation: every query runs in a worker process, under a deadline.

A `WorkerPool` keeps N worker processes, each with its own read-only view of the store (or its own client of
the remote server). A query is handed to an idle worker; if it has not answered when the deadline passes, the
worker is killed (SIGKILL: Oxigraph cannot be interrupted from inside) and replaced in the background, and the
client gets 503. Other queries keep being served by the other workers meanwhile. The worker also serialises
the answer, so the deadline and the row cap cover the whole of the work.

This module and what it imports (pyoxigraph, api.formats, graph.store) are all a worker loads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing as mp
import os
import signal
import sys
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from api import formats as F
from graph.store import (
    Dataset,
    InvalidRequest,
    LocalBackend,
    QueryRefused,
    QuerySyntaxError,
    RemoteBackend,
    RemoteError,
    StoreError,
    check_query,
    is_triples,
    iter_limited,
    scan_query,
)

log = logging.getLogger("mdkg.workers")

HARD_MAX_TIMEOUT = 300.0  # no configuration can give a query more than this


@dataclass(frozen=True)
class BackendSpec:
    """What a worker opens: a local store directory, or a remote SPARQL endpoint."""

    store_dir: Path | None = None
    remote: str | None = None
    remote_headers: tuple[tuple[str, str], ...] = ()
    service_allowlist: tuple[str, ...] = ()
    memory_limit_mb: int = 0  # address-space limit of a worker (0: none); past it the worker dies, 500

    def open(self, timeout: float):
        if self.remote:
            return RemoteBackend(self.remote, timeout=timeout, headers=dict(self.remote_headers))
        return LocalBackend(self.store_dir)


@dataclass(frozen=True)
class Job:
    query: str
    dataset: Dataset = Dataset()
    results_format: str | None = (
        "json"  # format keys (api.formats); None: that kind of answer is not acceptable
    )
    boolean_format: str | None = "json"
    graph_format: str | None = "turtle"
    max_rows: int = 100_000
    base_iri: str | None = None


@dataclass
class Outcome:
    status: int
    body: bytes
    media_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    kind: str = ""  # results, boolean, graph

    @classmethod
    def error(cls, status: int, message: str) -> Outcome:
        return cls(status, (message.rstrip() + "\n").encode("utf-8"))


def execute(backend, job: Job, allowlist: tuple[str, ...] = ()) -> Outcome:
    """Run one query and serialise its answer (in a worker process)."""
    try:
        check_query(scan_query(job.query), allowlist)
        result = backend.query(job.query, job.dataset, base_iri=job.base_iri)
        if isinstance(result, ox.QueryBoolean):
            fmt = F.BY_KEY.get(job.boolean_format or "")
            if fmt is None:
                return _not_acceptable("an ASK query", F.BOOLEAN)
            return Outcome(200, F.write_boolean(bool(result), fmt), fmt.content_type, kind=F.BOOLEAN)
        if is_triples(result):
            fmt = F.BY_KEY.get(job.graph_format or "")
            if fmt is None:
                return _not_acceptable("a CONSTRUCT or DESCRIBE query", F.GRAPH)
            triples, truncated = iter_limited(result, job.max_rows)
            out = Outcome(200, F.write_triples(triples, fmt), fmt.content_type, kind=F.GRAPH)
        else:
            fmt = F.BY_KEY.get(job.results_format or "")
            if fmt is None:
                return _not_acceptable("a SELECT query", F.RESULTS)
            variables = [v.value for v in result.variables]
            rows, truncated = iter_limited((tuple(s) for s in result), job.max_rows)
            out = Outcome(200, F.write_solutions(variables, rows, fmt), fmt.content_type, kind=F.RESULTS)
        if truncated:
            out.headers["MDKG-Result-Truncated"] = f"true; limit={job.max_rows}"
            out.headers["Warning"] = f'199 mdkg "result truncated to the first {job.max_rows} rows"'
        return out
    except QuerySyntaxError as e:
        return Outcome.error(400, f"SPARQL syntax error: {e}")
    except QueryRefused as e:
        return Outcome.error(403, str(e))
    except InvalidRequest as e:
        return Outcome.error(400, str(e))
    except RemoteError as e:
        return Outcome.error(e.status, str(e))
    except StoreError as e:
        return Outcome.error(503, str(e))
    except OSError as e:  # evaluation errors (e.g. an allowlisted SERVICE failing)
        return Outcome.error(502 if allowlist else 500, f"the query failed: {e}")
    except Exception as e:  # noqa: BLE001 - never let a trace reach the client
        traceback.print_exc(file=sys.stderr)
        return Outcome.error(500, f"the query failed: {type(e).__name__}")


def _not_acceptable(what: str, kind: str) -> Outcome:
    return Outcome.error(
        406,
        f"cannot answer {what} in the requested format; "
        f"available: {F.acceptable_list([kind])} (or use format=)",
    )


def _worker_main(conn, spec: BackendSpec, timeout: float) -> None:  # pragma: no cover - runs in a child
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        backend = spec.open(timeout)
        if spec.memory_limit_mb:
            import resource

            limit = spec.memory_limit_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except Exception as e:  # noqa: BLE001
        conn.send(("failed", f"{type(e).__name__}: {e}"))
        return
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        conn.send(execute(backend, job, spec.service_allowlist))


class WorkerDied(Exception):
    pass


class Worker:
    def __init__(self, ctx, spec: BackendSpec, timeout: float):
        parent, child = ctx.Pipe()
        self.conn = parent
        self.process = ctx.Process(
            target=_worker_main, args=(child, spec, timeout), daemon=True, name="mdkg-query-worker"
        )
        self.process.start()
        child.close()
        self.pid = self.process.pid

    def wait_ready(self, timeout: float) -> None:
        if not self.conn.poll(timeout):
            self.kill()
            raise WorkerDied("a query worker did not start in time")
        try:
            status, detail = self.conn.recv()
        except (EOFError, OSError):
            self.kill()
            raise WorkerDied("a query worker exited while starting") from None
        if status != "ready":
            self.kill()
            raise WorkerDied(f"a query worker could not open the store: {detail}")

    def roundtrip(self, job: Job) -> Outcome:
        try:
            self.conn.send(job)
            return self.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            raise WorkerDied("the query worker stopped") from None

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
        with contextlib.suppress(Exception):
            self.process.join(5)
        with contextlib.suppress(Exception):
            self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.send(None)
        self.process.join(2)
        if self.process.is_alive():
            self.kill()
        with contextlib.suppress(Exception):
            self.conn.close()


class WorkerPool:
    """N worker processes; `run()` gives a job to an idle one, with a deadline.

    Admission control, so that a flood of runaway queries cannot starve cheap ones:
    - a query still running after `short_seconds` becomes *long*: at most `max_long` long queries run at once
      (by default half the workers), each at a lower CPU priority; a query that would exceed that is stopped
      at once and answered 503 with Retry-After, leaving the other workers to short queries;
    - at most `max_waiting` requests wait for a worker; past that the answer is 429 with Retry-After."""

    def __init__(
        self,
        spec: BackendSpec,
        size: int = 2,
        start_timeout: float = 120.0,
        remote_timeout: float = HARD_MAX_TIMEOUT,
        short_seconds: float = 0.5,
        max_long: int | None = None,
        max_waiting: int | None = None,
    ):
        self.spec = spec
        self.size = max(1, size)
        self.short_seconds = short_seconds
        self.max_long = max(1, self.size // 2) if max_long is None else max_long
        self.max_waiting = 8 * self.size if max_waiting is None else max_waiting
        self.long_running = 0
        self.waiting = 0
        self.refused = 0
        self.start_timeout = start_timeout
        self.remote_timeout = remote_timeout
        self._ctx = mp.get_context("spawn")
        self._executor = ThreadPoolExecutor(max_workers=2 * self.size + 2, thread_name_prefix="mdkg-pool")
        self._idle: asyncio.Queue[Worker] = asyncio.Queue()
        self._workers: set[Worker] = set()
        self._lock = threading.Lock()
        self._tasks: set[asyncio.Task] = set()
        self.killed = 0
        self.served = 0
        self.closed = False

    def _spawn(self) -> Worker:
        w = Worker(self._ctx, self.spec, self.remote_timeout)
        w.wait_ready(self.start_timeout)
        return w

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        workers = await asyncio.gather(
            *(loop.run_in_executor(self._executor, self._spawn) for _ in range(self.size))
        )
        for w in workers:
            self._workers.add(w)
            self._idle.put_nowait(w)

    async def _replace(self) -> None:
        loop = asyncio.get_running_loop()
        for attempt in range(3):
            try:
                w = await loop.run_in_executor(self._executor, self._spawn)
            except WorkerDied as e:
                log.error("%s (attempt %d)", e, attempt + 1)
                await asyncio.sleep(1)
                continue
            if self.closed:
                w.stop()
                return
            self._workers.add(w)
            self._idle.put_nowait(w)
            return

    def _retire(self, worker: Worker) -> None:
        self._workers.discard(worker)
        with contextlib.suppress(Exception):
            worker.process.kill()  # at once: the query stops now; reaping happens in a thread
        loop = asyncio.get_running_loop()
        loop.run_in_executor(self._executor, worker.kill)
        self.killed += 1
        if not self.closed:
            task = loop.create_task(self._replace())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def run(self, job: Job, deadline: float, internal: bool = False) -> Outcome:
        """The outcome of `job`, or 503 if it did not finish within `deadline` seconds (waiting included).
        `internal` queries (the server's own pages and REST calls, of known cost) are not stopped for being long;
        they still count as long, so they keep a client's runaway queries out of the workers."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        if self.waiting >= self.max_waiting:
            self.refused += 1
            return _busy(429, f"too many queries are waiting ({self.waiting}); retry shortly", deadline)
        self.waiting += 1
        try:
            worker = await asyncio.wait_for(self._idle.get(), deadline)
        except TimeoutError:
            return _busy(503, f"the server is busy: no query worker became free within the {deadline:g} s "
                         "deadline; try again later", deadline)
        finally:
            self.waiting -= 1
        fut = loop.run_in_executor(self._executor, worker.roundtrip, job)
        long = False
        try:
            short = min(self.short_seconds, deadline - (loop.time() - started))
            done, _ = await asyncio.wait({fut}, timeout=max(0.0, short))
            if not done:
                if self.long_running >= self.max_long and not internal:
                    self._retire(worker)
                    self.refused += 1
                    return _busy(503, f"query stopped: {self.long_running} long-running queries already use the "
                                 "workers set aside for them; retry later, or narrow the query down", deadline)
                long = True
                self.long_running += 1
                _renice(worker, 10)
            remaining = max(0.01, deadline - (loop.time() - started))
            outcome = await asyncio.wait_for(fut, remaining)
        except TimeoutError:
            self._retire(worker)
            return Outcome.error(
                503,
                f"query stopped: it did not finish within the {deadline:g} s deadline. "
                "Narrow it down (LIMIT, more specific patterns) or ask for a longer "
                "timeout= (up to the server's maximum).",
            )
        except WorkerDied:
            self._retire(worker)
            return Outcome.error(
                500,
                "the query worker stopped unexpectedly while running this query "
                "(out of memory?); it has been replaced",
            )
        except asyncio.CancelledError:  # the client went away: the worker may still be busy, replace it
            self._retire(worker)
            raise
        finally:
            if long:
                self.long_running -= 1
        self.served += 1
        if long and not _renice(worker, 0):
            self._retire(worker)  # cannot restore its priority: replace it rather than keep a slow worker
        else:
            self._idle.put_nowait(worker)
        return outcome

    def status(self) -> dict:
        return {
            "workers": len(self._workers),
            "idle": self._idle.qsize(),
            "replaced": self.killed,
            "served": self.served,
            "long_running": self.long_running,
            "waiting": self.waiting,
            "refused": self.refused,
        }

    async def close(self) -> None:
        self.closed = True
        for t in list(self._tasks):
            t.cancel()
        loop = asyncio.get_running_loop()
        workers = list(self._workers)
        self._workers.clear()
        await asyncio.gather(*(loop.run_in_executor(self._executor, w.stop) for w in workers))
        self._executor.shutdown(wait=False, cancel_futures=True)


def _busy(status: int, message: str, deadline: float) -> Outcome:
    out = Outcome.error(status, message)
    out.headers["Retry-After"] = str(max(1, round(min(deadline, 5))))
    return out


def _renice(worker: Worker, niceness: int) -> bool:
    """Set a worker's CPU priority; False if the system refuses (raising priority back needs privileges)."""
    try:
        os.setpriority(os.PRIO_PROCESS, worker.pid, niceness)
        return True
    except OSError:
        return niceness > 0


def wait_seconds(requested: str | None, configured: float) -> float:
    """The deadline of one request: the configured one, or a shorter `timeout=` the client asks for."""
    deadline = min(configured, HARD_MAX_TIMEOUT)
    if requested:
        with contextlib.suppress(ValueError):
            value = float(requested)
            if value > 0:
                deadline = min(deadline, value)
    return deadline
