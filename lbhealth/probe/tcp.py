"""One bounded TCP connect: the database (SQL Server) and file-server (SMB) check.

Those servers speak no HTTP lbhealth could interpret; that the port accepts a
connection within the timeout is what the guide asks of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

from lbhealth.probe.observation import Observation


async def probe_tcp(host: str, port: int, timeout: float) -> Observation:
    """Open (and close) a TCP connection: the database and file-server check."""
    start = time.monotonic()
    where = f"{host}:{port}"

    def done(error: str | None, detail: str) -> Observation:
        return Observation(None, error, detail, time.monotonic() - start)

    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(host, port)
    except TimeoutError:
        return done("timeout", f"no TCP connect to {where} within {timeout:g}s")
    except ConnectionRefusedError:
        return done("refused", f"connection refused by {where}")
    except socket.gaierror:
        return done("dns", f"cannot resolve host {host!r}")
    except OSError as exc:
        return done("connect", f"cannot connect to {where}: {exc.strerror or exc}")
    result = done(None, f"TCP connect to {where} succeeded")
    writer.close()
    with contextlib.suppress(OSError, TimeoutError):
        await asyncio.wait_for(writer.wait_closed(), 1)
    return result
