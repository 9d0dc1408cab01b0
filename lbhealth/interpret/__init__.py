"""Pure interpreters: an HTTP answer and a check's rules in, an :class:`Outcome` out.

One module per check kind, one entry per kind in :data:`INTERPRETERS` (as
blackbox_exporter's prober table). Interpreters do no I/O, read no clock and
log nothing; they never raise, whatever the bytes. The ``tcp`` kind has no
HTTP answer and is judged by the prober.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from lbhealth.interpret.http import interpret_http
from lbhealth.interpret.icm_connections import interpret_icm_connections
from lbhealth.interpret.iis import interpret_iis
from lbhealth.interpret.jboss import interpret_jboss
from lbhealth.interpret.jsp import interpret_jsp
from lbhealth.interpret.rmi_objects import interpret_rmi_objects
from lbhealth.interpret.types import READ_HEADERS, Answer, Interpreter, Rules
from lbhealth.verdict import Outcome

INTERPRETERS: Mapping[str, Interpreter] = MappingProxyType(
    {
        "iis": interpret_iis,
        "jboss": interpret_jboss,
        "jsp": interpret_jsp,
        "rmi-objects": interpret_rmi_objects,
        "icm-connections": interpret_icm_connections,
        "http": interpret_http,
    }
)


def interpret(kind: str, answer: Answer, rules: Rules) -> Outcome:
    """Judge ``answer`` as a ``kind`` check; an unknown kind is a caller's bug (KeyError)."""
    return INTERPRETERS[kind](answer, rules)


__all__ = ["INTERPRETERS", "READ_HEADERS", "Answer", "Interpreter", "Outcome", "Rules", "interpret"]
