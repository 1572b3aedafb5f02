"""`/sparql`: the SPARQL 1.1 Protocol (query operation only) and the browser query page.

GET ?query=..., POST application/x-www-form-urlencoded (query=...), POST application/sparql-query (the query
as the body); `default-graph-uri` / `named-graph-uri`; `format=` overrides Accept; `timeout=` may shorten the
deadline. Without a query: the query page for browsers, else the service description. Updates: 403."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import parse_qsl

import pyoxigraph as ox
from fastapi import APIRouter, Request, Response
from starlette.requests import ClientDisconnect

from api import description
from api import formats as F
from api.errors import plain
from api.workers import READ_ONLY, Job, Outcome, wait_seconds
from graph.store import Dataset

router = APIRouter()

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


async def read_params(request: Request) -> list[tuple[str, str]]:
    """The protocol parameters of a request (URL, body of a form POST); a direct POST's body as `query`."""
    params = list(request.query_params.multi_items())
    if request.method != "POST":
        return params
    mt, ctparams = _media_type(request.headers.get("content-type"))
    charset = ctparams.get("charset")
    if mt == "application/sparql-update":
        raise ProtocolError(403, READ_ONLY)
    if mt not in ("application/x-www-form-urlencoded", "application/sparql-query"):
        what = f"Content-Type {mt!r}" if mt else "a POST without Content-Type"
        raise ProtocolError(415, f"unsupported {what}: a SPARQL query POST must be {POST_TYPES}")
    if charset and charset not in ("utf-8", "utf8"):
        raise ProtocolError(415, f"unsupported charset {charset!r}: SPARQL requests must be UTF-8")
    try:
        body = await request.body()
    except ClientDisconnect:  # nobody is left to answer; nothing worth a log line either
        raise ProtocolError(400, "the client closed the connection before its request body arrived") from None
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


async def sparql(request: Request) -> Response:
    try:
        params = await read_params(request)
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
        return plain(e.status, str(e))
    accept = request.headers.get("accept")
    if query is None:
        if request.method == "POST":
            return plain(
                400,
                "missing query parameter: POST a form with query=..., or the query itself as "
                "application/sparql-query",
            )
        return await description.describe_service(request, accept, overrides)
    if not query.strip():
        return plain(400, "empty query")
    # the worker reads the query (updates, SERVICE, size) and answers 406 with the formats of its own form
    results_format, boolean_format, graph_format = _formats(accept, tuple(overrides))
    config = request.app.state.config
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
        base_iri=endpoint_iri(request),
    )  # relative IRIs resolve against the endpoint
    client = request.client.host if request.client else None
    outcome = await request.app.state.pool.run(job, wait_seconds(timeout, config.deadline), client=client)
    return respond(outcome)


# a plain Starlette route: the protocol reads its own parameters, FastAPI's dependency injection has nothing to do
router.add_route("/sparql", sparql, methods=["GET", "POST"], include_in_schema=False)
router.add_route("/sparql/", sparql, methods=["GET", "POST"], include_in_schema=False)


@lru_cache(maxsize=512)
def _formats(accept: str | None, overrides: tuple[str, ...]) -> tuple[str | None, str | None, str | None]:
    """The format keys for SELECT, ASK and CONSTRUCT answers (None: not acceptable); clients repeat their headers."""
    found = (F.negotiate(accept, [kind], overrides) for kind in (F.RESULTS, F.BOOLEAN, F.GRAPH))
    return tuple(f.key if f else None for f in found)


def respond(outcome: Outcome) -> Response:
    headers = {"Vary": "Accept", **outcome.headers}
    if outcome.status >= 400:
        return plain(outcome.status, outcome.body.decode("utf-8", "replace"), outcome.headers)
    return Response(outcome.body, status_code=outcome.status, media_type=outcome.media_type, headers=headers)


@router.get("/query", include_in_schema=False)
async def query_page(request: Request) -> Response:
    return description.query_page(request)


def endpoint_iri(request: Request) -> str:
    """This endpoint's IRI as the client named it (Host header), if that is a valid IRI; else a neutral one."""
    return _endpoint_iri(str(request.base_url))


@lru_cache(maxsize=256)
def _endpoint_iri(base_url: str) -> str:
    iri = base_url.rstrip("/") + "/sparql"
    try:
        ox.NamedNode(iri)
    except ValueError:
        return "http://localhost/sparql"
    return iri
