"""What the endpoint serves about itself: the VoID description of the dataset (/.well-known/void), full dumps
(/dumps/NAME.nq, .trig) and /health (also at /api/health, documented in the REST API's schema). The
descriptions themselves are built by api.description."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict

from api import formats as F
from api.description import dataset_description, dump_links, rdf_response, remote_problem, statistics
from api.errors import plain
from api.state import state_of
from graph.store import LocalBackend

router = APIRouter()


@router.get("/.well-known/void", include_in_schema=False)
@router.get("/void", include_in_schema=False)
async def void(request: Request, format: str | None = None) -> Response:
    fmt = F.negotiate(request.headers.get("accept"), [F.GRAPH], format)
    if fmt is None:
        return plain(406, f"the VoID description is available as {F.acceptable_list([F.GRAPH])}")
    return rdf_response(dataset_description(request, await statistics(request), partitions=True), fmt)


@router.get("/dumps/{filename}", include_in_schema=False)
async def dump(request: Request, filename: str) -> Response:
    links = {url.rsplit("/", 1)[1]: fmt for fmt, url in dump_links(request)}
    fmt = links.get(filename)
    if fmt is None:
        available = ", ".join(links) or "none (remote mode: ask the remote server for dumps)"
        return plain(404, f"no such dump: {filename}; available: {available}")
    state = state_of(request)
    path = state.work_dir / filename
    lock = state.cache.setdefault(f"dump-lock-{filename}", asyncio.Lock())
    async with lock:
        if not path.exists():
            await asyncio.to_thread(_write_dump, state.store_dir, path, fmt)
    return FileResponse(path, media_type=fmt.content_type, filename=filename)


def _write_dump(store_dir: Path, path: Path, fmt: F.Format) -> None:
    backend = LocalBackend(store_dir)
    partial = path.with_suffix(path.suffix + ".partial")
    try:
        backend.dump(partial, fmt.rdf)
        partial.replace(path)
    finally:
        backend.close()


class Health(BaseModel):
    """Whether the server can answer queries, and the state of its query workers (lanes, spares, counters)."""

    model_config = ConfigDict(extra="allow")
    status: Literal["ok", "degraded"]
    workers: int
    idle: int
    problem: str | None = None  # why not, when degraded


@router.get("/health", include_in_schema=False)
@router.get("/api/health", response_model=Health, summary="Is the server able to answer queries", tags=["mdkg"])
async def health(request: Request):
    state = state_of(request)
    status = state.pool.status()
    problem = await remote_problem(state.config) if status["workers"] else "no query worker is running"
    body = {"status": "degraded" if problem else "ok", **status}
    body["lookups_in_server"] = state.inline.answered if state.inline else 0  # api/inline.py
    if problem:
        body["problem"] = problem
    return body
