"""The operator's inventory: settings, nodes and checks, validated completely at load time.

``model`` holds every validation rule, ``load`` reads YAML and reports every
error with its field path, ``presets`` derives the checks a vendor guide
prescribes, ``roles`` is the cluster vocabulary, ``units`` parses durations
and sizes.
"""

from lbhealth.config.errors import ConfigError
from lbhealth.config.load import load_inventory, parse_inventory
from lbhealth.config.model import (
    HTTP_KINDS,
    MAX_ADMIN_REASON,
    AdminState,
    CheckSpec,
    Inventory,
    NodeSpec,
    Settings,
    split_address,
)
from lbhealth.config.roles import NODE_NAME, ROLES, START_ORDER, TCP_ROLES, Role

__all__ = [
    "HTTP_KINDS",
    "MAX_ADMIN_REASON",
    "NODE_NAME",
    "ROLES",
    "START_ORDER",
    "TCP_ROLES",
    "AdminState",
    "CheckSpec",
    "ConfigError",
    "Inventory",
    "NodeSpec",
    "Role",
    "Settings",
    "load_inventory",
    "parse_inventory",
    "split_address",
]
