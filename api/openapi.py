"""The REST API's OpenAPI schema (FastAPI's generator over the REST routes; problem details under their media
type), served at /api/openapi.json and rendered at /api/docs. Above the routers: it reads theirs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from api.problems import MEDIA_TYPE as PROBLEM_TYPE
from api.render import render
from api.routers import figures, rest, service
from api.state import state_of

router = APIRouter()


def build_openapi() -> dict:
    """The OpenAPI schema of the REST routes, problem details under application/problem+json."""
    routes = [*rest.router.routes, *figures.router.routes, *service.router.routes]
    schema = get_openapi(
        title="mdkg REST API",
        version="0.1.0",
        routes=[r for r in routes if getattr(r, "include_in_schema", False)],
        description="JSON access to the migration-and-development knowledge graph. Errors are "
        "application/problem+json (RFC 9457). Every IRI of the graph also dereferences at /id/... (HTML, "
        "Turtle, JSON-LD, N-Triples, RDF/XML); arbitrary queries go to the SPARQL endpoint at /sparql.",
    )
    for ops in schema["paths"].values():
        for op in ops.values():
            for status, response in op.get("responses", {}).items():
                content = response.get("content", {})
                if status[0] in "45" and "application/json" in content:
                    content[PROBLEM_TYPE] = content.pop("application/json")
    return schema


def openapi_schema(request: Request) -> dict:
    cache = state_of(request).cache
    if "openapi" not in cache:
        cache["openapi"] = build_openapi()
    return cache["openapi"]


@router.get("/api/openapi.json", include_in_schema=False)
async def openapi(request: Request):
    return JSONResponse(openapi_schema(request))


@router.get("/api/docs", include_in_schema=False)
async def docs(request: Request):
    return render(request, "apidocs.html", {"schema": openapi_schema(request)}, title="REST API")
