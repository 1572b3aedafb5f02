"""The `mdkg` command. Each subcommand lives in the module of the stage it drives; imports are lazy
so that `mdkg build` does not pay for the web stack and vice versa. Every subcommand builds its `Settings` once,
from the environment, and passes them down."""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from mdkg.settings import Settings

# name -> module path; each module exposes a click command called `command`.
COMMANDS = {
    "build": "ingest.build",
    "serve": "api.serve",
    "load": "graph.load",
    "gaps": "graph.gaps_cli",
    "network": "graph.network_cli",
    "figures": "graph.figures_cli",
}


data_option = click.option(
    "--data",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Dataset file (N-Quads/TriG; default: the last build, MDKG_BUILD_DIR/current/mdkg.nq).",
)


def dataset(data: Path | None) -> tuple[Path, Settings]:
    """The dataset file a question is answered from (`--data`, or the last build) and the settings for answering
    from it (its build's queries)."""
    settings = Settings.from_env()
    path = data or settings.dataset_file
    if not path.exists():
        raise click.ClickException(f"no dataset at {path}: run `mdkg build` first or pass --data FILE")
    return path, settings.serving(path)


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
