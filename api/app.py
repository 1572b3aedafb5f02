"""The SPARQL facade as an ASGI app: `create_app(ServerConfig(...))` (api/config.py; its `settings` hold the base
IRI and where the served build's queries and shapes are), where the layers meet.

Embedded mode loads a dataset file into an on-disk Oxigraph store (or uses one `mdkg serve` has loaded) and
queries it from worker processes; remote mode puts the same facade in front of another SPARQL 1.1 server.
Routers: api.sparql (the protocol, the query page), api.routers.service (VoID, dumps, health),
api.routers.linkeddata (dereferencing, entity pages, ontology, shapes), api.routers.pages (web interface),
api.routers.rest and api.routers.figures (REST, /api), api.openapi (the REST schema and its page). They share a
typed state (api.state), one error mapping (api.errors), one renderer (api.render) and one store interface
(api.store); the work is done in graph/. The protocol's GET, HEAD and POST on /sparql reach its endpoint
directly (`Facade`), under the same guards (`guards`) as every other route."""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware

from api import errors, openapi, sparql
from api import store as S
from api.config import ServerConfig
from api.inline import Inline
from api.render import STATIC, UI, compile_templates
from api.routers import figures, linkeddata, pages, rest, service
from api.security import SecurityHeaders
from api.state import AppState
from api.workers import BackendSpec, WorkerPool, default_memory_limit_mb
from graph import entities as E
from graph.store import load_dataset

__all__ = ["ServerConfig", "create_app"]

log = logging.getLogger("mdkg.api")

# Computed when the server starts, with a generous deadline: the explorer's first view and every entity page's ego
# network need it, and on a busy machine it may take longer than a query's deadline.
WARM_VIEWS = (("relations", None, None, "degree"),)
WARM_ONCE = (E.stats,)  # what the home page shows (api.store.cached): its first visitor no longer waits for it
WARM_DEADLINE = 120.0


class RequestSizeLimit:
    """Refuses request bodies and query strings larger than `limit` bytes with 413/414, before any work."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if len(scope.get("query_string", b"")) > self.limit:
            return await _plain(
                send,
                414,
                f"request URI too long: the query string exceeds {self.limit} bytes; send long queries with POST",
            )
        headers = scope.get("headers", [])
        length = next((value for name, value in headers if name == b"content-length"), None)
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await _plain(send, 413, f"request too large: the body exceeds {self.limit} bytes")
        if not any(name == b"transfer-encoding" for name, _ in headers):
            # the body is its Content-Length (checked) or none (a GET): the parser reads no more, nothing to count
            return await self.app(scope, receive, send)
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise StarletteHTTPException(413, f"request too large: the body exceeds {self.limit} bytes")
            return message

        await self.app(scope, limited_receive, send)


class HeadAsGet:
    """HEAD is GET without the body (RFC 9110 9.3.2), on every route: the app answers GET, the body is dropped."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def headless_send(message):
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app(dict(scope, method="GET"), receive, headless_send)


async def _plain(send, status: int, message: str) -> None:
    body = (message + "\n").encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Facade(FastAPI):
    """The app, with the SPARQL protocol's GET, HEAD and POST on /sparql served straight by its endpoint under the
    same guards as every route, past FastAPI's and Starlette's routing, exception and telemetry layers: a lookup's
    cost is mostly the facade's, and those layers took a fifth of the server's CPU per request
    (bench/sparql/README.md). The route stays registered for everything else (OPTIONS, other methods, in-process
    clients that call the framework app)."""

    sparql_endpoint = None  # the guarded endpoint, set by create_app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] in sparql.PATHS and scope["method"] in sparql.METHODS:
            scope["app"] = self
            return await self.sparql_endpoint(scope, receive, send)
        await super().__call__(scope, receive, send)


def guards(config: ServerConfig) -> list[tuple[type, dict]]:
    """The middleware every response passes, innermost first."""
    return [
        (RequestSizeLimit, {"limit": config.max_request_bytes}),
        (
            CORSMiddleware,
            {
                "allow_origins": list(config.cors_origins),
                "allow_credentials": False,
                "allow_methods": ["GET", "HEAD", "POST", "OPTIONS"],
                "allow_headers": ["*"],
                "expose_headers": ["MDKG-Result-Truncated", "Warning", "Content-Type"],
                "max_age": 3600,
            },
        ),
        (HeadAsGet, {}),
        (SecurityHeaders, {}),  # outermost: 413/414 and CORS answers get the headers too
    ]


def create_app(config: ServerConfig) -> FastAPI:
    if not config.remote and not (config.data or config.store_dir):
        raise ValueError("ServerConfig needs a dataset file (data), a loaded store (store_dir) or a remote URL")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        owned: Path | None = None
        store_dir = config.store_dir
        if not config.remote and store_dir is None:
            owned = Path(tempfile.mkdtemp(prefix="mdkg-store-"))
            store_dir = owned / "store"
            count = await asyncio.to_thread(load_dataset, config.data, store_dir)
            log.info("loaded %d quads from %s", count, config.data)
        size = max(2, config.workers)
        spares = size if config.spare_workers is None else config.spare_workers
        memory = config.worker_memory_mb
        spec = BackendSpec(
            store_dir=None if config.remote else store_dir,
            remote=config.remote,
            remote_headers=config.remote_headers,
            service_allowlist=config.service_allowlist,
            isolate_network=not config.unsafe_worker_network,
            memory_limit_mb=default_memory_limit_mb(size + spares) if memory is None else memory,
        )
        pool = WorkerPool(spec, size=size, spares=spares, remote_timeout=config.deadline + 5,
                          preload=S.WORKER_MODULES)
        try:
            await pool.start()
        except BaseException:
            await pool.close()
            for d in (owned, config.owned_dir):
                if d:
                    shutil.rmtree(d, ignore_errors=True)
            raise
        state.pool = app.state.pool = pool  # app.state.pool, .inline, .config: what api.sparql reads
        state.inline = app.state.inline = await asyncio.to_thread(Inline.open, spec)
        state.store_dir = store_dir
        try:
            await warm_up(app)
        except Exception as e:  # noqa: BLE001 - the pages then compute it on demand, under the query deadline
            log.warning("could not compute the network views ahead: %s", e)
        state.work_dir = Path(tempfile.mkdtemp(prefix="mdkg-dumps-"))
        try:
            yield
        finally:
            await pool.close()
            shutil.rmtree(state.work_dir, ignore_errors=True)
            # here, not after uvicorn returns: on SIGTERM uvicorn re-raises the signal once the app has stopped
            for d in (owned, config.owned_dir):
                if d:
                    shutil.rmtree(d, ignore_errors=True)

    app = Facade(title=config.title, lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    state = app.state.mdkg = AppState(config, settings=config.settings)
    app.state.config = config
    app.state.inline = None  # set at start-up (a local store only)
    for router in (
        sparql.router,
        service.router,
        rest.router,
        figures.router,
        figures.pages,
        openapi.router,
        linkeddata.router,
        pages.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/ui", StaticFiles(directory=UI), name="ui")
    errors.install(app)

    endpoint = sparql.Endpoint()
    for middleware, options in guards(config):
        app.add_middleware(middleware, **options)
        endpoint = middleware(endpoint, **options)
    app.sparql_endpoint = endpoint
    return app


async def warm_up(app: FastAPI) -> None:
    request = Request({"type": "http", "app": app, "method": "GET", "path": "/", "headers": [], "query_string": b""})
    for view in WARM_VIEWS:
        await S.network_view(request, *view, deadline=WARM_DEADLINE)
    for fn in WARM_ONCE:
        await S.cached(request, fn)
    compile_templates()
