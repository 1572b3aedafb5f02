"""What the server knows while it runs, typed: its configuration, the settings (base IRI, paths), the worker pool
and the caches. Built once by `api.app.create_app`; routers read it with `state_of(request)` and nothing else
(no ad-hoc `app.state.x`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request

from api.config import ServerConfig
from api.inline import Inline
from api.paths import Paths
from api.workers import WorkerPool
from mdkg.settings import Settings


@dataclass
class AppState:
    config: ServerConfig
    settings: Settings
    pool: WorkerPool | None = None  # set when the server has started
    inline: Inline | None = None  # lookups answered in the server process (a local store only)
    store_dir: Path | None = None  # the embedded store (None in remote mode)
    work_dir: Path | None = None  # where dumps are written on demand
    cache: dict = field(default_factory=dict)  # answers that do not change while the server runs

    @property
    def paths(self) -> Paths:
        return Paths(self.settings.ns.base)


def state_of(request: Request) -> AppState:
    return request.app.state.mdkg
