"""The SPARQL facade as an ASGI app: `create_app(ServerConfig(...))`.

Embedded mode loads a dataset file into an on-disk Oxigraph store (or uses one `mdkg serve` has loaded) and
queries it from worker processes; remote mode puts the same facade in front of another SPARQL 1.1 server.
Routers: api.sparql (the protocol, the query page), api.service (service description, VoID, dumps)."""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect

from api.security import SecurityHeaders
from api.workers import HARD_MAX_TIMEOUT, BackendSpec, WorkerPool, default_memory_limit_mb
from graph.store import load_dataset

log = logging.getLogger("mdkg.api")

STATIC = Path(__file__).resolve().parent / "static"


@dataclass(frozen=True)
class ServerConfig:
    data: Path | None = None  # dataset file (embedded mode)
    remote: str | None = None  # SPARQL 1.1 query endpoint URL (remote mode)
    store_dir: Path | None = None  # a store already loaded from `data` (mdkg serve loads it before starting)
    workers: int = 4
    timeout: float = 30.0  # seconds per query; capped at HARD_MAX_TIMEOUT
    max_rows: int = 100_000  # rows (SELECT) or triples (CONSTRUCT/DESCRIBE) per answer
    max_answer_bytes: int = 64 * 2**20  # an answer larger than this is cut to the rows that fit
    max_request_bytes: int = 1_000_000  # body of a POST, query string of a GET
    service_allowlist: tuple[str, ...] = ()  # SERVICE endpoints a query may call (none by default)
    worker_memory_mb: int | None = None  # memory of a query worker past which it is killed (None: sized for RAM)
    spare_workers: int | None = None  # started ahead, so that a killed worker costs no one a respawn wait
    unsafe_worker_network: bool = False  # let query workers reach the network (not for a public endpoint)
    owned_dir: Path | None = None  # a temporary folder (the loaded store) the server deletes when it stops
    cors_origins: tuple[str, ...] = ("*",)
    remote_headers: tuple[tuple[str, str], ...] = ()
    title: str = "mdkg SPARQL endpoint"
    extra: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def deadline(self) -> float:
        return max(0.1, min(self.timeout, HARD_MAX_TIMEOUT))


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
                f"request URI too long: the query string exceeds {self.limit} bytes; "
                "send long queries with POST",
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
                    raise StarletteHTTPException(
                        413, f"request too large: the body exceeds {self.limit} bytes"
                    )
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


def create_app(config: ServerConfig) -> FastAPI:
    if not config.remote and not (config.data or config.store_dir):
        raise ValueError(
            "ServerConfig needs a dataset file (data), a loaded store (store_dir) or a remote URL"
        )

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
        pool = WorkerPool(spec, size=size, spares=spares, remote_timeout=config.deadline + 5)
        try:
            await pool.start()
        except BaseException:
            await pool.close()
            for d in (owned, config.owned_dir):
                if d:
                    shutil.rmtree(d, ignore_errors=True)
            raise
        app.state.pool = pool
        app.state.store_dir = store_dir
        from api.rest import warm_up

        try:
            await warm_up(app)
        except Exception as e:  # noqa: BLE001 - the pages then compute it on demand, under the query deadline
            log.warning("could not compute the network views ahead: %s", e)
        app.state.work_dir = Path(tempfile.mkdtemp(prefix="mdkg-dumps-"))
        try:
            yield
        finally:
            await pool.close()
            shutil.rmtree(app.state.work_dir, ignore_errors=True)
            # here, not after uvicorn returns: on SIGTERM uvicorn re-raises the signal once the app has stopped
            for d in (owned, config.owned_dir):
                if d:
                    shutil.rmtree(d, ignore_errors=True)

    app = FastAPI(title=config.title, lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.config = config
    app.state.cache = {}

    from api import service, sparql

    app.include_router(sparql.router)
    app.include_router(service.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    from api import figures, linkeddata, pages, rest  # linked-data pages, web interface, REST (/api)

    app.include_router(rest.router)
    app.include_router(figures.router)
    app.include_router(figures.pages)
    app.include_router(linkeddata.router)
    app.include_router(pages.router)
    app.mount("/ui", StaticFiles(directory=Path(__file__).resolve().parent / "ui"), name="ui")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return PlainTextResponse(f"{exc.detail}\n", status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):  # no trace ever reaches a client
        if isinstance(exc, ClientDisconnect):  # the client left mid-request: nothing to answer, nothing to log
            return PlainTextResponse("client disconnected\n", status_code=400)
        log.error("internal error on %s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
        return PlainTextResponse("internal server error\n", status_code=500)

    app.add_middleware(RequestSizeLimit, limit=config.max_request_bytes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(config.cors_origins),
        allow_credentials=False,
        allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=["MDKG-Result-Truncated", "Warning", "Content-Type"],
        max_age=3600,
    )
    app.add_middleware(HeadAsGet)
    app.add_middleware(SecurityHeaders)  # outermost: 413/414 and CORS answers get the headers too
    return app
