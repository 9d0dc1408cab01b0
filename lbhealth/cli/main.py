"""The ``lbhealth`` command: one module per subcommand family, composed here.

``serve``/``demo`` (:mod:`.serve`), ``check-config``/``probe`` (:mod:`.check`),
``status`` (:mod:`.status`), ``admin`` (:mod:`.admin`), ``export`` (:mod:`.export`),
``completion`` (:mod:`.completion`). Exit codes: :mod:`lbhealth.cli.common`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from lbhealth import __version__
from lbhealth.cli import admin, check, completion, export, serve, status
from lbhealth.cli.common import EXIT_OK, EXIT_USAGE
from lbhealth.config import ConfigError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lbhealth", description="Health verdicts for load balancers: 200 UP / 503 DOWN."
    )
    parser.add_argument("--version", action="version", version=f"lbhealth {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for family in (serve, check, status, admin, export):
        family.register(sub)
    completion.register(sub, build_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        for line in exc.errors:
            print(f"error: {line}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_OK
