"""TEST DOUBLE for Docker Hub's registry: no registry can be reached from the CI machines.

It serves, over the distribution API, the tags the definitions in containers/ name, each
as a multi-platform index whose digest is the sha256 of its body. It is stricter than Docker
Hub where the image builds could go wrong:
  - a manifest request without the bearer token for exactly its repository is answered
    401 with the challenge (``WWW-Authenticate: Bearer realm=...,service=...,scope=...``),
    and the token endpoint refuses a request without that service and scope;
  - a manifest request must accept the multi-platform index types (else 406: Docker Hub
    would answer with one platform's manifest, whose digest is not the one to pin);
  - an unknown repository or tag is 404 MANIFEST_UNKNOWN.
Every request is recorded in ``REQUESTS`` (method, path).

``url()`` starts it once per process, on a free port of this machine, in a daemon thread.
"""

from __future__ import annotations

import hashlib
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from alarm import images

REPO = Path(__file__).resolve().parents[2]
SERVICE = "registry.double"
INDEX = "application/vnd.oci.image.index.v1+json"
REQUESTS: list[tuple[str, str]] = []
_server: ThreadingHTTPServer | None = None


def index(tag: str) -> bytes:
    """The manifest the double serves for ``tag`` (its digest is what a build pins)."""
    return json.dumps(
        {"schemaVersion": 2, "mediaType": INDEX, "manifests": [], "tag": tag}
    ).encode()


def digest(tag: str) -> str:
    """The digest of ``tag`` (``repository:tag``, e.g. ``nvidia/cuda:13.0.1-base-...``)."""
    return f"sha256:{hashlib.sha256(index(tag)).hexdigest()}"


def served_tags() -> dict[str, set[str]]:
    """``{repository: {tag}}`` of the bases the checkout's definitions name."""
    tags: dict[str, set[str]] = {}
    for definition in sorted((REPO / "containers").glob("*.def")):
        _, tag = images.base_of(definition.read_text())
        name, ref = tag.rsplit(":", 1)
        tags.setdefault(name if "/" in name else f"library/{name}", set()).add(ref)
    return tags


class _Handler(BaseHTTPRequestHandler):
    tags = served_tags()

    def log_message(self, *args) -> None:
        pass

    def _answer(self, code: int, body: bytes = b"", **headers: str) -> None:
        self.send_response(code)
        for key, value in headers.items():
            self.send_header(key.replace("_", "-"), value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, code: int, error: str, **headers: str) -> None:
        body = json.dumps({"errors": [{"code": error, "message": error.lower()}]}).encode()
        self._answer(code, body, Content_Type="application/json", **headers)

    def do_GET(self) -> None:
        REQUESTS.append((self.command, self.path))
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/token":
            query = dict(urllib.parse.parse_qsl(url.query))
            scope = query.get("scope", "")
            if query.get("service") != SERVICE or not scope.endswith(":pull"):
                return self._error(400, "BAD_TOKEN_REQUEST")
            repository = scope.removeprefix("repository:").removesuffix(":pull")
            body = json.dumps({"token": f"token-for-{repository}"}).encode()
            return self._answer(200, body, Content_Type="application/json")
        parts = url.path.split("/")
        if len(parts) < 5 or parts[:2] != ["", "v2"] or parts[-2] != "manifests":
            return self._error(404, "NOT_FOUND")
        repository, ref = "/".join(parts[2:-2]), parts[-1]
        if self.headers.get("Authorization") != f"Bearer token-for-{repository}":
            host = self.headers["Host"]
            challenge = (
                f'Bearer realm="http://{host}/token",service="{SERVICE}",'
                f'scope="repository:{repository}:pull"'
            )
            return self._error(401, "UNAUTHORIZED", WWW_Authenticate=challenge)
        if INDEX not in self.headers.get("Accept", ""):
            return self._error(406, "MANIFEST_INVALID")
        if ref not in self.tags.get(repository, ()):
            return self._error(404, "MANIFEST_UNKNOWN")
        body = index(f"{repository}:{ref}")
        sha = f"sha256:{hashlib.sha256(body).hexdigest()}"
        self._answer(200, body, Content_Type=INDEX, Docker_Content_Digest=sha)

    do_HEAD = do_GET


def url() -> str:
    """The double's URL (started on first use), for ALARM_DOCKER_HUB."""
    global _server
    if _server is None:
        _server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        threading.Thread(target=_server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{_server.server_address[1]}"
