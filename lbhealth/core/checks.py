"""From inventory entries to runnable checks, and from observations to results.

:func:`judge` maps what a probe saw to a CheckResult with no I/O, so the whole
verdict logic is testable without a network; given the engine's
:class:`~lbhealth.core.readings.Readings`, it also remembers the answer it read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from lbhealth.config import CheckSpec, Inventory, split_address
from lbhealth.core.readings import Readings
from lbhealth.interpret import Rules, interpret
from lbhealth.probe import HttpTarget, Observation
from lbhealth.store.lease import LEASE_MARGIN
from lbhealth.text.clean import clean_reason
from lbhealth.text.redact import redact, redact_data, secret_values
from lbhealth.verdict import CheckResult, Outcome, Status


@dataclass(frozen=True, slots=True)
class Check:
    """One check of one node, ready to run: options resolved, regexes compiled."""

    node: str
    name: str
    spec: CheckSpec
    timeout: float
    rules: Rules
    #: Background mode: least seconds between two probes, and the age past which
    #: the latest verdict no longer counts (it is served as DOWN ``stale``).
    interval: float
    max_age: float

    @property
    def key(self) -> tuple[str, str]:
        return (self.node, self.name)

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def target(self) -> str:
        return self.spec.target

    def http_target(self) -> HttpTarget:
        assert self.spec.url is not None
        return HttpTarget(
            url=self.spec.url,
            headers=tuple(self.spec.headers.items()),
            follow_redirects=self.spec.follow_redirects,
        )

    def tcp_target(self) -> tuple[str, int]:
        assert self.spec.address is not None
        return split_address(self.spec.address)

    @property
    def host(self) -> str:
        """The backend host this check loads (per-host probe limits key on it)."""
        if self.spec.url is not None:
            return urlsplit(self.spec.url).hostname or ""
        return self.tcp_target()[0]

    @property
    def secrets(self) -> tuple[str, ...]:
        """Configured credentials that no reason may quote (backends echo requests)."""
        return secret_values(self.spec.url, self.spec.headers)

    @property
    def tls_profile(self) -> bool | str:
        """The TLS settings this check needs from its shared HTTP client."""
        if not self.spec.tls_verify:
            return False
        return str(self.spec.ca_file) if self.spec.ca_file else True


def _compile(pattern: str | None) -> re.Pattern[str] | None:
    return re.compile(pattern) if pattern is not None else None


def build_checks(inventory: Inventory) -> dict[str, list[Check]]:
    """Every node's checks, in inventory order, with settings defaults applied."""
    settings = inventory.settings
    # Sharing a store, a dead lease holder's successor needs up to a lease margin more.
    takeover = LEASE_MARGIN if settings.store is not None else 0.0
    built: dict[str, list[Check]] = {}
    for node, spec in inventory.nodes.items():
        names = inventory.check_names(node)
        built[node] = [
            Check(
                node=node,
                name=name,
                spec=check,
                timeout=(timeout := check.timeout or settings.timeout),
                interval=(interval := check.interval or settings.interval),
                max_age=settings.max_age or 3 * interval + timeout + takeover,
                rules=Rules(
                    expect_status=check.expect_status,
                    expect=_compile(check.expect),
                    reject=_compile(check.reject),
                    require=check.require,
                ),
            )
            for name, check in zip(names, spec.checks, strict=True)
        ]
    return built


def judge(
    check: Check, observation: Observation, checked_at: float, readings: Readings | None = None
) -> CheckResult:
    """Turn what a probe saw into the check's verdict.

    No answer at all is DOWN with the prober's precise reason (refused, timeout,
    TLS...). An answer is read by the check kind's interpreter, through
    ``readings`` when given (an answer identical to the check's last one is not
    read again: same outcome, less CPU).

    Whatever quotes the backend (reason, details) is redacted; the prober's
    detail before :class:`Outcome` shortens it, so no cut splits a secret.
    """
    secrets = check.secrets
    detail = redact(observation.detail, secrets)
    if check.kind == "tcp":
        outcome = Outcome.up(detail) if observation.error is None else Outcome.down(detail)
    elif observation.answer is None:
        outcome = Outcome.down(detail)
    else:
        answer, kind, rules = observation.answer, check.kind, check.rules
        outcome = (
            interpret(kind, answer, rules)
            if readings is None
            else readings.outcome(check.key, kind, answer, rules)
        )
    return CheckResult(
        name=check.name,
        kind=check.kind,
        target=check.target,
        status=outcome.status,
        reason=redact(outcome.reason, secrets),
        latency=observation.elapsed,
        checked_at=checked_at,
        details=redact_data(outcome.details, secrets),
    )


def _down(check: Check, reason: str, checked_at: float) -> CheckResult:
    return CheckResult(
        name=check.name,
        kind=check.kind,
        target=check.target,
        status=Status.DOWN,
        reason=clean_reason(redact(reason, check.secrets)),
        latency=0.0,
        checked_at=checked_at,
    )


def internal_failure(check: Check, exc: BaseException, checked_at: float) -> CheckResult:
    """A bug in lbhealth is DOWN for that check, never a 500 for the monitor."""
    return _down(check, f"internal error while checking: {type(exc).__name__}: {exc}", checked_at)


def not_probed_yet(check: Check, now: float) -> CheckResult:
    """Background mode before a check's first probe: DOWN, since nothing says it is UP."""
    return _down(check, "not probed yet", now)


def stale(check: Check, latest: CheckResult, age: float) -> CheckResult:
    """A verdict older than ``max_age`` (backend stuck past its timeout, scheduler
    starved) is DOWN: the last word from a backend is no evidence it is UP now."""
    return _down(
        check,
        f"stale: last verdict ({latest.status.value}) is {age:.0f}s old,"
        f" max_age is {check.max_age:g}s",
        latest.checked_at,
    )
