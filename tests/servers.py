"""Real processes on 127.0.0.1 for the slow tests: the web app (`icb-assistant ui`) and a Chroma server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from assistant.local_model import free_port
from tests.conftest import CORPUS, REPO


def clean_environment(**extra: str) -> dict:
    """This process's environment without any ICB_ASSISTANT_* setting, plus ``extra``."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ICB_ASSISTANT_")}
    environment.update(PYTHONUNBUFFERED="1", **extra)
    return environment


class App:
    def __init__(self, home: Path, corpus: Path, env: dict | None = None, backend: str = "extractive"):
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        environment = clean_environment(ICB_ASSISTANT_HOME=str(home), ICB_ASSISTANT_CORPUS_DIR=str(corpus))
        environment.update(env or {})
        self.log_path = home.parent / f"ui-{self.port}.log"
        self.log = self.log_path.open("w")
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "ui", "--port", str(self.port), "--backend", backend],
            env=environment, stdout=self.log, stderr=subprocess.STDOUT, cwd=REPO,
        )
        self.ready_s = self.wait_ready()

    def wait_ready(self, timeout: float = 600) -> float:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the app exited ({self.process.returncode}):\n{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as response:
                    if response.status == 200:
                        return time.perf_counter() - self.started
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"the app did not answer within {timeout} s:\n{self.log_path.read_text()}")

    def wait_for_log(self, text: str, timeout: float = 300) -> float:
        """Seconds from start until the app's log says ``text``."""
        deadline = time.perf_counter() + timeout
        while text not in self.log_path.read_text():
            if time.perf_counter() > deadline or self.process.poll() is not None:
                raise AssertionError(f"the app never logged {text!r}:\n{self.log_path.read_text()}")
            time.sleep(0.1)
        return time.perf_counter() - self.started

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def build_index(home: Path, corpus: Path, env: dict | None = None, timeout: float = 900) -> None:
    """`icb-assistant index` for ``home`` (real embeddings), as the app would find it."""
    environment = clean_environment(ICB_ASSISTANT_HOME=str(home), ICB_ASSISTANT_CORPUS_DIR=str(corpus), **(env or {}))
    done = subprocess.run([sys.executable, "-m", "assistant.cli", "index"], env=environment, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"`icb-assistant index` failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def small_corpus(folder: Path, names: list[str]) -> Path:
    folder.mkdir(parents=True)
    for name in names:
        shutil.copy(CORPUS / name, folder / name)
    shutil.copy(CORPUS / "manifest.json", folder / "manifest.json")
    return folder


class ChromaServer:
    """`chroma run` on a free port (or a given one, to restart it in place) with its data in ``folder``."""

    def __init__(self, folder: Path, port: int | None = None):
        self.folder = Path(folder)
        self.port = port or free_port()
        self.start()

    def start(self, timeout: float = 60) -> None:
        import chromadb

        executable = Path(sys.executable).parent / "chroma"
        self.log = (self.folder / "server.log").open("ab")
        self.process = subprocess.Popen(
            [str(executable), "run", "--path", str(self.folder / "data"), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"chroma run exited: {(self.folder / 'server.log').read_text()[-2000:]}")
            try:
                chromadb.HttpClient(host="127.0.0.1", port=self.port).heartbeat()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
