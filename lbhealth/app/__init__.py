"""The composition root: the service, its HTTP API, the server protocol and worker processes."""

from lbhealth.app.service import LBHealth, create_app

__all__ = ["LBHealth", "create_app"]
