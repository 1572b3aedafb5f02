"""`/sparql`: the SPARQL 1.1 Protocol (query operation only) and the browser query page.

GET ?query=..., POST application/x-www-form-urlencoded (query=...), POST application/sparql-query (the query
as the body); `default-graph-uri` / `named-graph-uri`; `format=` overrides Accept; `timeout=` may shorten the
deadline. Without a query: the query page for browsers, else the service description. Updates: 403."""

from __future__ import annotations

import logging
from functools import lru_cache
from urllib.parse import parse_qsl

import pyoxigraph as ox
from fastapi import APIRouter, Request, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import description
from api import formats as F
from api.errors import plain
from api.workers import READ_ONLY, Job, wait_seconds
from graph.store import Dataset

log = logging.getLogger("mdkg.api")
router = APIRouter()

PATHS = ("/sparql", "/sparql/")
METHODS = ("GET", "HEAD", "POST")
POST_TYPES = "application/x-www-form-urlencoded or application/sparql-query"
# `format=` overrides Accept (for browsers); `output=` and `results=` are what other servers and clients use.
FORMAT_PARAMS = ("format", "output", "results")


class ProtocolError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _media_type(header: str | None) -> tuple[str, dict[str, str]]:
    if not header:
        return "", {}
    parts = [p.strip() for p in header.split(";")]
    params = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        params[k.strip().lower()] = v.strip().strip('"').lower()
    return parts[0].lower(), params


def _utf8(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(400, f"{what} is not valid UTF-8 (SPARQL requests must be UTF-8)") from None


def _header(scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


async def _body(receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":  # nobody is left to answer; nothing worth a log line either
            raise ProtocolError(400, "the client closed the connection before its request body arrived")
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def read_params(scope, receive) -> list[tuple[str, str]]:
    """The protocol parameters of a request (URL, body of a form POST); a direct POST's body as `query`."""
    params = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
    if scope["method"] != "POST":
        return params
    mt, ctparams = _media_type(_header(scope, b"content-type"))
    charset = ctparams.get("charset")
    if mt == "application/sparql-update":
        raise ProtocolError(403, READ_ONLY)
    if mt not in ("application/x-www-form-urlencoded", "application/sparql-query"):
        what = f"Content-Type {mt!r}" if mt else "a POST without Content-Type"
        raise ProtocolError(415, f"unsupported {what}: a SPARQL query POST must be {POST_TYPES}")
    if charset and charset not in ("utf-8", "utf8"):
        raise ProtocolError(415, f"unsupported charset {charset!r}: SPARQL requests must be UTF-8")
    body = await _body(receive)
    if mt == "application/sparql-query":
        return params + [("query", _utf8(body, "the query"))]
    text = _utf8(body, "the form")
    try:
        form = parse_qsl(
            text, keep_blank_values=True, strict_parsing=bool(text), encoding="utf-8", errors="strict"
        )
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError(
            400, "the form body is not valid application/x-www-form-urlencoded UTF-8"
        ) from None
    return params + form


def _values(params: list[tuple[str, str]], name: str) -> list[str]:
    return [v for k, v in params if k == name]


def _single(params: list[tuple[str, str]], name: str) -> str | None:
    values = _values(params, name)
    if len(values) > 1:
        raise ProtocolError(400, f"more than one {name} parameter")
    return values[0] if values else None


class Endpoint:
    """The protocol as a plain ASGI app: an object, so that Starlette serves it as it is (a function would get a
    Request and have to return a Response). The facade's fixed cost per query is most of what a lookup costs, so
    the hot path builds nothing it does not send."""

    async def __call__(self, scope, receive, send) -> None:
        started = []

        async def sending(message):
            started.append(True)
            await send(message)

        try:
            await sparql(scope, receive, sending)
        except StarletteHTTPException as e:  # a chunked body past the size limit
            if not started:
                await plain(e.status_code, str(e.detail))(scope, receive, send)
        except Exception as e:  # noqa: BLE001 - no trace ever reaches a client
            log.error("internal error on %s %s: %s: %s", scope["method"], scope["path"], type(e).__name__, e)
            if not started:
                await plain(500, "internal server error")(scope, receive, send)


async def sparql(scope, receive, send) -> None:
    try:
        params = await read_params(scope, receive)
        if (
            _values(params, "update")
            or _values(params, "using-graph-uri")
            or _values(params, "using-named-graph-uri")
        ):
            raise ProtocolError(403, READ_ONLY)
        query = _single(params, "query")
        overrides = [v for k, v in params if k in FORMAT_PARAMS and v.strip()]
        timeout = _single(params, "timeout")
    except ProtocolError as e:
        return await plain(e.status, str(e))(scope, receive, send)
    accept = _header(scope, b"accept")
    if query is None:
        if scope["method"] == "POST":
            response = plain(
                400,
                "missing query parameter: POST a form with query=..., or the query itself as "
                "application/sparql-query",
            )
        else:
            response = await description.describe_service(Request(scope, receive), accept, overrides)
        return await response(scope, receive, send)
    if not query.strip():
        return await plain(400, "empty query")(scope, receive, send)
    # the worker reads the query (updates, SERVICE, size) and answers 406 with the formats of its own form
    results_format, boolean_format, graph_format = _formats(accept, tuple(overrides))
    app_state = scope["app"].state
    config = app_state.config
    job = Job(
        query=query,
        dataset=Dataset(
            tuple(_values(params, "default-graph-uri")), tuple(_values(params, "named-graph-uri"))
        ),
        results_format=results_format,
        boolean_format=boolean_format,
        graph_format=graph_format,
        max_rows=config.max_rows,
        max_bytes=config.max_answer_bytes,
        base_iri=endpoint_iri(scope),
    )  # relative IRIs resolve against the endpoint
    client = scope.get("client")
    inline = app_state.inline  # a lookup is answered here, without the hop to a worker (api/inline.py)
    outcome = inline.answer(job) if inline is not None else None
    if outcome is None:
        outcome = await app_state.pool.run(job, wait_seconds(timeout, config.deadline),
                                           client=client and client[0])
    if outcome.status >= 400:
        return await plain(outcome.status, outcome.body.decode("utf-8", "replace"), outcome.headers)(
            scope, receive, send
        )
    headers = [
        (b"content-type", outcome.media_type.encode("latin-1")),
        (b"content-length", b"%d" % len(outcome.body)),
        (b"vary", b"Accept"),
        *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in outcome.headers.items()),
    ]
    await send({"type": "http.response.start", "status": outcome.status, "headers": headers})
    await send({"type": "http.response.body", "body": outcome.body})


# a plain ASGI route: the protocol reads its own parameters, there is nothing for FastAPI or a Request to do
for path in PATHS:
    router.add_route(path, Endpoint(), methods=["GET", "POST"], include_in_schema=False)


@lru_cache(maxsize=512)
def _formats(accept: str | None, overrides: tuple[str, ...]) -> tuple[str | None, str | None, str | None]:
    """The format keys for SELECT, ASK and CONSTRUCT answers (None: not acceptable); clients repeat their headers."""
    found = (F.negotiate(accept, [kind], overrides) for kind in (F.RESULTS, F.BOOLEAN, F.GRAPH))
    return tuple(f.key if f else None for f in found)


@router.get("/query", include_in_schema=False)
async def query_page(request: Request) -> Response:
    return description.query_page(request)


def endpoint_iri(scope) -> str:
    """This endpoint's IRI as the client named it (Host header), if that is a valid IRI; else a neutral one."""
    return _endpoint_iri(
        scope.get("scheme", "http"),
        _header(scope, b"host"),
        tuple(scope.get("server") or ()),
        scope.get("app_root_path", scope.get("root_path", "")),
    )


@lru_cache(maxsize=256)
def _endpoint_iri(scheme: str, host: str | None, server: tuple, root_path: str) -> str:
    scope = {"type": "http", "scheme": scheme, "server": server or None, "root_path": root_path, "path": root_path,
             "query_string": b"", "headers": [(b"host", host.encode("latin-1"))] if host is not None else []}
    iri = str(Request(scope).base_url).rstrip("/") + "/sparql"
    try:
        ox.NamedNode(iri)
    except ValueError:
        return "http://localhost/sparql"
    return iri
