"""Graph functions run inside a query worker, next to the store: `with_store(backend, target, args, kwargs)`
calls `target(store, *args, **kwargs)` there and sends back an `Answer` (pickled), so a page's many
queries cost one trip to the worker and no SPARQL-JSON on the way back. The server makes these as
`api.workers.Call`s (api/store.py).

`store` has the face graph/ code expects (`query(text)`, default graph = union of the graphs) over the backend
the worker opened for its queries (api.workers passes it to every call): no second handle on the store. Gap
warnings issued while the function runs are recorded here, in the worker that runs one call at a time, and returned
as data (`Answer.warnings`); the answers themselves carry them too (`GapReport.warnings`)."""

from __future__ import annotations

import importlib
import warnings
from dataclasses import dataclass, field
from typing import Any

from graph.query_check import InvalidRequest, QueryRefused, QuerySyntaxError
from graph.store import RemoteError, StoreError


@dataclass
class Answer:
    value: Any = None
    error: ValueError | None = None  # a bad argument (unknown area, not an IRI...): raised again by the server
    failure: tuple[int, str] | None = None  # the store failed (status, message): the server answers that
    warnings: list[str] = field(default_factory=list)


class BackendStore:
    """A worker's backend (graph.store.LocalBackend or RemoteBackend) as the store graph/ functions take."""

    def __init__(self, backend):
        self.backend = backend

    def query(self, query: str, use_default_graph_as_union: bool = True, **_):
        return self.backend.query(query)


_once: dict = {}


def once(fn, store, settings):
    """`fn(store, settings=settings)` computed once per worker process: for what does not change while the server
    runs (the instruments, the states' codes, the map), which many calls need."""
    # keyed by the worker's backend, which lives as long as the worker (a store wrapper is made per call)
    key = (fn.__module__, fn.__qualname__, id(getattr(store, "backend", store)))
    if key not in _once:
        _once[key] = fn(store, settings=settings)
    return _once[key]


def resolve(target: str):
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def with_store(backend, target: str, args: tuple, kwargs: dict) -> Answer:
    store = BackendStore(backend)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            answer = Answer(resolve(target)(store, *args, **kwargs))
        except ValueError as e:
            answer = Answer(error=e)
        except RemoteError as e:  # the remote store is down or refused
            answer = Answer(failure=(e.status, str(e)))
        except StoreError as e:
            answer = Answer(failure=(503, str(e)))
        except (QuerySyntaxError, InvalidRequest) as e:  # the input made a query that is no SPARQL (a bad IRI...)
            answer = Answer(failure=(400, f"cannot answer for this input: {str(e)[:300]}"))
        except (QueryRefused, RuntimeError) as e:  # a query of ours the store refuses
            answer = Answer(failure=(500, f"{target} failed: {type(e).__name__}: {str(e)[:300]}"))
    answer.warnings = [str(w.message) for w in caught]
    return answer
