"""The only network I/O towards backends: one bounded probe -> an :class:`Observation`.

One module per protocol (``http``, on ``wire``; ``tcp``), as blackbox_exporter's probers:
a probe never raises and never writes an HTTP response; it reports what it saw.
"""

from lbhealth.probe.http import ProbeClient, new_client, probe_http
from lbhealth.probe.observation import HttpTarget, Observation
from lbhealth.probe.tcp import probe_tcp

__all__ = ["HttpTarget", "Observation", "ProbeClient", "new_client", "probe_http", "probe_tcp"]
