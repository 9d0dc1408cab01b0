"""Load-balancer integrations: HAProxy's agent-check protocol and config export (HAProxy, F5)."""
