"""Strings the documentation promises, copied literally from it, never imported from the code.

A test that compares the code's output with the code's own constant passes
whatever the documentation says. These are the docs' words; the tests compare
the running code with them, and ``tests/test_docs.py`` checks that each one
still appears, verbatim, in the page it was copied from: drift on either side
fails a test.
"""

from __future__ import annotations

# docs/load-balancers.md, "F5 BIG-IP": the receive strings an operator pastes into tmsh.
F5_RECV = "x-lbhealth-state: up"
F5_RECV_DISABLE = "x-lbhealth-state: drain"
# docs/load-balancers.md: the two send strings, as written there (backslash escapes).
F5_SEND_HTTP11 = r"GET /health/app1 HTTP/1.1\r\nHost: lbhealth\r\nConnection: Close\r\n\r\n"
F5_SEND_HTTP10 = r"GET /health/app1 HTTP/1.0\r\n\r\n"

# docs/configuration.md, "The eim-wim preset": where the derived checks point.
LOGIN_JSP = "/system/web/view/platform/login/login.jsp"
DEBUG_DIR = "/system/web/view/platform/debug/"
RMI_JSP = DEBUG_DIR + "listrmiobjects.jsp"
ICM_JSP = DEBUG_DIR + "ICMIntegratedConnections.jsp"

DOCUMENTED: dict[str, tuple[str, ...]] = {
    "docs/load-balancers.md": (F5_RECV, F5_RECV_DISABLE, F5_SEND_HTTP11, F5_SEND_HTTP10),
    "docs/configuration.md": (
        f"http://host:9001{LOGIN_JSP}",
        f"`listrmiobjects.jsp` and `ICMIntegratedConnections.jsp` under `{DEBUG_DIR}`",
    ),
}


def wire(documented: str) -> bytes:
    """A documented send string as the bytes on the wire (``\\r\\n`` escapes decoded)."""
    return documented.replace(r"\r\n", "\r\n").encode("ascii")


# docs/endpoints.md, "Failure behaviour": what a probe may read past max_body.
BODY_READ_SLACK = 64 * 1024
DOCUMENTED["docs/endpoints.md"] = ("never exceed `max_body` (plus one 64 KiB read)",)
