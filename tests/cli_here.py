"""Run `icb-assistant ARGS` in this process, as a user's shell would run it in a new one.

A new Python for each command costs 2-4 s (Chroma, onnxruntime, LangChain imported again); most CLI
tests are about what a command prints, its exit code and the files it writes, which do not need a
process of their own. :func:`run_cli_here` calls ``assistant.cli.main()`` itself, so the exit code
comes from the same mapping of failures to 0/1/2 that the installed command uses, with:

- the environment of a fresh process: no ``ICB_ASSISTANT_*`` but ``ICB_ASSISTANT_HOME`` and ``env``,
  and whatever the command sets in ``os.environ`` undone afterwards;
- standard input a pipe-like stream (``input``, not a terminal), standard output and error captured
  apart;
- new rich consoles, made after ``env`` is in force, so ``COLUMNS`` sets their width as it does
  for a new process;
- the process's umask restored (``main()`` sets 0o077 for what the assistant writes).

What really needs a process (a password read from a real pipe and never echoed, ``--help`` importing
nothing heavy) keeps a subprocess test of its own.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path


class _Stdin(io.StringIO):
    """Standard input piped in: readable, never a terminal."""

    def isatty(self) -> bool:
        return False


def run_cli_here(*args: str, home: Path, env: dict | None = None, input: str = "", **_ignored) -> subprocess.CompletedProcess:
    """``icb-assistant ARGS`` with ``ICB_ASSISTANT_HOME=home``; the same result as ``tests.test_cli.run_cli``."""
    from rich.console import Console

    import assistant.cli as cli

    saved_environ = dict(os.environ)
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    saved_argv = sys.argv
    saved_consoles = cli.console, cli.errors
    saved_umask = os.umask(0o022)
    os.umask(saved_umask)
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        for name in [n for n in os.environ if n.startswith("ICB_ASSISTANT_")]:
            del os.environ[name]
        os.environ["ICB_ASSISTANT_HOME"] = str(home)
        os.environ.update(env or {})
        sys.stdin, sys.stdout, sys.stderr = _Stdin(input), out, err
        sys.argv = ["icb-assistant", *args]
        cli.console, cli.errors = Console(), Console(stderr=True)
        try:
            cli.main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        cli.console, cli.errors = saved_consoles
        sys.argv = saved_argv
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        os.environ.clear()
        os.environ.update(saved_environ)
        os.umask(saved_umask)
    return subprocess.CompletedProcess(["icb-assistant", *args], code, out.getvalue(), err.getvalue())
