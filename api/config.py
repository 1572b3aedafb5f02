"""The server's configuration: one dataclass, whose fields are also `mdkg serve`'s options (name, default, help and
accepted range written once, here; api/serve.py builds the command line from them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click

from api.workers import HARD_MAX_TIMEOUT
from mdkg.settings import Settings


def option(default, help: str, *, flag: str | None = None, **click_args):
    """A field that is also an option of `mdkg serve` (`--field-name` unless `flag` says otherwise)."""
    return field(default=default, metadata={"option": {"flag": flag, "help": help, **click_args}})


def _headers(ctx, param, values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    out = []
    for h in values:
        name, sep, value = h.partition(":")
        if not sep:
            raise click.BadParameter(f"{h!r}: expected NAME:VALUE", param_hint="--remote-header")
        out.append((name.strip(), value.strip()))
    return tuple(out)


@dataclass(frozen=True)
class ServerConfig:
    data: Path | None = option(
        None,
        "RDF dataset file to serve (any RDF format, optionally .gz). Default: the last build.",
        type=click.Path(dir_okay=False, path_type=Path),
        show_default=False,
    )
    remote: str | None = option(
        None, "Serve a remote SPARQL 1.1 query endpoint instead of a file (e.g. http://host:7878/query).", metavar="URL"
    )
    host: str = option("127.0.0.1", "Address to listen on.")
    port: int = option(8000, "Port to listen on.")
    workers: int = option(
        4,
        "Query worker processes (queries running at once); half of them at most run queries past 0.5 s.",
        type=click.IntRange(1, 64),
    )
    timeout: float = option(  # seconds per query; capped at HARD_MAX_TIMEOUT
        30.0,
        f"Deadline of a query in seconds (at most {HARD_MAX_TIMEOUT:.0f}); a query past it is killed and answered 503.",
        type=click.FloatRange(0.1, HARD_MAX_TIMEOUT),
    )
    max_rows: int = option(
        100_000, "Most rows (SELECT) or triples (CONSTRUCT/DESCRIBE) in one answer.", type=click.IntRange(1)
    )
    max_answer_mb: int = option(
        64,
        "Largest answer in MiB; a larger one is cut to the rows that fit (header MDKG-Result-Truncated).",
        type=click.IntRange(1, 4096),
    )
    max_request_bytes: int = option(
        1_000_000, "Largest POST body or GET query string accepted.", type=click.IntRange(1024)
    )
    service_allowlist: tuple[str, ...] = option(
        (),
        "Endpoint a SERVICE clause may call (repeatable); SERVICE is refused otherwise.",
        flag="--allow-service",
        multiple=True,
        metavar="IRI",
        show_default=False,
    )
    cors_origins: tuple[str, ...] = option(
        ("*",), "Origin allowed to read cross-origin (repeatable).", flag="--cors-origin", multiple=True
    )
    remote_headers: tuple[tuple[str, str], ...] = option(
        (),
        "Header sent to the remote server (e.g. Authorization:...), repeatable.",
        flag="--remote-header",
        multiple=True,
        metavar="NAME:VALUE",
        callback=_headers,
        show_default=False,
    )
    worker_memory_mb: int | None = option(
        None,
        "Memory of a query worker in MiB past which its query is stopped (503); default: a quarter of the "
        "machine's memory shared by the workers (512 MiB to 4 GiB each); 0: no limit.",
        type=click.IntRange(0),
        show_default=False,
    )
    max_connections: int = option(
        1000,
        "Open connections at most (lowered to fit the open-file limit); past it new ones get 503 and are closed.",
        type=click.IntRange(16),
    )
    per_address: int = option(
        100,
        "Open connections one client address may hold (raise it behind a reverse proxy).",
        flag="--max-connections-per-address",
        type=click.IntRange(1),
    )
    header_timeout: float = option(
        10.0,
        "Seconds a client has to send its request line and headers (then 30 s for a body).",
        type=click.FloatRange(0.5, 300),
    )
    unsafe_worker_network: bool = option(
        False, "Let query workers open network connections (they have none by default: SERVICE cannot reach out)."
    )
    log_level: str = option(
        "info", "How much the server logs.", type=click.Choice(["critical", "error", "warning", "info", "debug"])
    )
    # not options: set by `mdkg serve` or by a test
    settings: Settings = field(default_factory=Settings)  # base IRI; where the served build's queries/shapes are
    store_dir: Path | None = None  # a store already loaded from `data` (mdkg serve loads it before starting)
    spare_workers: int | None = None  # started ahead, so that a killed worker costs no one a respawn wait
    owned_dir: Path | None = None  # a temporary folder (the loaded store) the server deletes when it stops
    title: str = "mdkg SPARQL endpoint"
    extra: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def deadline(self) -> float:
        return max(0.1, min(self.timeout, HARD_MAX_TIMEOUT))

    @property
    def max_answer_bytes(self) -> int:  # an answer larger than this is cut to the rows that fit
        return self.max_answer_mb * 2**20
