"""Container HEALTHCHECK: exit 0 when this container's lbhealth answers ``/livez``.

Slim images have no curl, so the Dockerfile runs ``python -m lbhealth.cli.healthcheck``.
It uses the standard library only (no settings, no inventory): it must stay cheap
every 30 s and must not fail because a ConfigMap changed under a running process.
It asks ``/livez``, never ``/health``: an outage of the backends must not get
lbhealth itself marked unhealthy and restarted.
"""

from __future__ import annotations

import os
import sys
import urllib.request
from collections.abc import Mapping

TIMEOUT = 3.0
_ANY_ADDRESS = {"", "0.0.0.0", "::", "[::]"}


def livez_url(env: Mapping[str, str]) -> str:
    """The URL of the local ``/livez``, from the same LBHEALTH_* variables the service reads."""
    port = env.get("LBHEALTH_PORT") or "8080"
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"LBHEALTH_PORT={port!r} is not a port (1-65535)")
    host = env.get("LBHEALTH_HOST", "").strip()
    if host in _ANY_ADDRESS:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{int(port)}/livez"


def main() -> int:
    try:
        url = livez_url(os.environ)
    except ValueError as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    # No proxy: an HTTP(S)_PROXY in the container's environment must not
    # send the check somewhere else.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=TIMEOUT) as response:
            status = response.status
    except OSError as exc:  # URLError, HTTPError (non-2xx), timeouts, refusals
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
