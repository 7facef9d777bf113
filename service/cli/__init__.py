"""The ``capplan`` command line: one sub-command module per concern, registered here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from service.cli import catalog, check, hub, serve, validate

# Each module exposes ``register(subparsers)``; it sets ``func`` (args -> exit code) on its parser.
COMMAND_MODULES = (serve, catalog, check, validate, hub)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="capplan", description="Capacity planning for LLM serving."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
