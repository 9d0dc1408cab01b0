"""Prebuilt monitor answers: what ``/health/{node}`` sends, built once per change.

A monitor poll must cost a dict lookup and two ``send`` calls: no routing, no
validation, no encoding. So each node's answer (status code, headers, body
bytes, as ready ASGI messages) is rebuilt when one of its checks reports, and
carries the time after which it must not be served any more: the moment one of
its verdicts turns stale (background mode) or leaves the cache (on-demand mode).
The fast path then falls back to computing the answer, which is always correct.

:func:`health_text` is the one function that turns a node's state into its
answer; anything else that changes the answer (e.g. an operator's drain) belongs
in its arguments, and its owner calls :meth:`AnswerBook.rebuild` on change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lbhealth.checks import Check
from lbhealth.engine import Engine, NodeVerdict
from lbhealth.verdict import CheckResult, Status, http_code

_RAW_TEXT_HEADERS = [
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"cache-control", b"no-store"),
]


def health_text(verdict: NodeVerdict) -> tuple[int, bytes]:
    """The monitor answer: ``UP`` or ``DOWN: <reason>``, first word always the status."""
    if verdict.status is Status.UP:
        return 200, b"UP\n"
    return http_code(verdict.status), f"DOWN: {verdict.reason}\n".encode()


def text_messages(code: int, body: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """The two ASGI messages of a plain-text answer."""
    headers = [*_RAW_TEXT_HEADERS, (b"content-length", str(len(body)).encode())]
    return (
        {"type": "http.response.start", "status": code, "headers": headers},
        {"type": "http.response.body", "body": body},
    )


@dataclass(slots=True)
class Prebuilt:
    """A node's ready answer, valid until ``expires`` (engine clock)."""

    text: tuple[int, bytes]
    start: dict[str, Any]
    body: dict[str, Any]
    expires: float


class AnswerBook:
    """Every node's prebuilt answer, kept current by the engine's probe reports."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.answers: dict[str, Prebuilt] = {}
        settings = engine.inventory.settings
        self._lifetime: Callable[[Check], float] = (
            (lambda check: check.max_age) if engine.background else (lambda _: settings.cache_ttl)
        )
        engine.observers.append(self._on_probe)

    def _on_probe(self, check: Check, _result: CheckResult, _kind: str) -> None:
        self.rebuild(check.node)

    def rebuild(self, node: str) -> None:
        """Rebuild a node's answer from its latest results (once each check has one)."""
        engine = self.engine
        checks = engine.checks[node]
        if any(c.key not in engine.latest for c in checks):
            return
        expires = min(engine.probed_at[c.key] + self._lifetime(c) for c in checks)
        text = health_text(engine.verdict(node, tuple(engine.latest[c.key] for c in checks)))
        entry = self.answers.get(node)
        if entry is not None and entry.text == text:
            entry.expires = expires
        else:
            self.answers[node] = Prebuilt(text, *text_messages(*text), expires)


@dataclass(slots=True)
class Served:
    """Plain counters of ``/health/{node}`` answers, cheap enough for the fast path."""

    prebuilt: int = 0
    computed: int = 0
    unknown: int = 0
