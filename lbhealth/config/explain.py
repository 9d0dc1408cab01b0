"""``check-config --explain``: the checks an inventory really runs, presets expanded.

After a preset expansion this is the only way to see what was derived, so it
shows each check's target and every option written or derived; credentials
are masked, because a terminal scrollback is not a vault, and names and
targets are cleaned (``clean_reason``), because a terminal obeys what it prints.
"""

from __future__ import annotations

import json

from lbhealth.config.model import Inventory
from lbhealth.text.clean import clean_reason
from lbhealth.text.redact import MASK, sensitive_header

#: Longest check name or target printed.
_FIELD = 500


def explain(inventory: Inventory) -> str:
    """Every node and check the service will run, with the options that differ from defaults.

    After a preset expansion this is the only way to see what was derived,
    so it shows each check's target and every option written or derived.
    """
    lines = []
    for node, spec in inventory.nodes.items():
        lines.append(f"{node} ({spec.role or 'no role'})")
        for name, check in zip(inventory.check_names(node), spec.checks, strict=True):
            options = check.model_dump(
                mode="json", exclude_defaults=True, exclude={"kind", "name", "url", "address"}
            )
            # A terminal scrollback is not a vault: credential headers are masked.
            headers = options.get("headers", {})
            for header in headers:
                if sensitive_header(header):
                    headers[header] = MASK
            extra = "".join(f" {k}={json.dumps(v)}" for k, v in sorted(options.items()))
            shown = (
                f"{clean_reason(name, _FIELD)}: {check.kind} {clean_reason(check.target, _FIELD)}"
            )
            lines.append(f"  {shown}{extra}")
    return "\n".join(lines) + "\n"
