"""How this instance's link to the shared store is doing: connected, unreachable, recovering.

Three states, so that operators and the code agree on what lbhealth does at each moment:

- ``connected``: the store answers and this instance is in sync with it: probes are
  shared through leases, results and admin changes arrive pushed;
- ``unreachable``: a store call failed or hung past its timeout: this instance probes
  every check on its own and serves the last admin state it knew;
- ``recovering``: the store answers again (or for the first time, at start): this
  instance subscribes again and reloads the shared admin state and verdicts; it
  still probes on its own until that is done.

Every transition is logged (one line, warning when the store is lost) and counted
(:attr:`StoreHealth.transitions`, exported by ``/metrics``); ``/readyz?verbose``
shows the current state. Pure bookkeeping, no I/O: the link drives it.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Literal, get_args

log = logging.getLogger("lbhealth.store")

State = Literal["connected", "unreachable", "recovering"]
STATES: tuple[State, ...] = get_args(State)


class StoreHealth:
    """The state machine of one instance's store link; starts ``recovering`` (first sync)."""

    def __init__(self, shown: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.shown = shown
        self._clock = clock
        self.state: State = "recovering"
        self.since = clock()
        #: Transitions made, by the state entered.
        self.transitions: Counter[State] = Counter()
        #: Why the store was last lost (safe to show: no secret).
        self.last_error = ""

    @property
    def sharing(self) -> bool:
        """Whether probes and results go through the store now (else: this instance alone)."""
        return self.state == "connected"

    def age(self) -> float:
        """Seconds in the current state."""
        return self._clock() - self.since

    def _move(self, to: State, why: str) -> None:
        if to == self.state:
            return
        previous, self.state, self.since = self.state, to, self._clock()
        self.transitions[to] += 1
        log.log(
            logging.WARNING if to == "unreachable" else logging.INFO,
            "store %s: %s -> %s: %s",
            self.shown,
            previous,
            to,
            why,
            extra={"store": self.shown, "from_state": previous, "to_state": to, "why": why},
        )

    def failed(self, why: str) -> None:
        """A store call failed or timed out: probe alone, keep the last admin state."""
        self.last_error = why
        self._move("unreachable", f"{why}; probing alone, serving the last admin state known")

    def answering(self) -> None:
        """The store answers again: resynchronise before sharing."""
        self._move("recovering", "the store answers; subscribing and reloading the shared state")

    def synced(self) -> None:
        """Subscribed, admin state and verdicts reloaded: share again."""
        self._move("connected", "in sync; probes shared through leases, changes pushed")
