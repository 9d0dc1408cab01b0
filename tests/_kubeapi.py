"""A minimal Kubernetes API server on loopback, for Helm's ``lookup`` of a Secret.

It answers what Helm's client asks for a ``lookup "v1" "Secret" ns name``: the core
group's resource list (``/api/v1``) and the Secret itself; everything else is 404.
The Secret's data can be changed between two renders, as a rotation would.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRETS = {
    "kind": "APIResourceList",
    "apiVersion": "v1",
    "groupVersion": "v1",
    "resources": [
        {
            "name": "secrets",
            "singularName": "secret",
            "namespaced": True,
            "kind": "Secret",
            "verbs": ["get", "list"],
        }
    ],
}


@dataclass
class FakeKube:
    """Secrets by ``(namespace, name)``: their ``data`` (base64 values, as the API holds them)."""

    port: int = 0
    secrets: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    @property
    def kubeconfig(self) -> str:
        return (
            "apiVersion: v1\nkind: Config\n"
            f"clusters: [{{name: fake, cluster: {{server: 'http://127.0.0.1:{self.port}'}}}}]\n"
            "users: [{name: me, user: {}}]\n"
            "contexts: [{name: fake, context: {cluster: fake, user: me}}]\n"
            "current-context: fake\n"
        )

    def answer(self, path: str) -> dict[str, object] | None:
        self.requests.append(path)
        if path == "/api/v1":
            return SECRETS
        parts = path.strip("/").split("/")
        if len(parts) == 6 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "secrets":
            data = self.secrets.get((parts[3], parts[5]))
            if data is not None:
                meta = {"name": parts[5], "namespace": parts[3]}
                return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "data": data}
        return None


@contextmanager
def fake_kube() -> Iterator[FakeKube]:
    kube = FakeKube()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = kube.answer(self.path.split("?")[0])
            status = 200 if body is not None else 404
            data = json.dumps(body or {"kind": "Status", "code": 404, "reason": "NotFound"})
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data.encode())

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    kube.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield kube
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
