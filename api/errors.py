"""The one mapping from what can go wrong to what the client gets, registered once (`install(app)`) as the app's
exception handlers, so routers just raise:

- `StoreUnavailable` (the query worker did not answer): 502/503/504 as the worker said (a remote store down, a
  deadline, a busy pool), 503 for too many waiting (429), another 4xx as said (the input made a query that is
  no SPARQL), 500 for another failure on our side;
- the `ValueError`s of graph/ that name a bad parameter: an unknown instrument or a path that is no IRI of ours
  404, an unknown region 422 (each message lists what is known);
- any other HTTP error: its status, as plain text; anything unplanned: 500, no trace.

Each answer has the shape of the route that failed: an HTML error page for a page (routers that render HTML
mark the request with `html_errors`), problem+json (RFC 9457, api.problems) for the REST API and RDF."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, Response
from fastapi.responses import PlainTextResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from api.problems import problem
from api.render import error_page
from api.store import StoreUnavailable
from graph.entities import BadIri
from graph.gaps import UnknownArea, UnknownInstrument

log = logging.getLogger("mdkg.api")


def store_status(status: int) -> int:
    if status in (502, 503, 504) or 400 <= status < 500 and status != 429:
        return status
    return 503 if status == 429 else 500


def html_errors(request: Request) -> None:
    """A dependency of the routers that answer HTML: their errors are pages too."""
    request.state.html = True


def failure(request: Request, status: int, message: str) -> Response:
    if getattr(request.state, "html", False):
        return error_page(request, status, message)
    return problem(status, message, instance=request.url.path)


def plain(status: int, message: str, headers: dict | None = None) -> Response:
    """A text/plain answer (the SPARQL protocol's errors, the service description's)."""
    h = {"Vary": "Accept"}
    h.update(headers or {})
    return Response(
        (message.rstrip() + "\n").encode(), status_code=status, media_type="text/plain; charset=utf-8", headers=h
    )


async def _store_unavailable(request: Request, exc: StoreUnavailable) -> Response:
    return failure(request, store_status(exc.status), str(exc))


async def _bad_value(request: Request, exc: ValueError) -> Response:
    return failure(request, 422 if isinstance(exc, UnknownArea) else 404, str(exc))


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    return PlainTextResponse(f"{exc.detail}\n", status_code=exc.status_code, headers=exc.headers)


async def _internal_error(request: Request, exc: Exception) -> Response:  # no trace ever reaches a client
    if isinstance(exc, ClientDisconnect):  # the client left mid-request: nothing to answer, nothing to log
        return PlainTextResponse("client disconnected\n", status_code=400)
    log.error("internal error on %s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
    return PlainTextResponse("internal server error\n", status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(StoreUnavailable, _store_unavailable)
    for bad in (UnknownArea, UnknownInstrument, BadIri):
        app.add_exception_handler(bad, _bad_value)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _internal_error)
