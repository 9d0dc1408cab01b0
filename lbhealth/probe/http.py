"""One bounded HTTP probe of one target, as an :class:`Observation`.

Every failure is data here, never an exception: a refused connection, a
timeout, a TLS error, broken HTTP or an oversized body each become an
Observation with a precise ``error`` that the caller turns into DOWN.

Each probe is a new client, as a load balancer's check is: a new connection
(a pooled socket to a backend that has since died would hide that),
``Connection: close``, and no cookies but the configured ones (those a
redirect sets are carried along its chain only). The exchange itself is
:mod:`lbhealth.probe.wire`.

Bounds, because a backend may be hostile or broken:
- a hard total deadline per probe (``asyncio.timeout``), so a backend that
  drips one byte a second cannot hold a probe past its budget;
- at most ``max_body`` bytes read off the wire *and* at most ``max_body`` bytes
  after decompression (we decode gzip/deflate ourselves with a bounded
  decompressor, so a gzip bomb costs kilobytes, not gigabytes);
- at most ``MAX_HEADER_BYTES`` of response headers, as IIS and Tomcat refuse;
- redirects are not followed unless the check asks, and then at most 5; a
  redirect's body is never read.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import socket
import ssl
import time
import zlib
from types import TracebackType
from urllib.parse import quote, unquote, urljoin, urlsplit

from lbhealth import __version__
from lbhealth.interpret import Answer
from lbhealth.probe.observation import HttpTarget, Observation
from lbhealth.probe.wire import REDIRECTS, Exchange, Failure
from lbhealth.text.redact import sensitive_header

USER_AGENT = f"lbhealth/{__version__}"
MAX_REDIRECTS = 5
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PATH_SAFE = "/%;:@&=+$,!~*'()-._"
_QUERY_SAFE = _PATH_SAFE + "?"


class _BoundedDecoder:
    """Content-decoding with a cap on the raw *and* the inflated size (gzip-bomb safe)."""

    def __init__(self, encoding: str, cap: int) -> None:
        self.cap = cap
        self.raw = 0
        self.size = 0
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self._zlib = None
        elif encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._zlib = zlib.decompressobj()
        else:
            raise Failure("bad-http", f"unsupported Content-Encoding {encoding!r}")
        self.chunks: list[bytes] = []

    def feed(self, data: bytes) -> None:
        self.raw += len(data)
        if self.raw > self.cap:
            self._too_large()
        if self._zlib is None:
            self._add(data)
            return
        try:
            # max_length bounds each step: never inflate more than one byte past the cap.
            out = self._zlib.decompress(data, self.cap - self.size + 1)
            self._add(out)
            while self._zlib.unconsumed_tail:
                out = self._zlib.decompress(self._zlib.unconsumed_tail, self.cap - self.size + 1)
                self._add(out)
        except zlib.error as exc:
            raise Failure("bad-http", f"corrupt compressed body: {exc}") from None

    def _add(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.cap:
            self._too_large()
        self.chunks.append(data)

    def _too_large(self) -> None:
        raise Failure("too-large", f"body larger than the {self.cap}-byte cap")

    def body(self) -> bytes:
        return b"".join(self.chunks)


class ProbeClient:
    """What the probes of one TLS profile share: the TLS context, built once.

    Loading a CA bundle costs milliseconds; nothing else is shared, since each
    probe has its own connection (:func:`probe_http`).
    """

    def __init__(self, tls: ssl.SSLContext) -> None:
        self.tls = tls

    async def aclose(self) -> None:
        """Nothing to release: no probe outlives its call."""

    async def __aenter__(self) -> ProbeClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def new_client(*, verify: bool | str = True) -> ProbeClient:
    """A client for probes: one is shared by all checks with the same TLS settings."""
    if verify is False:
        tls = ssl.create_default_context()
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
    elif isinstance(verify, str):
        tls = ssl.create_default_context(cafile=verify)
    else:
        tls = ssl.create_default_context()
    return ProbeClient(tls)


def _connect_error_detail(exc: BaseException, host: str, port: int) -> tuple[str, str]:
    """Name the real cause of a connect failure, looking through causes."""
    seen: BaseException | None = exc
    hostport = f"{host}:{port}"
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return "tls", f"TLS certificate rejected by {hostport}: {seen.verify_message}"
        if isinstance(seen, ssl.SSLError):
            return "tls", f"TLS handshake with {hostport} failed: {seen.reason or seen}"
        if isinstance(seen, ConnectionRefusedError) or (
            isinstance(seen, OSError) and seen.errno == errno.ECONNREFUSED
        ):
            return "refused", f"connection refused by {hostport}"
        if isinstance(seen, socket.gaierror):
            return "dns", f"cannot resolve host {host!r}"
        if isinstance(seen, OSError) and seen.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return "unreachable", f"no route to {hostport}"
        seen = seen.__cause__ or seen.__context__
    text = str(exc) or type(exc).__name__
    return "connect", f"cannot connect to {hostport}: {text}"


class _Request:
    """One GET: where to connect, and the bytes to send."""

    def __init__(self, url: str, headers: dict[str, tuple[str, str]]) -> None:
        parts = urlsplit(url)
        self.url = url
        self.https = parts.scheme == "https"
        try:
            self.host = (parts.hostname or "").encode("idna").decode("ascii")
        except UnicodeError:
            raise Failure("dns", f"cannot resolve host {parts.hostname!r}") from None
        self.port = parts.port or _DEFAULT_PORTS[parts.scheme]
        self.origin = (parts.scheme, self.host, self.port)
        netloc = f"[{self.host}]" if ":" in self.host else self.host
        if parts.port is not None and parts.port != _DEFAULT_PORTS[parts.scheme]:
            netloc += f":{parts.port}"
        self.headers = {"host": ("Host", netloc), **headers}
        if parts.username is not None:
            # As browsers and httpx: URL credentials are sent as Basic auth.
            userinfo = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            basic = base64.b64encode(userinfo.encode()).decode("ascii")
            self.headers["authorization"] = ("Authorization", f"Basic {basic}")
        target = quote(parts.path or "/", safe=_PATH_SAFE)
        if parts.query:
            target += "?" + quote(parts.query, safe=_QUERY_SAFE)
        self.target = target

    def encode(self) -> bytes:
        lines = [f"GET {self.target} HTTP/1.1"]
        for name, value in self.headers.values():
            if any(c in name + value for c in "\r\n\0"):
                raise Failure("bad-http", f"header {name!r} holds a line break or NUL")
            lines.append(f"{name}: {value}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")

    def redirected(self, location: str, cookies: dict[str, str]) -> _Request:
        """The next request of a redirect chain, with httpx's (and browsers') header rules."""
        url = urljoin(self.url, location)
        headers = dict(self.headers)
        del headers["host"]
        headers.pop("cookie", None)  # only what the chain itself set
        following = _Request(url, headers)
        if following.origin != self.origin and not (
            following.https and not self.https and following.host == self.host
        ):  # credentials stay with their origin: Authorization and every header like it
            for name in [n for n in following.headers if sensitive_header(n)]:
                del following.headers[name]
        if cookies and following.host == self.host:
            jar = "; ".join(f"{name}={value}" for name, value in cookies.items())
            following.headers["cookie"] = ("Cookie", jar)
        return following


def _initial_headers(target: HttpTarget) -> dict[str, tuple[str, str]]:
    headers = {
        "user-agent": ("User-Agent", USER_AGENT),
        "accept": ("Accept", "*/*"),
        "accept-encoding": ("Accept-Encoding", "gzip, deflate"),
        "connection": ("Connection", "close"),
    }
    for name, value in target.headers:
        headers[name.lower()] = (name, value)
    return headers


def _set_cookies(exchange: Exchange, cookies: dict[str, str]) -> None:
    """Keep the cookies a redirect sets, for the rest of its chain."""
    for name, value in exchange.headers:
        if name.lower() == b"set-cookie":
            pair = value.decode("latin-1").split(";", 1)[0]
            key, sep, val = pair.partition("=")
            if sep and key.strip():
                cookies[key.strip()] = val.strip()


async def _send(client: ProbeClient, request: _Request, max_body: int, follow: bool) -> Exchange:
    """Connect, send ``request`` and wait for its whole response (or its redirect head)."""

    def sink(headers: list[tuple[bytes, bytes]]) -> _BoundedDecoder:
        encoding = next((v for k, v in headers if k.lower() == b"content-encoding"), b"")
        return _BoundedDecoder(encoding.decode("latin-1"), max_body)

    exchange = Exchange(request.encode(), sink, follow)
    loop = asyncio.get_running_loop()
    try:
        await loop.create_connection(
            lambda: exchange,
            request.host,
            request.port,
            ssl=client.tls if request.https else None,
            server_hostname=request.host if request.https else None,
        )
    except (OSError, ssl.SSLError) as exc:
        raise Failure(*_connect_error_detail(exc, request.host, request.port)) from None
    return exchange


async def probe_http(
    client: ProbeClient, target: HttpTarget, timeout: float, max_body: int
) -> Observation:
    """GET the target within ``timeout`` seconds, reading at most ``max_body`` bytes."""
    start = time.monotonic()
    exchange: Exchange | None = None

    def done(answer: Answer | None, error: str | None, detail: str) -> Observation:
        received = exchange.received if exchange is not None else 0
        return Observation(answer, error, detail, time.monotonic() - start, received)

    try:
        async with asyncio.timeout(timeout):
            request = _Request(target.url, _initial_headers(target))
            cookies: dict[str, str] = {}
            for hops in range(MAX_REDIRECTS + 2):
                exchange = await _send(client, request, max_body, target.follow_redirects)
                await exchange.done
                location = exchange.location() if exchange.status in REDIRECTS else None
                if not target.follow_redirects or location is None:
                    break
                if hops == MAX_REDIRECTS:
                    raise Failure("redirects", f"more than {MAX_REDIRECTS} redirects")
                _set_cookies(exchange, cookies)
                request = request.redirected(location, cookies)
    except TimeoutError:
        phase = exchange.phase if exchange is not None else "waiting for the response"
        return done(None, "timeout", f"no complete answer within {timeout:g}s ({phase})")
    except Failure as failure:
        return done(None, failure.kind, failure.detail)
    finally:
        if exchange is not None:
            exchange.close()
    assert exchange is not None and exchange.sink is not None
    headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in exchange.headers)
    answer = Answer(status=exchange.status, headers=headers, body=exchange.sink.body())
    return done(answer, None, f"HTTP {exchange.status}")
