"""Project commands: Kedro's ``kedro run``, ending expected failures with a short message."""

import sys

import click
from kedro.framework.cli.project import run as kedro_run

from .errors import ProjectError


def _run_with_clear_errors(**kwargs: object) -> object:
    try:
        return kedro_run.callback(**kwargs)
    except ProjectError as error:
        click.secho(f"\nRun stopped: {error}", fg="red", err=True)
        sys.exit(1)


@click.group(name="project")
def cli() -> None:
    """Commands of this project."""


cli.add_command(
    click.Command(
        name="run",
        params=kedro_run.params,
        callback=_run_with_clear_errors,
        help=kedro_run.help,
        short_help=kedro_run.short_help,
    )
)
