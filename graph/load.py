"""`mdkg load --to URL`: push the build (or any RDF dataset file) to a SPARQL server's Graph Store Protocol
endpoint, one graph at a time, large graphs in batches (e.g. Oxigraph: http://host:7878/store; Fuseki:
http://host:3030/ds/data; Virtuoso: http://host:8890/sparql-graph-crud-auth with `--user dba:PASSWORD`)."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import click
import httpx

from mdkg.settings import Settings

PASSWORD_ENV = "MDKG_LOAD_PASSWORD"


class ChallengeAuth(httpx.Auth):
    """HTTP authentication in the scheme the server's challenge names: Digest (Virtuoso's
    /sparql-graph-crud-auth) or Basic (Fuseki, GraphDB, a proxy). No credentials are sent until asked for."""

    def __init__(self, username: str, password: str):
        self.digest = httpx.DigestAuth(username, password)
        self.basic = httpx.BasicAuth(username, password)
        self.chosen: httpx.Auth | None = None

    def auth_flow(self, request: httpx.Request):
        if self.chosen is not None:  # the scheme is known: answer with credentials at once
            yield from self.chosen.auth_flow(request)
            return
        response = yield request
        challenges = [h.split(" ", 1)[0].lower() for h in response.headers.get_list("www-authenticate")]
        if response.status_code != 401:
            return
        if "digest" in challenges:
            self.chosen = self.digest
            flow = self.digest.auth_flow(request)
            next(flow)  # its unauthenticated first try, which the challenge above has answered already
            try:
                request = flow.send(response)
            except StopIteration:
                return
            response = yield request
            with contextlib.suppress(StopIteration):
                flow.send(response)
        elif "basic" in challenges:
            self.chosen = self.basic
            yield from self.basic.auth_flow(request)


@click.command()
@click.option("--to", "to", required=True, metavar="URL", help="Graph Store Protocol endpoint.")
@click.option(
    "--data",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Dataset file to push (any RDF format). Default: the last build.",
)
@click.option("--append", is_flag=True, help="Add to the graphs (POST) instead of replacing them (PUT).")
@click.option(
    "--header",
    "headers",
    multiple=True,
    metavar="NAME:VALUE",
    help="Header sent with each request (e.g. Authorization:...), repeatable.",
)
@click.option(
    "--user",
    metavar="NAME[:PASSWORD]",
    default=None,
    help=f"Credentials for the server's challenge (Digest or Basic); the password may come from ${PASSWORD_ENV}.",
)
@click.option(
    "--batch", type=click.IntRange(min=1), default=100_000, show_default=True, help="Most triples per request."
)
def command(to: str, data: Path | None, append: bool, headers: tuple[str, ...], user: str | None, batch: int) -> None:
    """Load the graph into a remote SPARQL 1.1 server through the Graph Store Protocol."""
    from graph.store import RemoteError, StoreError, push_dataset

    data = data or Settings.from_env().dataset_file
    extra = {}
    for h in headers:
        name, sep, value = h.partition(":")
        if not sep:
            raise click.BadParameter(f"{h!r}: expected NAME:VALUE", param_hint="--header")
        extra[name.strip()] = value.strip()
    auth = None
    if user is not None:
        name, sep, password = user.partition(":")
        if not sep:
            password = os.environ.get(PASSWORD_ENV, "")
            if not password:
                raise click.BadParameter(f"no password: give NAME:PASSWORD or set {PASSWORD_ENV}", param_hint="--user")
        auth = ChallengeAuth(name, password)
    try:
        pushed = push_dataset(data, to, replace=not append, headers=extra, auth=auth, batch=batch)
    except (StoreError, RemoteError) as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
    for p in pushed:
        click.echo(f"{p.graph or '(default graph)'}: {p.triples} triples ({p.status})")
    click.echo(f"loaded {sum(p.triples for p in pushed)} triples in {len(pushed)} graph(s) into {to}")
