"""`mdkg load --to URL`: push the build (or any RDF dataset file) to a SPARQL server's Graph Store Protocol
endpoint, one request per graph (e.g. Oxigraph: http://host:7878/store; Fuseki: http://host:3030/ds/data)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mdkg.settings import SETTINGS


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
def command(to: str, data: Path | None, append: bool, headers: tuple[str, ...]) -> None:
    """Load the graph into a remote SPARQL 1.1 server through the Graph Store Protocol."""
    from graph.store import RemoteError, StoreError, push_dataset

    data = data or SETTINGS.dataset_file
    extra = {}
    for h in headers:
        name, sep, value = h.partition(":")
        if not sep:
            raise click.BadParameter(f"{h!r}: expected NAME:VALUE", param_hint="--header")
        extra[name.strip()] = value.strip()
    try:
        pushed = push_dataset(data, to, replace=not append, headers=extra)
    except (StoreError, RemoteError) as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
    for p in pushed:
        click.echo(f"{p.graph or '(default graph)'}: {p.triples} triples ({p.status})")
    click.echo(f"loaded {sum(p.triples for p in pushed)} triples in {len(pushed)} graph(s) into {to}")
