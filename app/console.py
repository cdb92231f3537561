"""The `paraphe` command: Flask's command group over the application factory.

Apart from `app.cli` (the commands, registered on the application by the factory), so that the
factory can import the commands and this entry point the factory, without a cycle."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import FlaskGroup

from app import cli
from app.config import ConfigError
from app.factory import create_app


def _create_app() -> Flask:
    try:
        return create_app()
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


main = FlaskGroup(create_app=_create_app, help=cli.__doc__, add_default_commands=True)
