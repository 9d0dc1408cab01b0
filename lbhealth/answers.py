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

from lbhealth.admin import AdminStore
from lbhealth.answer import STATE_HEADER, MonitorAnswer, monitor_answer
from lbhealth.checks import Check
from lbhealth.engine import Engine
from lbhealth.routing import NO_STORE
from lbhealth.verdict import CheckResult

_RAW_TEXT_HEADERS = [
    (b"content-type", b"text/plain; charset=utf-8"),
    *((k.encode(), v.encode()) for k, v in NO_STORE.items()),
]
_STATE_HEADER = STATE_HEADER.lower().encode()


def text_messages(
    code: int, body: bytes, state: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The two ASGI messages of a plain-text answer (with its state token, if any)."""
    headers = [*_RAW_TEXT_HEADERS, (b"content-length", str(len(body)).encode())]
    if state is not None:
        headers.append((_STATE_HEADER, state.encode()))
    return (
        {"type": "http.response.start", "status": code, "headers": headers},
        {"type": "http.response.body", "body": body},
    )


def answer_messages(answer: MonitorAnswer) -> tuple[dict[str, Any], dict[str, Any]]:
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
        engine.observers.append(self._on_probe)
        admin.listeners.append(self.rebuild)

    def reset(self) -> None:
        """After a reload: forget every answer, rebuild those whose checks all have results."""
        self.answers.clear()
        for node in self.engine.checks:
            self.rebuild(node)

    def _lifetime(self, check: Check) -> float:
        """How long a verdict may be served: read from the current config (reloads change it)."""
        if self.engine.background:
            return check.max_age
        return self.engine.inventory.settings.cache_ttl

    def _on_probe(self, check: Check, _result: CheckResult, _kind: str) -> None:
        self.rebuild(check.node)

    def rebuild(self, node: str) -> None:
        """Rebuild a node's answer from its latest results (once each check has one)."""
        engine = self.engine
        checks = engine.checks[node]
        if any(c.key not in engine.latest for c in checks):
            return
        expires = min(engine.probed_at[c.key] + self._lifetime(c) for c in checks)
        verdict = engine.verdict(node, tuple(engine.latest[c.key] for c in checks))
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
