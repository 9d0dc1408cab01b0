"""From inventory entries to runnable checks, and from observations to results.

:func:`judge` is pure: it maps what a probe saw to a CheckResult, so the whole
verdict logic is testable without a network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lbhealth.config import CheckSpec, Inventory, split_address
from lbhealth.interpret import Rules, interpret
from lbhealth.probe import HttpTarget, Observation
from lbhealth.redact import redact, secret_values
from lbhealth.verdict import CheckResult, Outcome, Status, clean_reason


@dataclass(frozen=True, slots=True)
class Check:
    """One check of one node, ready to run: options resolved, regexes compiled."""

    node: str
    name: str
    spec: CheckSpec
    timeout: float
    rules: Rules

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
    default_timeout = inventory.settings.timeout
    built: dict[str, list[Check]] = {}
    for node, spec in inventory.nodes.items():
        names = inventory.check_names(node)
        built[node] = [
            Check(
                node=node,
                name=name,
                spec=check,
                timeout=check.timeout or default_timeout,
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


def judge(check: Check, observation: Observation, checked_at: float) -> CheckResult:
    """Turn what a probe saw into the check's verdict.

    No answer at all is DOWN with the prober's precise reason (refused, timeout,
    TLS...). An answer is read by the check kind's interpreter.
    """
    if check.kind == "tcp":
        outcome = (
            Outcome.up(observation.detail)
            if observation.error is None
            else Outcome.down(observation.detail)
        )
    elif observation.answer is None:
        outcome = Outcome.down(observation.detail)
    else:
        outcome = interpret(check.kind, observation.answer, check.rules)
    return CheckResult(
        name=check.name,
        kind=check.kind,
        target=check.target,
        status=outcome.status,
        reason=redact(outcome.reason, check.secrets),
        latency=observation.elapsed,
        checked_at=checked_at,
        details=outcome.details,
    )


def internal_failure(check: Check, exc: BaseException, checked_at: float) -> CheckResult:
    """A bug in lbhealth is DOWN for that check, never a 500 for the monitor."""
    return CheckResult(
        name=check.name,
        kind=check.kind,
        target=check.target,
        status=Status.DOWN,
        reason=redact(
            clean_reason(f"internal error while checking: {type(exc).__name__}: {exc}"),
            check.secrets,
        ),
        latency=0.0,
        checked_at=checked_at,
    )
