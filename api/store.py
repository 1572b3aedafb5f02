"""The async store interface of the routers: every read of the graph is one trip to a query worker.

`call(request, fn, *args)` runs `fn(store, *args)` (a function of graph/) inside a worker as one
`api.workers.Call` (graph.in_worker.with_store), under `CALL_DEADLINES` query deadlines and the client's limits,
and returns its value (a function that takes `settings` gets the server's, from api.state): a page gathers all
its data in one graph function and pays one hop, not one per query. Answers are remembered (LRU): the dataset does not
change while the server runs. `cached` keeps one answer per server; `construct` runs a CONSTRUCT and returns
its triples in the format asked for."""

from __future__ import annotations

import asyncio
import inspect
from collections import OrderedDict

from fastapi import Request

from api.state import AppState, state_of
from api.workers import Call, Job, Outcome
from graph import network_views as NV
from graph.in_worker import Answer

MEMO_SIZE = 2048  # answers remembered per server
# A call does the work of several queries (an entity page: seven to eleven), each of which had the whole query
# deadline when they were sent one by one; it gets this many deadlines, so that a busy server answers a page
# slowly rather than not at all, and a runaway is still stopped.
CALL_DEADLINES = 3
# what the calls run in a worker: loaded into the worker processes before they start (a fresh worker, a spare
# replacing a killed one, then answers its first page without spending part of the deadline on imports)
WORKER_MODULES = ("graph.in_worker", "graph.entity_page", "graph.gap_answers", "graph.network_views")


class StoreUnavailable(Exception):
    """The worker did not answer: busy, past the deadline, the remote store down. `status` is the worker's."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None  # whose request this is (per-client limits)


def target_of(fn) -> str:
    return f"{fn.__module__}:{fn.__qualname__}"


async def run(state: AppState, job: Job | Call, client: str | None, deadline: float | None = None) -> Outcome:
    """One trip to a worker (the only place the routers' work meets the pool); StoreUnavailable unless 200."""
    outcome = await state.pool.run(job, deadline or state.config.deadline, internal=True, client=client)
    if outcome.status != 200:
        raise StoreUnavailable(outcome.status, outcome.body.decode("utf-8", "replace").strip())
    return outcome


async def call(request: Request, fn, *args, deadline: float | None = None, memo_size: int = MEMO_SIZE):
    """`fn(store, *args)` in a query worker; a ValueError it raises (a bad argument) is raised here again.
    Answers are remembered per function, the last `memo_size` of them."""
    state = state_of(request)
    memo = state.cache.setdefault(("memo", target_of(fn)), OrderedDict())
    key = (target_of(fn), repr(args))
    if key in memo:
        memo.move_to_end(key)
        return memo[key]
    kwargs = {"settings": state.settings} if "settings" in inspect.signature(fn).parameters else {}
    work = Call("graph.in_worker:with_store", (target_of(fn), args, kwargs))
    deadline = deadline or CALL_DEADLINES * state.config.deadline
    answer: Answer = (await run(state, work, _client(request), deadline)).value
    if answer.error is not None:
        raise answer.error
    if answer.failure is not None:
        raise StoreUnavailable(*answer.failure)
    memo[key] = answer.value
    while len(memo) > memo_size:
        memo.popitem(last=False)
    return answer.value


async def cached(request: Request, fn, *args):
    """`fn(store, *args)` once per server, even when many requests ask at the same time."""
    cache = state_of(request).cache
    key = ("once", target_of(fn), repr(args))
    if key not in cache:
        lock = cache.setdefault(("lock", *key), asyncio.Lock())
        async with lock:
            if key not in cache:
                cache[key] = await call(request, fn, *args)
    return cache[key]


async def construct(request: Request, query: str, graph_format: str) -> bytes:
    """The triples of a CONSTRUCT, written by the worker in `graph_format` (a key of api.formats)."""
    state = state_of(request)
    job = Job(query, graph_format=graph_format, max_rows=state.config.max_rows)
    return (await run(state, job, _client(request))).body


VIEWS_KEPT = 32  # network views are large: the last few are kept


async def network_view(
    request: Request, layer: str, kinds, relations, measure: str, deadline: float | None = None
) -> NV.NetworkView:
    """A layer of the stakeholder network with a measure, communities and a layout, computed in a worker."""
    kinds, relations = sorted(kinds) if kinds else None, sorted(relations) if relations else None
    return await call(request, NV.view, layer, kinds, relations, measure, deadline=deadline, memo_size=VIEWS_KEPT)
