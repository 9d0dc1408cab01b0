"""The verdict file: the last result of every check, so that a restart never flips a node.

Without it a restarted lbhealth answers ``DOWN: not probed yet`` until its first
probes finish, taking healthy nodes out of every pool for a moment. With it, the
results still younger than their lifetime (``max_age``) are served at once, by the
same freshness rule as any other (:meth:`lbhealth.core.engine.Engine.accept`).

The file is a cache, rewritten often: it is replaced atomically (temporary file,
then rename) but not fsynced, since losing it costs only the first probes' wait.
A file that cannot be read is logged and ignored for the same reason, and so is
each entry in it that is not a result (damaged, or written by hand): one log line
names them, the others are served. Each result
is kept with the wall-clock time of its probe and its check's shared key
(:func:`lbhealth.core.sharing.shared_key`), so a check changed since is not served
an old verdict. Blocking I/O: callers on an event loop run these in a thread.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from lbhealth.store.shared import SharedResult
from lbhealth.text.clean import clean_reason

log = logging.getLogger("lbhealth.store")

_FILE_VERSION = 1
#: Longest account of the skipped entries logged (the first ones, when there are many).
_MAX_SHOWN = 1000


def read_verdict_file(path: Path) -> list[SharedResult]:
    """The results in the file; none if it is missing. ValueError if it is unreadable.

    An entry that is not a result is skipped, and logged (one line for the file).
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError, RecursionError) as exc:
        raise ValueError(f"{path}: unreadable verdict file: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != _FILE_VERSION:
        raise ValueError(f"{path}: not an lbhealth verdict file (version {_FILE_VERSION})")
    items = data.get("verdicts")
    if not isinstance(items, list):
        raise ValueError(f"{path}: no 'verdicts' list")
    results, skipped = [], []
    for number, item in enumerate(items):
        try:
            results.append(SharedResult.from_json(item))
        except ValueError as exc:
            skipped.append(f"verdicts[{number}]: {exc}")
    if skipped:
        log.warning(
            "verdict file %s: %d of %d entries skipped: %s",
            path,
            len(skipped),
            len(items),
            clean_reason("; ".join(skipped), _MAX_SHOWN),
            extra={"verdict_file": str(path), "skipped": len(skipped)},
        )
    return results


def write_verdict_file(path: Path, results: Iterable[SharedResult]) -> None:
    """Replace the file atomically with these results."""
    items = [shared.to_json() for shared in results]
    text = json.dumps({"version": _FILE_VERSION, "verdicts": items}, separators=(",", ":"))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
