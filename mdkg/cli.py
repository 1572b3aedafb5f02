"""The `mdkg` command. Each subcommand lives in the module of the stage it drives; imports are lazy
so that `mdkg build` does not pay for the web stack and vice versa."""

from __future__ import annotations

import importlib

import click

# name -> module path; each module exposes a click command called `command`.
COMMANDS = {
    "build": "ingest.build",
    "serve": "api.serve",
    "load": "graph.load",
    "gaps": "graph.gaps_cli",
    "network": "graph.network_cli",
    "figures": "graph.figures_cli",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        return importlib.import_module(COMMANDS[name]).command


@click.group(cls=LazyGroup)
@click.version_option(package_name="mdkg")
def main() -> None:
    """mdkg: the migration-and-development knowledge graph."""


if __name__ == "__main__":
    main()
