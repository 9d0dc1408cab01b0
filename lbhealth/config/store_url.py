"""The shared store's URL (``settings.store``): its three forms, read once, shown masked.

- ``redis://[[user]:password@]host[:port][/db]``: one Redis server;
- ``rediss://...``: the same over TLS (redis-py's ``ssl_*`` query options apply);
- ``redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/service[/db]``: the
  master of ``service`` as Redis Sentinel names it, asking each sentinel listed (port
  26379 by default) in turn, so that the store is no single point of failure either.

The URL's credentials authenticate to Redis (the sentinels are asked without them).
They are the only secret it may hold: a query option that looks like one is refused,
so that masking ``user:password@`` (:func:`lbhealth.text.redact.mask_url`) is enough
to show the URL anywhere (errors, logs, ``/readyz``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from lbhealth.text.redact import MASK, mask_url, sensitive_header

PLAIN_SCHEMES = ("redis", "rediss")
SENTINEL_SCHEME = "redis+sentinel"
SENTINEL_PORT = 26379
FORMS = (
    "redis://[:password@]host:6379/0, rediss://..., or"
    " redis+sentinel://[:password@]host1:26379,host2:26379/mymaster/0"
)


@dataclass(frozen=True, slots=True)
class StoreUrl:
    """A valid store URL, taken apart; ``shown`` is what logs and answers may print."""

    url: str = field(repr=False)
    shown: str
    #: Empty for one Redis server; the sentinels to ask for the master otherwise.
    sentinels: tuple[tuple[str, int], ...] = ()
    service: str = ""
    db: int = 0
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)


def _db(text: str, shown: str) -> int:
    if text == "":
        return 0
    if not text.isdigit():
        raise ValueError(f"{shown!r}: the database must be a number (/0), not {text!r}")
    return int(text)


def _host_port(item: str, shown: str) -> tuple[str, int]:
    host, sep, port = item.rpartition(":")
    if not sep:
        host, port = item, str(SENTINEL_PORT)
    host = host.strip("[]")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"{shown!r}: {item!r} is not host:port")
    return host, int(port)


def _masked(url: str) -> str:
    """The URL with its credentials, and the value of any credential-like option, masked."""
    shown = mask_url(url)
    parts = urlsplit(shown) if shown != MASK else None
    if parts is None or not parts.query:
        return shown
    options = parse_qsl(parts.query, keep_blank_values=True)
    query = "&".join(f"{k}={MASK if sensitive_header(k) else v}" for k, v in options)
    return parts._replace(query=query).geturl()


def parse_store_url(url: str) -> StoreUrl:
    """Check and take apart a store URL; ValueError with the masked URL and the forms."""
    shown = _masked(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ValueError(f"{shown!r} is not a URL; write {FORMS}") from None
    for name, _ in parse_qsl(parts.query):
        if sensitive_header(name):
            raise ValueError(
                f"{shown!r}: option {name!r} looks like a credential; put the password in the"
                " URL's :password@ part, where it is masked"
            )
    userinfo, _, hosts = parts.netloc.rpartition("@")
    user, _, secret = userinfo.partition(":")
    username, password = unquote(user) or None, unquote(secret) or None
    if parts.scheme in PLAIN_SCHEMES:
        try:
            valid = bool(parts.hostname) and (parts.port or 1) > 0  # .port raises if invalid
        except ValueError:
            valid = False
        if not valid:
            raise ValueError(f"{shown!r} has no valid host[:port]; write {FORMS}")
        number = _db(parts.path.strip("/"), shown)
        return StoreUrl(url, shown, db=number, username=username, password=password)
    if parts.scheme == SENTINEL_SCHEME:
        sentinels = tuple(_host_port(item, shown) for item in hosts.split(",") if item)
        service, _, db = parts.path.strip("/").partition("/")
        if not sentinels or not service:
            raise ValueError(f"{shown!r}: a sentinel URL names its sentinels and service: {FORMS}")
        return StoreUrl(url, shown, sentinels, service, _db(db, shown), username, password)
    raise ValueError(f"{shown!r}: unknown scheme {parts.scheme!r}; write {FORMS}")
