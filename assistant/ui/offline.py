"""Gradio, offline and quick to import: imported (by the package) before gradio is.

No analytics, no telemetry, no model hub; and the step of Gradio's import that rewrites its own
type stubs is skipped (see ``_SkipGradioStubs``).
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_TELEMETRY_ENABLED", "False")


class _SkipGradioStubs(importlib.abc.MetaPathFinder):
    """On import, Gradio re-reads and parses the source of each of its ~80 components to refresh
    their .pyi type stubs: half its import time (18 of 36 s measured on 2 busy cores). The app never
    needs the stubs, so that step becomes a no-op; nothing else about Gradio changes."""

    def find_spec(self, name, path=None, target=None):
        if name != "gradio.component_meta":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module) -> None:
            run(module)
            if hasattr(module, "create_or_modify_pyi"):
                module.create_or_modify_pyi = lambda *args, **kwargs: None

        spec.loader.exec_module = exec_module
        return spec


if "gradio" not in sys.modules:
    sys.meta_path.insert(0, _SkipGradioStubs())
