"""A real OpenAI-compatible HTTP server on 127.0.0.1 with scripted behaviour, for tests.

It speaks just enough of ``POST /v1/chat/completions`` (streamed and not) for ChatOpenAI.
Behaviours: reply with fixed text, hang without replying, or die in the middle of a stream; with
``first_token``, a streamed reply waits for that event before its first word (a slow model).
Every request body is kept, so tests can see exactly what the model was sent.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeLLM:
    def __init__(
        self, reply: str = "The answer [1].", mode: str = "reply", rewrite: str = "",
        api_key: str | None = None, models: tuple[str, ...] | None = None, port: int = 0,
        first_token: threading.Event | None = None,
    ):
        self.reply = reply
        self.api_key = api_key  # when set, any other key gets 401, as OpenAI answers
        self.models = models  # when set, any other model name gets 404 model_not_found
        self.mode = mode  # reply | hang | die_midway
        self.rewrite = rewrite  # what a non-streamed (condense) call returns
        self.first_token = first_token  # when given, a stream sends nothing until it is set (at most 30 s)
        self.requests: list[dict] = []
        self._stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def _error(self, status: int, message: str, code: str) -> None:
                body = json.dumps({"error": {"message": message, "type": "invalid_request_error", "code": code}}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                body = json.dumps({"object": "list", "data": [{"id": "fake", "object": "model"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                request = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append(request)
                if server.api_key and self.headers.get("Authorization") != f"Bearer {server.api_key}":
                    return self._error(401, "Incorrect API key provided.", "invalid_api_key")
                if server.models and request.get("model") not in server.models:
                    return self._error(404, f"The model `{request.get('model')}` does not exist.", "model_not_found")
                if server.mode == "hang":
                    server._stop.wait(30)  # never answers within any sane timeout
                    return
                if not request.get("stream"):
                    text = server.rewrite or server.reply
                    body = json.dumps(_completion(text)).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                if server.first_token is not None:
                    server.first_token.wait(30)
                words = server.reply.split(" ")
                for i, word in enumerate(words):
                    if server.mode == "die_midway" and i == len(words) // 2:
                        self.wfile.flush()
                        self.connection.shutdown(2)  # the server "crashes" mid-answer
                        return
                    piece = word if i == 0 else " " + word
                    self.wfile.write(f"data: {json.dumps(_chunk(piece))}\n\n".encode())
                    self.wfile.flush()
                    time.sleep(0.005)
                self.wfile.write(f"data: {json.dumps(_chunk('', finish=True))}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> "FakeLLM":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def _chunk(text: str, finish: bool = False) -> dict:
    return {
        "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": "fake",
        "choices": [{"index": 0, "delta": {} if finish else {"role": "assistant", "content": text},
                     "finish_reason": "stop" if finish else None}],
    }


def _completion(text: str) -> dict:
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": "fake",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
