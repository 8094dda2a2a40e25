"""Sharing one local model server between app workers (fast: no model is loaded)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assistant.local_model import LocalModelServer, _die_with_parent, free_port, launcher


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


def test_a_server_started_from_a_short_lived_thread_outlives_that_thread():
    """The UI starts the model from its warm-up thread, which then ends: the server must stay."""
    box = {}

    def warm_up():
        box["process"] = launcher.popen(["sleep", "60"], start_new_session=True, preexec_fn=_die_with_parent)

    thread = threading.Thread(target=warm_up)
    thread.start()
    thread.join()
    time.sleep(0.5)
    process = box["process"]
    try:
        assert process.poll() is None, f"the server died with the thread that started it ({process.returncode})"
    finally:
        process.kill()
        process.wait()


def test_a_server_still_dies_with_the_app_however_the_app_dies():
    app = app_source()
    parent = subprocess.Popen([sys.executable, "-c", app], stdout=subprocess.PIPE, text=True, cwd=os.getcwd())
    child = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)  # no atexit, no clean-up: only the kernel's signal
    parent.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _running(child):
        time.sleep(0.05)
    assert not _running(child), "the server outlived the app"


def app_source() -> str:
    """An app that starts a server from a thread that has ended, then waits to be killed."""
    return (
        "import subprocess, threading, time\n"
        "from assistant.local_model import launcher, _die_with_parent\n"
        "box = {}\n"
        "t = threading.Thread(target=lambda: box.update(p=launcher.popen(['sleep', '60'], start_new_session=True,"
        " preexec_fn=_die_with_parent)))\n"
        "t.start(); t.join()\n"
        "print(box['p'].pid, flush=True)\n"
        "time.sleep(60)\n"
    )


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1].split()[0] not in ("Z", "X")  # a zombie has exited
    except OSError:
        return False


def test_a_server_killed_by_an_illegal_instruction_is_logged_with_how_to_compile_it_again(tmp_path, monkeypatch):
    """A llama.cpp compiled for a CPU feature the machine refuses (AMX on a virtual machine) dies at its
    first answer; the log then says why and how to fix it, not only an exit code."""
    from types import SimpleNamespace

    log = tmp_path / "logs" / "local-model.log"
    log.parent.mkdir()
    server = LocalModelServer(tmp_path / "missing.gguf", log)
    monkeypatch.setattr(server, "_start", lambda: None)
    server.process = SimpleNamespace(returncode=-signal.SIGILL, poll=lambda: -signal.SIGILL)
    server.ensure_running()
    said = log.read_text()
    assert f"server exited with code {-signal.SIGILL} (an illegal instruction" in said and "-mno-amx-tile" in said
    server.process = SimpleNamespace(returncode=1, poll=lambda: 1)
    server.ensure_running()
    assert log.read_text().splitlines()[-1] == "[icb-assistant] server exited with code 1; restarting"
