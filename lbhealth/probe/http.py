"""One bounded HTTP probe of one target, as an :class:`Observation`.

Every failure is data here, never an exception: a refused connection, a
timeout, a TLS error, broken HTTP or an oversized body each become an
Observation with a precise ``error`` that the caller turns into DOWN.

Bounds, because a backend may be hostile or broken:
- a hard total deadline per probe (``asyncio.timeout``), so a backend that
  drips one byte a second cannot hold a probe past its budget;
- at most ``max_body`` bytes read off the wire *and* at most ``max_body`` bytes
  after decompression (we decode gzip/deflate ourselves with a bounded
  decompressor, so a gzip bomb costs kilobytes, not gigabytes);
- at most ``MAX_HEADER_BYTES`` of response headers (httpcore itself stops at
  100 KiB; we refuse well-formed heads over 64 KiB too, as IIS and Tomcat do);
- redirects are not followed unless the check asks, and then at most 5.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl
import time
import zlib

import httpx

from lbhealth import __version__
from lbhealth.interpret import Answer
from lbhealth.probe.observation import HttpTarget, Observation

USER_AGENT = f"lbhealth/{__version__}"
MAX_REDIRECTS = 5
MAX_HEADER_BYTES = 64 * 1024


class TooManyRedirects(Exception):
    """A followed redirect chain went past MAX_REDIRECTS."""


class BodyTooLarge(Exception):
    """The body went past the configured cap."""


class HeadersTooLarge(Exception):
    """The response head went past ``MAX_HEADER_BYTES``."""


def _head_size(response: httpx.Response) -> int:
    return sum(len(k) + len(v) + 4 for k, v in response.headers.raw)


class _BoundedDecoder:
    """Content-decoding with a cap on the *inflated* size (gzip-bomb safe)."""

    def __init__(self, encoding: str, cap: int) -> None:
        self.cap = cap
        self.size = 0
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self._zlib = None
        elif encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._zlib = zlib.decompressobj()
        else:
            raise ValueError(f"unsupported Content-Encoding {encoding!r}")
        self.chunks: list[bytes] = []

    def feed(self, data: bytes) -> None:
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
            raise ValueError(f"corrupt compressed body: {exc}") from None

    def _add(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.cap:
            raise BodyTooLarge
        self.chunks.append(data)

    def body(self) -> bytes:
        return b"".join(self.chunks)


def new_client(*, verify: bool | str = True, max_connections: int = 100) -> httpx.AsyncClient:
    """A client for probes. One is shared by all checks with the same TLS settings.

    Keep-alive is off: a health probe must see whether a *new* connection
    works, and a pooled socket to a backend that has since died would hide that.
    """
    ctx: ssl.SSLContext | bool
    if verify is False:
        ctx = False
    elif isinstance(verify, str):
        ctx = ssl.create_default_context(cafile=verify)
    else:
        ctx = ssl.create_default_context()
    return httpx.AsyncClient(
        verify=ctx,
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=0),
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
        trust_env=False,
    )


def _connect_error_detail(exc: BaseException, url: httpx.URL) -> tuple[str, str]:
    """Name the real cause of an httpx connect failure, looking through causes."""
    seen: BaseException | None = exc
    hostport = f"{url.host}:{url.port or (443 if url.scheme == 'https' else 80)}"
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
            return "dns", f"cannot resolve host {url.host!r}"
        if isinstance(seen, OSError) and seen.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return "unreachable", f"no route to {hostport}"
        seen = seen.__cause__ or seen.__context__
    text = str(exc) or type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text:
        return "tls", f"TLS error with {hostport}: {text}"
    return "connect", f"cannot connect to {hostport}: {text}"


_HEADERS_TOO_LARGE = ("too-large", f"response headers larger than the {MAX_HEADER_BYTES}-byte cap")


def _protocol_error_detail(text: str) -> tuple[str, str]:
    """Name what was wrong with the bytes, from h11's (sometimes misleading) message."""
    text = text or "malformed HTTP"
    if "without sending complete message body" in text or "incomplete" in text:
        return "truncated", f"connection closed mid-body: {text}"
    if "disconnected without sending a response" in text:
        return "closed", "connection closed before any response"
    if "Receive buffer too long" in text:
        return _HEADERS_TOO_LARGE
    if "illegal request line" in text:
        # h11 says "request line" when a *response* starts with non-HTTP bytes.
        return "bad-http", "not an HTTP response: the backend sent no valid status line"
    return "bad-http", f"invalid HTTP from backend: {text}"


async def probe_http(
    client: httpx.AsyncClient, target: HttpTarget, timeout: float, max_body: int
) -> Observation:
    """GET the target within ``timeout`` seconds, reading at most ``max_body`` bytes."""
    start = time.monotonic()
    phase = "waiting for the response"
    received = 0

    def done(answer: Answer | None, error: str | None, detail: str) -> Observation:
        return Observation(answer, error, detail, time.monotonic() - start, received)

    url = httpx.URL(target.url)
    try:
        async with asyncio.timeout(timeout):
            request = client.build_request(
                "GET", url, headers=list(target.headers), timeout=httpx.Timeout(timeout)
            )
            response = await client.send(request, stream=True)
            try:
                # Redirects are followed here rather than by httpx, which would read
                # each redirect's whole body into memory, past any cap.
                hops = 0
                while target.follow_redirects and response.next_request is not None:
                    if hops == MAX_REDIRECTS:
                        raise TooManyRedirects
                    next_request = response.next_request
                    await response.aclose()
                    hops += 1
                    response = await client.send(next_request, stream=True)
                if _head_size(response) > MAX_HEADER_BYTES:
                    raise HeadersTooLarge
                phase = "reading the body"
                decoder = _BoundedDecoder(response.headers.get("content-encoding", ""), max_body)
                async for chunk in response.aiter_raw():
                    received += len(chunk)
                    if received > max_body:
                        raise BodyTooLarge
                    decoder.feed(chunk)
            finally:
                await response.aclose()
    except TimeoutError:
        return done(None, "timeout", f"no complete answer within {timeout:g}s ({phase})")
    except httpx.TimeoutException:
        return done(None, "timeout", f"no complete answer within {timeout:g}s ({phase})")
    except BodyTooLarge:
        return done(None, "too-large", f"body larger than the {max_body}-byte cap")
    except HeadersTooLarge:
        return done(None, *_HEADERS_TOO_LARGE)
    except TooManyRedirects:
        return done(None, "redirects", f"more than {MAX_REDIRECTS} redirects")
    except httpx.ConnectError as exc:
        return done(None, *_connect_error_detail(exc, url))
    except httpx.RemoteProtocolError as exc:
        return done(None, *_protocol_error_detail(str(exc)))
    except httpx.ReadError as exc:
        why = f": {exc}" if str(exc) else ""
        return done(None, "reset", f"connection reset by the backend while {phase}{why}")
    except httpx.DecodingError as exc:
        return done(None, "bad-http", f"undecodable body: {exc}")
    except ValueError as exc:
        return done(None, "bad-http", str(exc))
    except httpx.HTTPError as exc:
        return done(None, "http-error", f"{type(exc).__name__}: {exc}")
    headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw)
    answer = Answer(status=response.status_code, headers=headers, body=decoder.body())
    return done(answer, None, f"HTTP {response.status_code}")
