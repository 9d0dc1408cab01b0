"""Prebuilt monitor answers: what ``/health/{node}`` sends, built once per change.

A monitor poll must cost a dict lookup and two ``send`` calls: no routing, no
validation, no encoding. So each node's answer (status code, headers, body
bytes, as ready ASGI messages) is rebuilt when one of its checks reports, and
carries the time after which it must not be served any more: the moment one of
its verdicts turns stale (background mode) or leaves the cache (on-demand mode).
The fast path then falls back to computing the answer, which is always correct.

:func:`lbhealth.answer.monitor_answer` is the one function that turns a node's
verdict and admin state into its answer; the book rebuilds a node's answer when a
check reports and when an operator changes the node's admin state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lbhealth.core.checks import Check
from lbhealth.core.engine import Engine
from lbhealth.serve.answer import STATE_HEADER, MonitorAnswer, monitor_answer
from lbhealth.serve.http import NO_STORE
from lbhealth.store.admin import AdminStore
from lbhealth.store.verdicts import fresh
from lbhealth.text.clean import quoted

_RAW_TEXT_HEADERS = [
    (b"content-type", b"text/plain; charset=utf-8"),
    *((k.encode(), v.encode()) for k, v in NO_STORE.items()),
]
_STATE_HEADER = STATE_HEADER.lower().encode()


Messages = tuple[dict[str, Any], dict[str, Any]]


def unknown_node_text(name: str) -> bytes:
    shown = quoted(name)
    return f"UNKNOWN: no node named {shown} in the inventory; GET /nodes lists them\n".encode()


def text_messages(code: int, body: bytes, state: str | None = None) -> Messages:
    """The two ASGI messages of a plain-text answer (with its state token, if any)."""
    headers = [*_RAW_TEXT_HEADERS, (b"content-length", str(len(body)).encode())]
    if state is not None:
        headers.append((_STATE_HEADER, state.encode()))
    return (
        {"type": "http.response.start", "status": code, "headers": headers},
        {"type": "http.response.body", "body": body},
    )


def answer_messages(answer: MonitorAnswer) -> Messages:
    return text_messages(answer.code, answer.body, answer.served.value)


@dataclass(slots=True)
class Prebuilt:
    """A node's ready answer, valid until ``expires`` (engine clock)."""

    answer: MonitorAnswer
    start: dict[str, Any]
    body: dict[str, Any]
    expires: float


class AnswerBook:
    """Every node's prebuilt answer, kept current by probe reports and admin changes."""

    def __init__(self, engine: Engine, admin: AdminStore) -> None:
        self.engine = engine
        self.admin = admin
        self.answers: dict[str, Prebuilt] = {}
        self.served = ServedCounts()
        engine.listeners.append(self._on_result)
        admin.listeners.append(self.rebuild)

    async def messages(self, node: str) -> Messages:
        """The plain-text answer for ``node``: prebuilt while fresh, else computed, else 404.

        Computing means: stale (background mode) or a probe (on-demand mode).
        """
        prebuilt = self.answers.get(node)
        if prebuilt is not None and fresh(prebuilt.expires, self.engine.clock()):
            self.served.prebuilt += 1
            return prebuilt.start, prebuilt.body
        if node in self.engine.checks:
            self.served.computed += 1
            answer = monitor_answer(await self.engine.node(node), self.admin.get(node))
            return answer_messages(answer)
        self.served.unknown += 1
        return text_messages(404, unknown_node_text(node))

    def reset(self) -> None:
        """After a reload: forget every answer, rebuild those whose checks all have results."""
        self.answers.clear()
        for node in self.engine.checks:
            self.rebuild(node)

    def _on_result(self, check: Check) -> None:
        self.rebuild(check.node)

    def rebuild(self, node: str) -> None:
        """Rebuild a node's answer from its latest results (once each check has one)."""
        engine = self.engine
        checks = engine.checks[node]
        stored = [engine.verdicts.get(c.key) for c in checks]
        if None in stored:
            return
        known = [s for s in stored if s is not None]
        expires = min(s.expires(engine.lifetime(c)) for s, c in zip(known, checks, strict=True))
        verdict = engine.verdict(node, tuple(s.result for s in known))
        answer = monitor_answer(verdict, self.admin.get(node))
        entry = self.answers.get(node)
        if entry is not None and entry.answer == answer:
            entry.expires = expires
        else:
            self.answers[node] = Prebuilt(answer, *answer_messages(answer), expires)


@dataclass(slots=True)
class ServedCounts:
    """Plain counters of ``/health/{node}`` answers, cheap enough for the fast path."""

    prebuilt: int = 0
    computed: int = 0
    unknown: int = 0
