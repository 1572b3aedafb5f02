"""`mdkg serve`: the SPARQL endpoint on the last build, on any RDF dataset file, or in front of a remote
server."""

from __future__ import annotations

import errno
import shutil
import socket
import sys
import tempfile
from pathlib import Path

import click

from mdkg.settings import SETTINGS


@click.command()
@click.option(
    "--data",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="RDF dataset file to serve (any RDF format, optionally .gz). Default: the last build.",
)
@click.option(
    "--remote",
    metavar="URL",
    default=None,
    help="Serve a remote SPARQL 1.1 query endpoint instead of a file (e.g. http://host:7878/query).",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Query worker processes (queries running at once); half of them at most run queries past 0.5 s.",
)
@click.option(
    "--timeout",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0.1, 300.0),
    help="Deadline of a query in seconds (at most 300); a query past it is killed and answered 503.",
)
@click.option(
    "--max-rows",
    default=100_000,
    show_default=True,
    type=click.IntRange(1),
    help="Most rows (SELECT) or triples (CONSTRUCT/DESCRIBE) in one answer.",
)
@click.option(
    "--max-answer-mb",
    default=64,
    show_default=True,
    type=click.IntRange(1, 4096),
    help="Largest answer in MiB; a larger one is cut to the rows that fit (header MDKG-Result-Truncated).",
)
@click.option(
    "--max-request-bytes",
    default=1_000_000,
    show_default=True,
    type=click.IntRange(1024),
    help="Largest POST body or GET query string accepted.",
)
@click.option(
    "--allow-service",
    "allow_service",
    multiple=True,
    metavar="IRI",
    help="Endpoint a SERVICE clause may call (repeatable); SERVICE is refused otherwise.",
)
@click.option(
    "--cors-origin",
    "cors_origins",
    multiple=True,
    default=("*",),
    show_default=True,
    help="Origin allowed to read cross-origin (repeatable).",
)
@click.option(
    "--remote-header",
    "remote_headers",
    multiple=True,
    metavar="NAME:VALUE",
    help="Header sent to the remote server (e.g. Authorization:...), repeatable.",
)
@click.option(
    "--worker-memory-mb",
    default=None,
    type=click.IntRange(0),
    help="Memory of a query worker in MiB past which its query is stopped (503); default: a quarter of the "
    "machine's memory shared by the workers (512 MiB to 4 GiB each); 0: no limit.",
)
@click.option(
    "--max-connections",
    default=1000,
    show_default=True,
    type=click.IntRange(16),
    help="Open connections at most (lowered to fit the open-file limit); past it new ones get 503 and are closed.",
)
@click.option(
    "--max-connections-per-address",
    "per_address",
    default=100,
    show_default=True,
    type=click.IntRange(1),
    help="Open connections one client address may hold (raise it behind a reverse proxy).",
)
@click.option(
    "--header-timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0.5, 300),
    help="Seconds a client has to send its request line and headers (then 30 s for a body).",
)
@click.option(
    "--unsafe-worker-network",
    is_flag=True,
    help="Let query workers open network connections (they have none by default: SERVICE cannot reach out).",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
def command(
    data,
    remote,
    host,
    port,
    workers,
    timeout,
    max_rows,
    max_answer_mb,
    max_request_bytes,
    allow_service,
    cors_origins,
    remote_headers,
    worker_memory_mb,
    max_connections,
    per_address,
    header_timeout,
    unsafe_worker_network,
    log_level,
) -> None:
    """Serve the graph through the SPARQL 1.1 Protocol at http://HOST:PORT/sparql (query page: /query)."""
    import uvicorn

    from api.app import ServerConfig, create_app
    from api.http_server import HttpLimits, connection_cap, protocol_class, quiet_floods, raise_open_files_limit
    from graph.store import StoreError, load_dataset

    if remote and data:
        raise click.UsageError("--data and --remote are exclusive")
    busy = port_problem(host, port)
    if busy:
        click.echo(f"error: {busy}", err=True)
        sys.exit(1)
    headers = []
    for h in remote_headers:
        name, sep, value = h.partition(":")
        if not sep:
            raise click.BadParameter(f"{h!r}: expected NAME:VALUE", param_hint="--remote-header")
        headers.append((name.strip(), value.strip()))
    tmp = None
    store_dir = None
    if not remote:
        data = data or SETTINGS.dataset_file
        tmp = Path(tempfile.mkdtemp(prefix="mdkg-store-"))
        store_dir = tmp / "store"
        click.echo(f"loading {data} ...", err=True)
        try:
            count = load_dataset(data, store_dir)
        except StoreError as e:
            shutil.rmtree(tmp, ignore_errors=True)
            click.echo(f"error: {e}", err=True)
            sys.exit(1)
        click.echo(f"loaded {count} quads", err=True)
    config = ServerConfig(
        data=data,
        remote=remote,
        store_dir=store_dir,
        workers=workers,
        timeout=timeout,
        max_rows=max_rows,
        max_answer_bytes=max_answer_mb * 2**20,
        max_request_bytes=max_request_bytes,
        service_allowlist=tuple(allow_service),
        cors_origins=tuple(cors_origins),
        remote_headers=tuple(headers),
        worker_memory_mb=worker_memory_mb,
        unsafe_worker_network=unsafe_worker_network,
        owned_dir=tmp,
    )
    limits = HttpLimits(
        max_connections=(cap := connection_cap(max_connections, raise_open_files_limit(), workers)),
        per_address=min(per_address, cap),
        header_timeout=header_timeout,
        max_head_bytes=max_request_bytes + 65536,
    )
    click.echo(
        f"SPARQL endpoint: http://{host}:{port}/sparql  query page: http://{host}:{port}/query", err=True
    )
    config = uvicorn.Config(
            create_app(config),
            host=host,
            port=port,
            log_level=log_level,
            http=protocol_class(limits),
            timeout_keep_alive=limits.keep_alive,
            timeout_graceful_shutdown=10,
    )
    quiet_floods()  # after uvicorn has set up its log handlers
    server = uvicorn.Server(config)
    try:
        server.run()
    finally:  # the app removes `tmp` when it stops; this covers a failure before it started
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def port_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on host:port (None: it can), said before minutes of loading are spent."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        return f"cannot resolve --host {host!r}: {e.strerror}"
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(address)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                return (f"port {port} on {host} is already in use (another mdkg serve?); stop it, or choose "
                        f"another port: mdkg serve --port N (make serve PORT=N)")
            return f"cannot listen on {host}:{port}: {e.strerror}"
    return None
