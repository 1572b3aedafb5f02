"""`mdkg serve`: the SPARQL endpoint on the last build, on any RDF dataset file, or in front of a remote
server."""

from __future__ import annotations

import errno
import shutil
import socket
import sys
import tempfile
from dataclasses import fields, replace
from pathlib import Path

import click
import uvicorn

from api.app import create_app
from api.config import ServerConfig
from api.http_server import HttpLimits, connection_cap, protocol_class, quiet_floods, raise_open_files_limit
from graph.store import StoreError, load_dataset
from mdkg.settings import Settings


def options(command):
    """`mdkg serve`'s options: the fields of ServerConfig that are marked as options (api/config.py)."""
    for f in reversed(fields(ServerConfig)):
        spec = dict(f.metadata.get("option") or {})
        if not spec:
            continue
        flag = spec.pop("flag") or "--" + f.name.replace("_", "-")
        if f.type == "bool":
            spec["is_flag"] = True
        else:
            spec.setdefault("show_default", True)
        command = click.option(flag, f.name, default=f.default, **spec)(command)
    return command


@click.command()
@options
def command(**values) -> None:
    """Serve the graph through the SPARQL 1.1 Protocol at http://HOST:PORT/sparql (query page: /query)."""
    config = ServerConfig(**values, settings=Settings.from_env())
    if config.remote and config.data:
        raise click.UsageError("--data and --remote are exclusive")
    busy = port_problem(config.host, config.port)
    if busy:
        click.echo(f"error: {busy}", err=True)
        sys.exit(1)
    if not config.remote:
        data = config.data or config.settings.dataset_file
        tmp = Path(tempfile.mkdtemp(prefix="mdkg-store-"))
        click.echo(f"loading {data} ...", err=True)
        try:
            count = load_dataset(data, tmp / "store")
        except StoreError as e:
            shutil.rmtree(tmp, ignore_errors=True)
            click.echo(f"error: {e}", err=True)
            sys.exit(1)
        click.echo(f"loaded {count} quads", err=True)
        # the queries and shapes of the build the data comes from (or the installed code's, for any other file)
        config = replace(config, data=data, store_dir=tmp / "store", owned_dir=tmp,
                         settings=config.settings.serving(data))
    cap = connection_cap(config.max_connections, raise_open_files_limit(), config.workers)
    limits = HttpLimits(
        max_connections=cap,
        per_address=min(config.per_address, cap),
        header_timeout=config.header_timeout,
        max_head_bytes=config.max_request_bytes + 65536,
    )
    host, port = config.host, config.port
    click.echo(f"SPARQL endpoint: http://{host}:{port}/sparql  query page: http://{host}:{port}/query", err=True)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config),
            host=host,
            port=port,
            log_level=config.log_level,
            http=protocol_class(limits),
            timeout_keep_alive=limits.keep_alive,
            timeout_graceful_shutdown=10,
        )
    )
    quiet_floods()  # after uvicorn has set up its log handlers
    try:
        server.run()
    finally:  # the app removes its store when it stops; this covers a failure before it started
        if config.owned_dir:
            shutil.rmtree(config.owned_dir, ignore_errors=True)


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
