"""Sharing one local model server between app workers (fast: no model is loaded)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assistant.local_model import LocalModelServer, free_port


class Models(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the http.server API
        body = json.dumps({"data": [{"id": "qwen2.5-coder-1.5b-instruct-q4_k_m"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def other_workers_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Models)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_a_server_already_on_the_shared_port_is_used_not_started(tmp_path, other_workers_server):
    server = LocalModelServer(tmp_path / "missing.gguf", tmp_path / "logs" / "local-model.log", port=other_workers_server)
    assert server.ensure_running() == f"http://127.0.0.1:{other_workers_server}/v1"
    assert server.process is None, "another worker's server should be used, not a second one started"


def test_without_a_server_on_the_port_this_worker_starts_one(tmp_path, monkeypatch):
    started = []
    server = LocalModelServer(tmp_path / "missing.gguf", tmp_path / "logs" / "local-model.log", port=free_port())
    monkeypatch.setattr(server, "_start", lambda: started.append(server.requested_port))
    server.ensure_running()
    assert started == [server.requested_port]
    assert (tmp_path / "logs" / f"local-model-{server.requested_port}.lock").is_file()
