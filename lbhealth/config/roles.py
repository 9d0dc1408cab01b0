"""The EIM/WIM vocabulary: server roles, their start order, and node names.

One place for it, so the inventory's validation, the preset, the cluster view
and the load-balancer export cannot disagree on what a role is.
"""

from __future__ import annotations

import re
from typing import Literal, get_args

#: The server roles of an EIM/WIM cluster.
Role = Literal["database", "file", "messaging", "services", "application", "web"]
#: Every role, in the guide's start order.
ROLES: tuple[Role, ...] = get_args(Role)
#: The guide's start order; roles in one tier start in parallel.
START_ORDER: tuple[tuple[Role, ...], ...] = (
    ("database",),
    ("file",),
    ("messaging",),
    ("services", "application"),
    ("web",),
)
#: Roles checked by a TCP connect (SQL Server, SMB): they serve no HTTP to interpret,
#: and a load balancer forwards their traffic as TCP.
TCP_ROLES: tuple[Role, ...] = ("database", "file")

#: Node names appear in URL paths and log lines; keeping them to a safe
#: alphabet means a request path can never smuggle anything else in.
NODE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
