"""Structured logging: one JSON object per line, for machines and for grep."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
#: ``extra`` keys never written: uvicorn's ``color_message`` repeats ``msg`` with ANSI
#: colour codes, noise (and escape sequences) in a JSON log.
_DROPPED = {"color_message"}


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON line; ``extra={...}`` fields become keys."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in _DROPPED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


#: Libraries whose INFO lines would log every probe, with its full URL (and so
#: any credentials in it): only their warnings get through.
_QUIET = ("httpx", "httpcore")


def quiet_libraries() -> None:
    """Keep per-request lines of the HTTP client libraries out of the log."""
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


def setup_logging(level: str = "info", *, access_log: bool = False) -> None:
    """Send every logger (uvicorn's included) through one JSON handler on stderr.

    uvicorn writes an access line only when ``uvicorn.access`` reaches a
    handler, whatever its own ``access_log`` option, so without ``access_log``
    that logger is cut off here: monitors poll many times a second.
    """
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").propagate = access_log
    quiet_libraries()
