"""Query isolation and fair scheduling: every query runs in a sandboxed worker process, under a deadline (but a
lookup whose form bounds its work, answered by the server itself: `api.inline`).

Each worker process holds its own read-only view of the store (or its own client of a remote server), has no
network (`api.sandbox`), runs queries on a big stack after the complexity limits of `graph.query_check`, and
serialises the answer itself (SELECT answers with Oxigraph's own writers), so the deadline and the row cap cover
the whole of the work and the server passes the bytes on as they are. The server reads and writes the workers'
pipes from its event loop. A worker that dies (a crash, out of memory) or is killed at the deadline is replaced
from pre-started spares: nobody waits for a respawn.

Scheduling (`WorkerPool`), so that heavy queries cannot starve cheap ones:
- every running query holds one of `size` slots; a **long** one (still running after `short_seconds`, 0.25 s) must
  also hold one of the **slow** slots (all but the reserved ones) and runs at a lower CPU priority. If none is
  free, or its
  client (by address) already has a long query, it is stopped at once (503 with Retry-After). So long queries never
  hold more than the slow slots, and the other workers are always there for short ones;
- a query known to be heavy (the same text ran long in the last minutes) waits for a slow slot from the start, in a
  short queue: past it, 503 at once. A client whose query just ran long takes turns for a while (one query at a
  time), so that a flood of ever-new heavy texts from one client cannot fill the workers; a client whose long
  queries had to be killed a few times has all its queries treated as heavy;
- a quarter of the slots (at least one) is reserved: no single client (by address; pages and REST calls count) and
  no set of clients whose queries run long can hold them, so a newcomer's cheap query finds a worker at once;
- server-side computations (network views) are `Call`s run by the same workers, under the same deadline; the
  server's own work (`internal`) is never stopped for being long, only at its deadline;
- the parent watches the memory of every busy worker; past the limit the worker is killed and the answer is 503
  "query used too much memory".

This module and what it imports (pyoxigraph, api.formats, api.sandbox, graph.store, graph.query_check) are all a
worker loads.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib
import logging
import multiprocessing as mp
import os
import pickle
import re
import signal
import socket
import struct
import sys
from collections import OrderedDict, defaultdict, deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from api import formats as F
from api import sandbox
from graph.query_check import (
    InvalidRequest,
    Limits,
    QueryRefused,
    QueryShape,
    QuerySyntaxError,
    check_services,
    check_shape,
    shape,
)
from graph.store import (
    Dataset,
    LocalBackend,
    RemoteBackend,
    RemoteError,
    StoreError,
    is_triples,
    iter_limited,
)

log = logging.getLogger("mdkg.workers")

HARD_MAX_TIMEOUT = 300.0  # no configuration can give a query more than this
TRUST_SECONDS = 300.0  # a client whose query ended short in the last 5 minutes waits ahead of unknown ones
FLAG_SECONDS, SUSPECT_AFTER = 10.0, 1  # a client whose query ran long in the last 10 s: its queries take turns
STRIKES, STRIKE_WINDOW = 2, 60.0  # long queries of one client killed within the window before all its work goes slow
READ_ONLY = (
    "this endpoint is read-only: SPARQL Update is not accepted (the graph is rebuilt from its sources "
    "with `mdkg build`)"
)
FORMS = {"SELECT": F.RESULTS, "ASK": F.BOOLEAN, "CONSTRUCT": F.GRAPH, "DESCRIBE": F.GRAPH}
NO_NETWORK = (
    "SERVICE is not available: federated queries are off on this endpoint (its query workers have no network)"
)


@dataclass(frozen=True)
class BackendSpec:
    """What a worker opens: a local store directory, or a remote SPARQL endpoint; and its sandbox."""

    store_dir: Path | None = None
    remote: str | None = None
    remote_headers: tuple[tuple[str, str], ...] = ()
    service_allowlist: tuple[str, ...] = ()
    # no network for local stores without an allowlist (a remote backend or SERVICE endpoints need it)
    isolate_network: bool = True
    memory_limit_mb: int = 0  # watched by the pool; the address-space backstop is set well above it
    limits: Limits = Limits()

    def open(self, timeout: float):
        if self.remote:
            return RemoteBackend(self.remote, timeout=timeout, headers=dict(self.remote_headers))
        return LocalBackend(self.store_dir)

    @property
    def sandboxed(self) -> bool:
        return self.isolate_network and not self.remote and not self.service_allowlist

    @property
    def address_space_mb(self) -> int:
        # the 256 MiB query stack and the store's memory maps count against RLIMIT_AS, resident memory does not
        return 2 * self.memory_limit_mb + 2048 if self.memory_limit_mb else 0


@dataclass(frozen=True)
class Job:
    query: str
    dataset: Dataset = Dataset()
    results_format: str | None = "json"  # format keys (api.formats); None: that kind of answer is not acceptable
    boolean_format: str | None = "json"
    graph_format: str | None = "turtle"
    max_rows: int = 100_000
    base_iri: str | None = None
    max_bytes: int = 64 * 2**20  # past it the answer is cut to the rows that fit (it travels through the server)

    def fingerprint(self) -> str:
        return hashlib.sha1(" ".join(self.query.split()).encode()).hexdigest()


@dataclass(frozen=True)
class Call:
    """A server-side computation (e.g. a network view) run by a worker: `module:function` applied to the worker's
    backend and `args`.
    Only the server makes these; its result travels back pickled in `Outcome.value`."""

    target: str
    args: tuple = ()

    def fingerprint(self) -> str:
        return hashlib.sha1(f"{self.target}{self.args!r}".encode()).hexdigest()


@dataclass
class Outcome:
    status: int
    body: bytes
    media_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    kind: str = ""  # results, boolean, graph
    value: Any = None  # the result of a Call

    @classmethod
    def error(cls, status: int, message: str) -> Outcome:
        return cls(status, (message.rstrip() + "\n").encode("utf-8"))


def execute(backend, job: Job | Call, spec: BackendSpec = BackendSpec()) -> Outcome:
    """Run one query (or call) and serialise its answer (in a worker process)."""
    try:
        if isinstance(job, Call):
            module, _, name = job.target.partition(":")
            return Outcome(200, b"", value=getattr(importlib.import_module(module), name)(backend, *job.args))
        info = shape(job.query)
        check_shape(info, spec.limits)
        if info.is_update:
            raise QueryRefused(READ_ONLY)
        check_services(job.query, info, spec.service_allowlist)
        form = FORMS.get(info.operation)
        if form and F.BY_KEY.get(getattr(job, f"{form}_format") or "") is None:
            return _not_acceptable(f"a{'n' if info.operation == 'ASK' else ''} {info.operation} query", form)
        result = backend.query(job.query, job.dataset, base_iri=job.base_iri, has_from=info.has_dataset_clause,
                             operation=info.operation)
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
            body, rows_kept = _within_bytes(lambda n: _write(F.write_triples, triples[:n], fmt), len(triples),
                                            job.max_bytes)
            out = Outcome(200, body, fmt.content_type, kind=F.GRAPH)
        else:
            fmt = F.BY_KEY.get(job.results_format or "")
            if fmt is None:
                return _not_acceptable("a SELECT query", F.RESULTS)
            body, rows_kept, truncated = _solutions(result, fmt, job, info, backend)
            out = Outcome(200, body, fmt.content_type, kind=F.RESULTS)
        if rows_kept is not None:
            out.headers["MDKG-Result-Truncated"] = f"true; limit={rows_kept}; bytes={job.max_bytes}"
            out.headers["Warning"] = (f'199 mdkg "result truncated to the first {rows_kept} rows: the whole answer '
                                      f'is larger than {job.max_bytes // 2**20} MiB"')
        elif truncated:
            out.headers["MDKG-Result-Truncated"] = f"true; limit={job.max_rows}"
            out.headers["Warning"] = f'199 mdkg "result truncated to the first {job.max_rows} rows"'
        return out
    except CannotWrite as e:
        return Outcome.error(406, f"cannot write this answer in the requested format: {e}; choose another format")
    except QuerySyntaxError as e:
        return Outcome.error(400, f"SPARQL syntax error: {short_syntax_error(str(e), job.query)}")
    except QueryRefused as e:
        return Outcome.error(403, str(e))
    except InvalidRequest as e:
        return Outcome.error(400, str(e))
    except RemoteError as e:
        return Outcome.error(e.status, str(e))
    except StoreError as e:
        return Outcome.error(503, str(e))
    except MemoryError:
        return Outcome.error(503, "query used too much memory; narrow it down (LIMIT, more specific patterns)")
    except RuntimeError as e:  # Oxigraph's evaluation errors: an unknown function...
        return Outcome.error(400, f"the query cannot be evaluated: {str(e)[:300]}")
    except OSError as e:  # a SERVICE that cannot connect (sandboxed), an allowlisted one failing
        if spec.sandboxed and "service" in job.query.lower():
            return Outcome.error(403, NO_NETWORK)
        if spec.service_allowlist:
            return Outcome.error(502, f"the query failed: {str(e)[:300]}")
        return _unexpected(e)
    except Exception as e:  # noqa: BLE001 - never let a trace reach the client
        return _unexpected(e)


# The fewest bytes one solution takes in Oxigraph's writers: `{}` (JSON), `<result></result>` (XML), an empty line.
MIN_ROW_BYTES = {"json": 2, "xml": 17, "csv": 2, "tsv": 1}


def _solutions(result, fmt: F.Format, job: Job, info: QueryShape, backend) -> tuple[bytes, int | None, bool]:
    """SELECT results: the body, how many rows were kept when it had to be cut to `max_bytes` (None: not cut), and
    whether it was cut to `max_rows`. Oxigraph's own writer writes the answer; only an answer that may pass a cap
    (larger than `max_rows` of the smallest rows, or than `max_bytes`) is counted, and cut in Python if it does."""
    def again():  # the first evaluation was used up by the writer
        return backend.query(job.query, job.dataset, base_iri=job.base_iri, has_from=info.has_dataset_clause,
                             operation=info.operation)

    variables = [v.value for v in result.variables]
    perm = star_order(variables, info.variables) if info.select_star else None
    if perm is None:
        out = _Capped(job.max_bytes)
        try:
            result.serialize(out, format=fmt.results)
        except _TooLarge:  # larger than max_bytes: written again below and cut to fit
            result = again()
        else:
            body = bytes(out.body)
            if len(body) <= MIN_ROW_BYTES[fmt.key] * job.max_rows:
                return body, None, False  # it cannot hold more than max_rows rows
            if fmt.key == "csv":  # CSV cannot be read back (it drops term kinds): counted below
                result = again()
            else:
                result = ox.parse_query_results(body, format=fmt.results)  # count the rows
                rows, truncated = iter_limited((tuple(s) for s in result), job.max_rows)
                if not truncated:
                    return body, None, False
                return (*_within_bytes(lambda n: _write(F.write_solutions, variables, rows[:n], fmt), len(rows),
                                       job.max_bytes), True)
    rows, truncated = iter_limited((tuple(s) for s in result), job.max_rows)
    if perm is not None:  # SELECT *: the variables in the order the query names them
        variables, rows = permuted(variables, rows, perm)
    body, rows_kept = _within_bytes(lambda n: _write(F.write_solutions, variables, rows[:n], fmt), len(rows),
                                    job.max_bytes)
    return body, rows_kept, truncated


def star_order(variables: list[str], named: Sequence[str]) -> list[int] | None:
    """For SELECT *, the permutation that puts Oxigraph's variables in the order the query names them (`named`;
    None: already in that order)."""
    order = {v: i for i, v in enumerate(named)}
    perm = sorted(range(len(variables)), key=lambda i: order.get(variables[i], len(order)))
    return None if perm == list(range(len(variables))) else perm


def permuted(variables: list[str], rows: list[tuple], perm: list[int]) -> tuple[list[str], list[tuple]]:
    """The columns of an answer put in the order `perm` gives."""
    return [variables[i] for i in perm], [tuple(row[i] for i in perm) for row in rows]


class _TooLarge(Exception):
    pass


class _Capped:
    """A binary output for Oxigraph's writers that stops them (raises _TooLarge) past `limit` bytes."""

    def __init__(self, limit: int):
        self.limit = limit
        self.body = bytearray()

    def write(self, chunk) -> int:
        if len(self.body) + len(chunk) > self.limit:
            raise _TooLarge
        self.body += chunk
        return len(chunk)

    def flush(self) -> None:
        pass


class CannotWrite(Exception):
    """A writer that cannot carry this answer (e.g. JSON-LD and RDF 1.2 triple terms)."""


def _write(writer, *args) -> bytes:
    try:
        return writer(*args)
    except (OSError, ValueError) as e:
        raise CannotWrite(str(e)[:200]) from None


def _within_bytes(write, rows: int, limit: int) -> tuple[bytes, int | None]:
    """The answer written with all `rows`, or with the most rows (halving) that fit in `limit` bytes, and how many
    were kept (None: all). An answer of a few rows with huge literals must not fill the server's memory."""
    body = write(rows)
    if len(body) <= limit:
        return body, None
    n = rows
    while n > 0:
        n //= 2
        body = write(n)
        if len(body) <= limit:
            return body, n
    return write(0), 0


_unexpected_seen: dict[str, int] = {}


def _unexpected(e: BaseException) -> Outcome:
    """An error nobody planned for: one line in the log per kind (at most 5 times), a short answer to the client."""
    kind = type(e).__name__
    _unexpected_seen[kind] = _unexpected_seen.get(kind, 0) + 1
    if _unexpected_seen[kind] <= 5:
        print(f"mdkg worker: unexpected {kind}: {str(e)[:300]}", file=sys.stderr, flush=True)
    return Outcome.error(500, f"the query failed: {kind}")


def short_syntax_error(message: str, query: str = "") -> str:
    """Oxigraph's parser lists every token it expected; a person needs the position and the first few."""
    first = message.strip().splitlines()[0] if message.strip() else "invalid query"
    where = re.match(r"error at (\d+):(\d+)", first)
    if "Prefix not found" in first and where:
        line, column = int(where.group(1)), int(where.group(2))
        text = query.splitlines()[line - 1][: column - 1] if line <= len(query.splitlines()) else ""
        prefix = re.search(r"([A-Za-z][\w.\-]*)?:[^\s:]*$", text)
        name = (prefix.group(1) or "") if prefix else "?"
        return (f"error at {line}:{column}: the prefix {name}: is not declared; "
                f"add PREFIX {name}: <...> before the query")
    head, sep, expected = first.partition("expected one of ")
    if sep:
        options = [o.strip() for o in expected.split(", ")]
        if len(options) > 6:
            first = f"{head}expected one of {', '.join(options[:6])}, ... ({len(options)} possibilities)"
    return first[:500]


def _not_acceptable(what: str, kind: str) -> Outcome:
    return Outcome.error(
        406,
        f"cannot answer {what} in the requested format; "
        f"available: {F.acceptable_list([kind])} (or use format=)",
    )


def _worker_main(conn, spec: BackendSpec, timeout: float) -> None:  # pragma: no cover - runs in a child
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        isolation = sandbox.isolate_network() if spec.sandboxed else "none"
        backend = spec.open(timeout)
        sandbox.limit_address_space(spec.address_space_mb)
    except Exception as e:  # noqa: BLE001
        conn.send(("failed", f"{type(e).__name__}: {e}"))
        return
    conn.send(("ready", isolation))
    sandbox.run_on_big_stack(_serve, conn, backend, spec)


def _serve(conn, backend, spec: BackendSpec) -> None:  # pragma: no cover - runs in a child
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        conn.send(execute(backend, job, spec))


class WorkerDied(Exception):
    pass


class MemoryExceeded(Exception):
    pass


PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class _Channel(asyncio.Protocol):
    """The server's end of one worker's pipe: multiprocessing's framing (a 4-byte big-endian length, or -1 and an
    8-byte one, then a pickle), one answer awaited at a time, resolved as soon as its last byte arrives."""

    def __init__(self):
        self._buffer = bytearray()
        self._waiter: asyncio.Future | None = None
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self._transport = transport

    def send(self, payload: bytes) -> asyncio.Future:
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        if self._transport is None or self._transport.is_closing():
            waiter.set_exception(WorkerDied("the query worker stopped"))
            return waiter
        size = len(payload)
        header = struct.pack("!i", size) if size <= 0x7FFFFFFF else struct.pack("!iQ", -1, size)
        self._transport.write(header + payload)
        return waiter

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        if len(buffer) < 4:
            return
        (size,) = struct.unpack_from("!i", buffer)
        start = 4
        if size == -1:
            if len(buffer) < 12:
                return
            (size,) = struct.unpack_from("!Q", buffer, 4)
            start = 12
        if len(buffer) < start + size:
            return
        message = bytes(buffer[start : start + size])
        del buffer[: start + size]
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            try:
                waiter.set_result(pickle.loads(message))
            except Exception as e:  # noqa: BLE001 - an answer that cannot be read is a broken worker
                waiter.set_exception(WorkerDied(f"the query worker sent an unreadable answer: {e}"))

    def connection_lost(self, exc) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(WorkerDied("the query worker stopped"))

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


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
        self.isolation = ""

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
            raise WorkerDied(f"a query worker could not start: {detail}")
        self.isolation = detail

    async def attach(self) -> None:
        """Read and write the worker's pipe from the event loop (no thread hop, no task per query): a protocol on a
        duplicate of the pipe's socket, speaking multiprocessing's framing, which the worker's end keeps using."""
        sock = socket.socket(fileno=os.dup(self.conn.fileno()))
        _, self._channel = await asyncio.get_running_loop().create_connection(_Channel, sock=sock)

    def send(self, job: Job | Call) -> asyncio.Future:
        """Send `job`; the future is its Outcome (WorkerDied if the pipe closes first)."""
        return self._channel.send(pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL))

    def detach(self) -> None:
        """Close the event loop's end of the pipe (in the loop's thread): a pending answer fails at once."""
        channel = getattr(self, "_channel", None)
        if channel is not None:
            channel.close()

    def rss_bytes(self) -> int:
        try:
            with open(f"/proc/{self.pid}/statm", "rb") as f:
                return int(f.read().split()[1]) * PAGE_SIZE
        except (OSError, ValueError, IndexError):
            return 0

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


class IdleWorkers:
    """Idle worker processes. Work in a slow slot (`low`) gets one only while more than `keep` are idle, and after
    every other waiter: when kills make respawns lag, the processes left go to short queries first. The worker
    that finished last goes out first: its caches are warm (a third of a lookup's CPU in the worker)."""

    def __init__(self, keep: int):
        self.keep = keep
        self.free: deque[Worker] = deque()
        self.waiting: dict[bool, deque[asyncio.Future]] = {False: deque(), True: deque()}

    def qsize(self) -> int:
        return len(self.free)

    def put_nowait(self, worker: Worker) -> None:
        self.free.append(worker)
        self._hand_out()

    def _hand_out(self) -> None:
        for low in (False, True):
            queue = self.waiting[low]
            while self.free and queue:
                if low and len(self.free) <= self.keep:
                    return
                fut = queue.popleft()
                if not fut.done():
                    fut.set_result(self.free.pop())

    def get_nowait(self, low: bool = False) -> Worker | None:
        """An idle worker if this request may have one now, without waiting (None: it must wait)."""
        if self.free and not self.waiting[False] and (not low or (len(self.free) > self.keep
                                                                  and not self.waiting[True])):
            return self.free.pop()
        return None

    async def get(self, low: bool = False) -> Worker:
        worker = self.get_nowait(low)
        if worker is not None:
            return worker
        fut = asyncio.get_running_loop().create_future()
        self.waiting[low].append(fut)
        try:
            return await fut
        except asyncio.CancelledError:  # a timeout: if a worker was handed over meanwhile, give it back
            if fut.done() and not fut.cancelled():
                self.free.append(fut.result())
                self._hand_out()
            raise


class Lane:
    """Slots for queries running at once, and a bounded queue of those waiting for one. Waiters marked `first`
    (clients known to send short queries) get a freed slot before the others."""

    def __init__(self, name: str, slots: int, max_waiting: int):
        self.name, self.slots, self.max_waiting = name, slots, max_waiting
        self.running = 0
        self._queues: dict[bool, deque[asyncio.Future]] = {True: deque(), False: deque()}

    @property
    def waiting(self) -> int:
        return sum(1 for q in self._queues.values() for f in q if not f.done())

    def has_room(self) -> bool:
        return self.running < self.slots

    async def acquire(self, timeout: float, first: bool = False) -> bool:
        if self.has_room() and not self.waiting:
            self.running += 1
            return True
        fut = asyncio.get_running_loop().create_future()
        self._queues[first].append(fut)
        try:
            await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            if fut.done() and not fut.cancelled():  # granted just as the time ran out: hand it on
                self.release()
            return False
        return True

    async def take(self) -> None:
        """A free slot, at once (the caller has checked `has_room()` and does not yield in between)."""
        self.running += 1

    def release(self) -> None:
        self.running -= 1
        self._grant()

    def _grant(self) -> None:
        for first in (True, False):
            queue = self._queues[first]
            while queue and self.has_room():
                fut = queue.popleft()
                if not fut.done():
                    self.running += 1
                    fut.set_result(None)


class WorkerPool:
    """Worker processes in two lanes (see the module docstring); `run()` gives a job to one, with a deadline."""

    def __init__(
        self,
        spec: BackendSpec,
        size: int = 4,
        spares: int | None = None,
        start_timeout: float = 120.0,
        remote_timeout: float = HARD_MAX_TIMEOUT,
        short_seconds: float = 0.25,
        max_long: int | None = None,
        max_waiting: int | None = None,
        long_per_client: int = 1,
        memory_limit_mb: int | None = None,
        preload: tuple[str, ...] = (),
    ):
        """`preload`: modules the calls run in a worker need, imported once in the forkserver so that a fresh
        worker answers its first call without spending part of the deadline on imports."""
        self.spec = spec
        self.size = max(2, size)
        self.spares = self.size if spares is None else spares  # kills come in bursts under attack
        self.short_seconds = short_seconds
        reserve = max(1, self.size // 4)
        slow = self.size - reserve if max_long is None else max(1, min(max_long, self.size - reserve))
        # every running query holds one of the `size` slots; a long one, a known heavy one and any query of a client
        # whose queries run long also one of the `slow` slots, so the reserved ones are always there for the rest
        self.fast = Lane("fast", self.size, 8 * self.size if max_waiting is None else max_waiting)
        self.slow = Lane("slow", slow, 2 * slow)
        self.long_per_client = long_per_client
        # slots that no single client, and no client whose queries run long, can take: always there for others
        self.reserve = reserve
        self._shares: dict[str, asyncio.Semaphore] = {}  # per client: all its work, at most size - reserve slots
        self._turns: dict[str, asyncio.Semaphore] = {}  # per client whose queries ran long: one at a time
        self._flagged: dict[str, deque] = {}  # client: when its last queries ran long
        self._short: dict[str, float] = {}  # client: when one of its queries last ended short
        self._light: OrderedDict[str, None] = OrderedDict()  # fingerprints of queries that ended short
        self.memory_limit = (spec.memory_limit_mb if memory_limit_mb is None else memory_limit_mb) * 1024 * 1024
        self.start_timeout = start_timeout
        self.remote_timeout = remote_timeout
        # forkserver: a replacement forks from a process that has imported this module already, in milliseconds,
        # where spawning a fresh interpreter costs a third of a CPU second (under attack, kills come in bursts)
        self._ctx = mp.get_context("forkserver")
        self._ctx.set_forkserver_preload(["api.workers", *preload])
        self._executor = ThreadPoolExecutor(
            max_workers=2 * (self.size + self.spares) + 2, thread_name_prefix="mdkg-pool"
        )
        self._idle = IdleWorkers(keep=self.reserve)
        self._workers: set[Worker] = set()
        self._tasks: set[asyncio.Task] = set()
        self._heavy: OrderedDict[str, float] = OrderedDict()  # fingerprints of queries that went long: until
        self._strikes: defaultdict[str, deque] = defaultdict(deque)  # client: times its queries went long
        self._client_long: defaultdict[str, int] = defaultdict(int)
        self.isolation = ""
        self.killed = self.respawned = self.served = self.refused = self.moved = self.memory_kills = 0
        self.closed = False

    # ------------------------------------------------------------------ processes
    def _spawn(self) -> Worker:
        w = Worker(self._ctx, self.spec, self.remote_timeout)
        w.wait_ready(self.start_timeout)
        return w

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        workers = await asyncio.gather(
            *(loop.run_in_executor(self._executor, self._spawn) for _ in range(self.size + self.spares))
        )
        for w in workers:
            await w.attach()
            self._workers.add(w)
            self._idle.put_nowait(w)
        self.isolation = workers[0].isolation

    async def _replace(self) -> None:
        """Start a replacement, trying until it works: the pool never shrinks for good."""
        loop = asyncio.get_running_loop()
        delay = 0.5
        while not self.closed:
            try:
                w = await loop.run_in_executor(self._executor, self._spawn)
            except WorkerDied as e:
                log.error("%s; retrying in %.1f s", e, delay)
                await asyncio.sleep(delay)
                delay = min(30.0, delay * 2)
                continue
            if self.closed:
                w.stop()
                return
            await w.attach()
            self.respawned += 1
            self._workers.add(w)
            self._idle.put_nowait(w)
            return

    def _retire(self, worker: Worker) -> None:
        self._workers.discard(worker)
        with contextlib.suppress(Exception):
            worker.process.kill()  # at once: the query stops now; reaping happens in a thread
        worker.detach()
        loop = asyncio.get_running_loop()
        loop.run_in_executor(self._executor, worker.kill)
        self.killed += 1
        if not self.closed:
            task = loop.create_task(self._replace())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ what is heavy
    def _known_heavy(self, key: str, client: str | None, now: float) -> bool:
        until = self._heavy.get(key)
        if until is not None and until > now:
            return True
        if client:
            strikes = self._strikes.get(client)
            while strikes and strikes[0] < now - STRIKE_WINDOW:
                strikes.popleft()
            if strikes is not None and len(strikes) >= STRIKES:
                return True
        return False

    @staticmethod
    def _semaphore(table: dict, client: str, size: int) -> asyncio.Semaphore:
        sem = table.get(client)
        if sem is None:
            if len(table) > 10_000:  # forget idle clients
                for c in [c for c, t in table.items() if not t.locked() and t._value == size]:
                    del table[c]
            sem = table[client] = asyncio.Semaphore(size)
        return sem

    def _note_long(self, client: str, now: float) -> None:
        times = self._flagged.setdefault(client, deque(maxlen=SUSPECT_AFTER))
        times.append(now)
        if len(self._flagged) > 10_000:
            self._flagged = {c: t for c, t in self._flagged.items() if t and t[-1] > now - FLAG_SECONDS}

    def _suspect(self, client: str, now: float) -> bool:
        """Whether this client's queries ran long SUSPECT_AFTER times in the last FLAG_SECONDS. Its queries then
        take turns and need a slow slot, so that all such work together leaves the reserved slots to others."""
        times = self._flagged.get(client)
        return bool(times) and len(times) >= SUSPECT_AFTER and times[0] > now - FLAG_SECONDS

    def _trusted(self, client: str, now: float) -> bool:
        """A client whose queries ended short in the last minutes and none ran long lately: its queries wait
        ahead of the others' for a slot."""
        return now - self._short.get(client, -1e9) < TRUST_SECONDS and not self._suspect(client, now)

    def _went_long(self, key: str, now: float) -> None:
        self._heavy[key] = now + 600
        self._heavy.move_to_end(key)
        while len(self._heavy) > 2000:
            self._heavy.popitem(last=False)

    def _strike(self, client: str | None, now: float) -> None:
        """A client's query had to be killed for running long: many of them (new texts each time, so that none
        is known to be heavy) cost a respawn each; past STRIKES in STRIKE_WINDOW all its queries go slow."""
        if client:
            if len(self._strikes) > 10_000:
                self._strikes.clear()
            self._strikes[client].append(now)

    # ------------------------------------------------------------------ running
    async def run(
        self,
        job: Job | Call,
        deadline: float,
        internal: bool = False,
        heavy: bool = False,
        client: str | None = None,
    ) -> Outcome:
        """The outcome of `job`, or 503 if it did not finish within `deadline` seconds (waiting included).
        `internal` work (the server's own pages and REST calls) is never stopped for being long, only at the
        deadline; `heavy` work waits for a slow slot from the start; `client` (an address) is what the per-client
        limits count (not for internal work)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        key = job.fingerprint()
        heavy = heavy or self._known_heavy(key, client, started)
        lane = self.slow if heavy else self.fast
        per_client = bool(client) and not internal  # limits on long queries: not for the server's own work
        if heavy and per_client and self._client_long.get(client, 0) >= self.long_per_client:
            self.refused += 1
            return _busy(503, "query refused: you already have a long-running query on this endpoint; wait for "
                         "it to finish, or narrow this one down", deadline)
        if lane.waiting >= lane.max_waiting:
            self.refused += 1
            if lane is self.slow:
                return _busy(503, "the server is busy with long-running queries; retry later, or narrow the "
                             "query down (LIMIT, more specific patterns)", deadline)
            return _busy(429, f"too many queries are waiting ({lane.waiting}); retry shortly", deadline)

        def left() -> float:
            return max(0.01, deadline - (loop.time() - started))

        held: list = []  # what this request holds, released in reverse order whatever happens
        worker = None
        slow = False
        try:
            if heavy and per_client:
                self._client_long[client] += 1  # counted while waiting too: one long query per client
                held.append(("long", client))
            if client:  # one client never holds the reserved slots, whatever it asks (pages and REST included)
                share = self._semaphore(self._shares, client, self.size - self.reserve)
                if not await _acquire(share, left()):
                    return _busy(503, f"your other requests kept this server busy for the whole {deadline:g} s "
                                 "deadline; send fewer at once", deadline)
                held.append(("sem", share))
            # a text that ran short before runs short again (the dataset does not change): no need to take turns
            suspect = per_client and key not in self._light and self._suspect(client, started)
            if suspect:  # this client's queries run long: one at a time
                turn = self._semaphore(self._turns, client, 1)
                if not await _acquire(turn, left()):
                    return _busy(503, f"your earlier queries kept the server busy for the whole {deadline:g} s "
                                 "deadline; try again later", deadline)
                held.append(("sem", turn))
            if heavy or suspect:  # from the start in a slow slot: all such work together leaves the reserve free
                if (suspect and self.slow.waiting >= self.slow.max_waiting) or not await self.slow.acquire(left()):
                    return _busy(503, "the server is busy with long-running queries; retry later, or narrow the "
                                 "query down", deadline)
                held.append(("slot", self.slow))
                slow = True
            trusted = bool(client) and not slow and self._trusted(client, loop.time())
            if not await self.fast.acquire(left(), first=trusted):
                return _busy(503, f"the server is busy: no query worker became free within the {deadline:g} s "
                             "deadline; try again later", deadline)
            held.append(("slot", self.fast))
            try:
                worker = self._idle.get_nowait(low=slow) or await asyncio.wait_for(self._idle.get(low=slow), left())
            except TimeoutError:
                return _busy(503, "the server is busy: no query worker is ready; try again later", deadline)
            if heavy:
                _renice(worker, 15)
            fut = worker.send(job)
            fut.add_done_callback(_consume)
            sent = loop.time()
            if not heavy:
                done, _ = await asyncio.wait({fut}, timeout=min(self.short_seconds, left()))
                if not done:
                    now = loop.time()
                    self._went_long(key, now)
                    if per_client:
                        self._note_long(client, now)

                    def room() -> bool:
                        may = not per_client or self._client_long.get(client, 0) < self.long_per_client
                        return may and (slow or self.slow.has_room())

                    if not room() and not internal:
                        # a grace period: a short query slowed down by a busy CPU finishes in it
                        done, _ = await asyncio.wait({fut}, timeout=min(self.short_seconds, left()))
                    if done:
                        pass
                    elif room():
                        if not slow:
                            await self.slow.take()  # now a long query
                            held.append(("slot", self.slow))
                            slow = True
                        if per_client:
                            self._client_long[client] += 1
                            held.append(("long", client))
                        self.moved += 1
                        _renice(worker, 15)
                    elif not internal:
                        self._strike(client, now)
                        self._retire(worker)
                        worker = None
                        self.refused += 1
                        return _busy(503, "query stopped: it runs long and the workers set aside for long "
                                     "queries are busy; retry later, or narrow the query down", deadline)
            outcome = await self._watch(fut, worker, left())
            if loop.time() - sent < self.short_seconds:  # it ran short, whatever slot it had
                self._light[key] = None
                self._light.move_to_end(key)
                if len(self._light) > 10_000:
                    self._light.popitem(last=False)
            if client and not slow:
                if len(self._short) > 10_000:
                    self._short.clear()
                self._short[client] = loop.time()
            outcome.headers["Server-Timing"] = (
                f"queue;dur={(sent - started) * 1000:.1f}, run;dur={(loop.time() - sent) * 1000:.1f}"
            )
        except TimeoutError:
            self._retire(worker)
            worker = None
            return Outcome.error(
                503,
                f"query stopped: it did not finish within the {deadline:g} s deadline. "
                "Narrow it down (LIMIT, more specific patterns) or ask for a longer "
                "timeout= (up to the server's maximum).",
            )
        except MemoryExceeded:
            self._retire(worker)
            worker = None
            self.memory_kills += 1
            return _busy(503, f"query used too much memory (more than {self.memory_limit // 2**20} MiB); narrow "
                         "it down (LIMIT, fewer variables, no DISTINCT/ORDER BY over large results)", deadline)
        except WorkerDied:
            self._retire(worker)
            worker = None
            return _busy(503, "the query worker stopped while running this query (a crash or out of memory); "
                         "it has been replaced. Retry, or simplify the query", deadline)
        except asyncio.CancelledError:  # the client went away: the worker may still be busy, replace it
            if worker is not None:
                self._retire(worker)
                worker = None
            raise
        finally:
            for what, value in reversed(held):
                if what == "long":
                    self._client_long[value] -= 1
                    if not self._client_long[value]:
                        del self._client_long[value]
                else:
                    value.release()
            if worker is not None:
                if slow and not _renice(worker, 0):
                    self._retire(worker)  # cannot restore its priority: replace it rather than keep a slow worker
                else:
                    self._idle.put_nowait(worker)
        self.served += 1
        return outcome

    async def _watch(self, fut, worker: Worker, timeout: float) -> Outcome:
        """Wait for `fut`; every 50 ms past the first, check the worker's memory."""
        loop = asyncio.get_running_loop()
        if fut.done():  # a short query is over by now: no timer to arm
            return fut.result()
        end = loop.time() + timeout
        step = 0.05
        while True:
            left = end - loop.time()
            if left <= 0:
                raise TimeoutError
            done, _ = await asyncio.wait({fut}, timeout=min(step, left))
            if done:
                return fut.result()
            if self.memory_limit and worker.rss_bytes() > self.memory_limit:
                raise MemoryExceeded

    def status(self) -> dict:
        return {
            "workers": len(self._workers),  # worker processes alive now
            "processes": self.size + self.spares,  # ... and how many there should be
            "idle": self._idle.qsize(),
            "spares": self.spares,
            "fast_lane": {"slots": self.fast.slots, "running": self.fast.running, "waiting": self.fast.waiting},
            "slow_lane": {"slots": self.slow.slots, "running": self.slow.running, "waiting": self.slow.waiting},
            "reserved_slots": self.reserve,
            "network_isolation": self.isolation,
            "memory_limit_mb": self.memory_limit // 2**20,
            "replaced": self.killed,
            "respawned": self.respawned,
            "moved_to_slow_lane": self.moved,
            "memory_kills": self.memory_kills,
            "served": self.served,
            "refused": self.refused,
            # kept for older clients of /health
            "long_running": self.slow.running,
            "waiting": self.fast.waiting + self.slow.waiting,
        }

    async def close(self) -> None:
        self.closed = True
        for t in list(self._tasks):
            t.cancel()
        loop = asyncio.get_running_loop()
        workers = list(self._workers)
        self._workers.clear()
        for w in workers:
            w.detach()
        await asyncio.gather(*(loop.run_in_executor(self._executor, w.stop) for w in workers))
        self._executor.shutdown(wait=False, cancel_futures=True)


async def _acquire(sem: asyncio.Semaphore, timeout: float) -> bool:
    if not sem.locked():  # free: taken at once, without the task and timer of wait_for
        return await sem.acquire()
    try:
        await asyncio.wait_for(sem.acquire(), timeout)
    except TimeoutError:
        return False
    return True


def _consume(fut) -> None:
    """Retrieve a finished future's exception (a worker killed at its deadline dies after nobody waits for it)."""
    if not fut.cancelled():
        fut.exception()


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


def default_memory_limit_mb(processes: int) -> int:
    """A quarter of the machine's memory shared by the worker processes, between 512 MiB and 4 GiB each."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 1024
    return int(max(512, min(4096, total / 4 / max(1, processes) / 2**20)))
