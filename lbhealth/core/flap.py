"""Optional rise/fall per check: consecutive results needed to change state.

A self-restarting service (a JBoss that bounces, an EAAS that the services
server restarts) can fail one probe and be fine the next. With ``fall: 2`` one
failed probe does not flip the check; with ``rise: 2`` one good probe does not
bring it back. Off by default (1/1): load balancers that have their own
rise/fall (HAProxy, F5) should use theirs, not a second layer; this is for the
consumers that have none (curl, dashboards, Kubernetes).

:func:`step` is the whole state machine, pure; :class:`Flap` keeps one state
per check and rewrites a held result so the reason says what is going on.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from lbhealth.text.clean import clean_reason
from lbhealth.verdict import CheckResult, Status

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class FlapState:
    """The effective status and how many consecutive raw results disagree with it.

    ``adopted``: taken from a result decided elsewhere (:meth:`Flap.adopt`), not
    from this process's own probes.
    """

    status: Status
    streak: int = 0
    adopted: bool = False


def step(state: FlapState | None, raw: Status, rise: int, fall: int) -> FlapState:
    """The next state after one raw result. The first result sets the state directly."""
    if state is None or raw is state.status:
        return FlapState(raw)
    needed = rise if raw is Status.UP else fall
    streak = state.streak + 1
    return FlapState(raw) if streak >= needed else FlapState(state.status, streak)


class Flap:
    """Applies each check's rise/fall to its stream of results."""

    def __init__(self) -> None:
        self._states: dict[Key, FlapState] = {}
        self._effective: dict[Key, CheckResult] = {}

    def changing(self, key: Key) -> bool:
        """A change is building up (some results disagree with the served state)."""
        state = self._states.get(key)
        return state is not None and state.streak > 0

    def forget(self, key: Key) -> None:
        """Drop a check's history (it changed or went away on a reload)."""
        self._states.pop(key, None)
        self._effective.pop(key, None)

    def adopt(self, key: Key, result: CheckResult) -> None:
        """Take a result decided elsewhere (another instance) as the current state.

        Its streak is not known here: a change starts to build up afresh from it.
        """
        self._states[key] = FlapState(result.status, adopted=True)
        self._effective[key] = result

    def resume(self, key: Key) -> None:
        """This process probes the check again after others did (a lease taken over).

        A state built from its own probes is stale then, maybe hours old: with
        ``fall: 3``, a last UP seen here would hold the first DOWN as UP although
        the others reported DOWN. It is dropped, and the next result sets the
        state directly. A state adopted from the others' results is current: kept.
        """
        state = self._states.get(key)
        if state is not None and not state.adopted:
            self.forget(key)

    def apply(self, key: Key, rise: int, fall: int, result: CheckResult) -> CheckResult:
        """The result to serve: ``result`` itself, or the held one while a change builds up."""
        state = step(self._states.get(key), result.status, rise, fall)
        self._states[key] = state
        if state.status is result.status:
            self._effective[key] = result
            return result
        held = self._effective[key]
        needed = rise if result.status is Status.UP else fall
        note = f"{result.status.value} {state.streak} of {needed} needed"
        shown = f"{held.reason} ({note})" if held.reason else note
        return dataclasses.replace(
            result,
            status=held.status,
            reason=clean_reason(shown),
            details={**held.details, "held": note, "latest_reason": result.reason},
        )
