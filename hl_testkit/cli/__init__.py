"""The `hl-testkit` command: its subcommands and what they print."""

from hl_testkit.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
