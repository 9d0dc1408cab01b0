"""The ``lbhealth`` command line."""

from lbhealth.cli.main import main

__all__ = ["main"]
