"""What the server knows while it runs, typed: its configuration, the settings (base IRI, paths), the worker pool
and the caches. Built once by `api.app.create_app`; routers read it with `state_of(request)` and nothing else
(no ad-hoc `app.state.x`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request

from api.paths import Paths
from api.workers import HARD_MAX_TIMEOUT, WorkerPool
from mdkg.settings import SETTINGS, Settings


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


@dataclass
class AppState:
    config: ServerConfig
    settings: Settings = SETTINGS
    pool: WorkerPool | None = None  # set when the server has started
    store_dir: Path | None = None  # the embedded store (None in remote mode)
    work_dir: Path | None = None  # where dumps are written on demand
    cache: dict = field(default_factory=dict)  # answers that do not change while the server runs

    @property
    def paths(self) -> Paths:
        return Paths(self.settings.ns.base)


def state_of(request: Request) -> AppState:
    return request.app.state.mdkg
