"""Keep configured secrets out of everything lbhealth shows: JSON, reasons, logs, errors.

Checks may carry credentials (an ``Authorization`` header, session cookies,
``user:password@`` in a URL). lbhealth sends them to the backend and nowhere else: URLs are shown
with their credentials masked, and any reason quoting backend output (an error
page that echoes the request, say) has the secret values replaced.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from lbhealth.text.clean import map_strings

MASK = "***"

#: Header names whose values are credentials. Matching is by substring, so
#: ``X-Api-Key`` and ``X-Auth-Token`` are covered too.
_SENSITIVE = ("authorization", "cookie", "token", "key", "secret", "password", "auth")
#: Shorter values are not redacted: masking "1" in every reason would hide real text.
_MIN_SECRET = 4
#: What shortened text ends with (``clean_reason``, the interpreters' ``shorten``).
_CUT = "..."


def sensitive_header(name: str) -> bool:
    """Whether a header's value is a credential, never to be shown."""
    lowered = name.lower()
    return any(word in lowered for word in _SENSITIVE)


def mask_url(url: str) -> str:
    """The URL with any ``user:password@`` replaced by ``***@``.

    A password holding an unencoded ``#``, ``/`` or ``?`` ends the host part
    early, and its tail lands in the fragment, path or query: whenever an
    ``@`` shows up there, everything up to the last ``@`` is masked.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    if "@" in parts.path + parts.query + parts.fragment:
        head, sep, rest = url.partition("//")
        return f"{head}{sep}{MASK}@{rest.rpartition('@')[2]}" if sep else MASK
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=f"{MASK}@{parts.netloc.rpartition('@')[2]}").geturl()


def _basic_credentials(credential: str) -> list[str]:
    """``user:password`` of a Basic credential, and each of its parts; none if not one."""
    try:
        plain = base64.b64decode(credential, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return []
    return [plain, *plain.split(":", 1)]


def _cookie_values(header: str) -> list[str]:
    """Each ``name=value`` of a ``Cookie`` header, and each value (bare, unquoted, decoded).

    A page echoing one cookie (``JSESSIONID=...``, or just its value) shows
    a session as surely as one echoing the whole header.
    """
    found = []
    for pair in header.split(";"):
        cookie = pair.strip()
        value = cookie.partition("=")[2].strip()
        found += [cookie, value, value.strip('"'), unquote(value.strip('"'))]
    return found


def _header_secrets(name: str, value: str) -> list[str]:
    """The values of a credential header that must never be shown."""
    value = value.strip()
    scheme, _, credential = value.rpartition(" ")
    # "Bearer abc" / "Basic abc": the credential alone may be echoed too.
    found = [value, credential]
    if scheme.lower() == "basic":
        found += _basic_credentials(credential)
    if "cookie" in name.lower():
        found += _cookie_values(value)
    return found


def secret_values(url: str | None, headers: Mapping[str, str]) -> tuple[str, ...]:
    """Every configured value that must never be shown, longest first."""
    found: set[str] = set()
    for name, value in headers.items():
        if sensitive_header(name):
            found.update(_header_secrets(name, value))
    if url is not None:
        userinfo = urlsplit(url).netloc.rpartition("@")[0]
        if userinfo:
            plain = unquote(userinfo)
            # httpx sends URL credentials as Basic auth: an echo shows them base64-encoded.
            found.add(base64.b64encode(plain.encode()).decode())
            for part in (*userinfo.split(":"), *plain.split(":")):
                found.add(part)
    return tuple(sorted((v for v in found if len(v) >= _MIN_SECRET), key=len, reverse=True))


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value replaced by ``***``.

    Redact before shortening. Text already shortened (interpreters shorten the
    backend output they quote) may end a secret's head at the cut, ``abc...``:
    such a head, of at least ``_MIN_SECRET`` characters, is masked too.
    """
    secrets = tuple(secrets)
    for secret in secrets:
        text = text.replace(secret, MASK)
    if _CUT in text:
        for secret in secrets:
            for size in range(len(secret) - 1, _MIN_SECRET - 1, -1):
                text = text.replace(secret[:size] + _CUT, MASK + _CUT)
    return text


def redact_data(value: Any, secrets: Sequence[str]) -> Any:
    """JSON-like ``value`` with every string in it (keys too) redacted.

    Details quote the backend (parsed rows, the Server header) as much as a
    reason does.
    """
    if not secrets:
        return value
    return map_strings(value, lambda text: redact(text, secrets))
