"""Registering a ``satyamark`` subcommand."""

from __future__ import annotations

import argparse


def add_command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str, doc: str
) -> argparse.ArgumentParser:
    """The subcommand ``name``, whose ``--help`` shows ``doc`` (its module's docstring)
    as written."""
    return sub.add_parser(
        name, help=help_text, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
