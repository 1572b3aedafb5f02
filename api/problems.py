"""Errors of the REST API as RFC 9457 problem details (`application/problem+json`).

`problem()` builds one; `ProblemRoute` (the route class of the REST router) turns FastAPI's request validation
errors into a 422 problem that names each bad field, so every error of /api/... has the same shape."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

MEDIA_TYPE = "application/problem+json"

TITLES = {
    400: "Bad request",
    404: "Not found",
    406: "Not acceptable",
    422: "Invalid parameter",
    500: "Internal server error",
    503: "Service unavailable",
}


class FieldError(BaseModel):
    field: str = Field(description="the parameter, e.g. `query.as_of`")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    instance: str | None = None,
    errors: list[dict] | None = None,
    headers: dict | None = None,
) -> JSONResponse:
    body = Problem(
        title=title or TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        instance=instance,
        errors=[FieldError(**e) for e in errors] if errors else None,
    )
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, media_type=MEDIA_TYPE, headers=headers)


def validation_problem(exc: RequestValidationError, instance: str | None = None) -> JSONResponse:
    errors = []
    for e in exc.errors():
        loc = [str(x) for x in e.get("loc", ()) if not isinstance(x, int)]  # kind.0 -> kind
        name = ".".join(loc) if loc else "request"
        errors.append({"field": name, "message": str(e.get("msg", "invalid"))})
    fields = ", ".join(dict.fromkeys(e["field"].split(".", 1)[-1] for e in errors))
    detail = f"invalid value for {fields}: " + "; ".join(
        f"{e['field'].split('.', 1)[-1]}: {e['message']}" for e in errors
    )
    return problem(422, detail, instance=instance, errors=errors)


class ProblemRoute(APIRoute):
    """A route whose request validation errors are answered as problem+json (422, fields named)."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def route(request: Request):
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return validation_problem(exc, instance=request.url.path)

        return route


PROBLEM_RESPONSES = {  # the schema goes under application/problem+json (api.openapi moves it)
    404: {"model": Problem, "description": "Unknown id"},
    422: {"model": Problem, "description": "A parameter is invalid (named in `errors`)"},
    503: {"model": Problem, "description": "The store did not answer in time"},
}
